import type { Command } from "commander";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { formatDollars } from "../../amounts";
import { InvalidInputError, NetDollarError } from "../../errors";
import { action, ExitWithCode } from "../action";
import { table } from "../output";
import { addPayingSchemeOptions } from "../channels";
import { addMandateOptions } from "./mandate";
import { mandateRows, payingClientOf, receiptRows, type PayingOptions } from "../paying";
import { collect, parseCount, parseToolArguments, parseUrl } from "../parse";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require("../../x402") as typeof import("../../x402");

/** The server's tools, every page of them. */
async function listTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

/** A tool's answer in words: its text content, one line per item (other content is named, not printed). */
function textOf(result: CallToolResult): string {
  return (result.content ?? []).map((c) => (c.type === "text" ? c.text : `(${c.type} content)`)).join("\n");
}

/** Why a paid tool refused the payment, from the PaymentRequired it answered again. */
function refusalOf(result: CallToolResult): string | undefined {
  const required = lib().paymentRequiredOf(result) as ({ error?: string; message?: string } & object) | undefined;
  if (!required) return undefined;
  return required.message ? `${required.error}: ${required.message}` : (required.error ?? "it asked for payment again");
}

/** Connects to the MCP server at `<mcp-url>`, uses it, and closes the connection whatever happens. */
async function withMcpServer<T>(serverUrl: string, use: (client: Client, url: URL) => Promise<T>): Promise<T> {
  const url = parseUrl(serverUrl, "<mcp-url>");
  const client = await lib().connectMcpClient(url);
  try {
    return await use(client, url);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** `netd x402 tools` and `netd x402 call`: an MCP client in the terminal that pays for tools in NET Dollar. */
export function registerMcpClientCommands(x402: Command): void {
  x402
    .command("tools")
    .description("list an MCP server's tools and the arguments each takes (over streamable HTTP)")
    .argument("<mcp-url>", "the MCP endpoint, e.g. http://127.0.0.1:4071/mcp")
    .addHelpText(
      "after",
      "\nA paid tool says its price when it is called: netd x402 call pays it within --max.\n\nExample:\n  $ netd x402 tools http://127.0.0.1:4071/mcp",
    )
    .action(
      action((ctx) => async (serverUrl: string) => {
        await withMcpServer(serverUrl, async (client, url) => {
          const tools = await listTools(client);
          const server = client.getServerVersion();
          const argsOf = (t: Tool) =>
            Object.entries((t.inputSchema.properties ?? {}) as Record<string, { type?: string }>)
              .map(([name, p]) => `${name}${t.inputSchema.required?.includes(name) ? "" : "?"}: ${p.type ?? "any"}`)
              .join(", ");
          ctx.out.result(
            [
              `${tools.length} tool${tools.length === 1 ? "" : "s"} on ${url} (${server?.name ?? "unnamed server"} ${server?.version ?? ""})`.trimEnd(),
              ...table(tools.map((t) => [t.name, [t.description ?? "", argsOf(t) ? `(${argsOf(t)})` : ""].filter(Boolean).join(" ")])),
            ],
            { command: "x402 tools", url: url.toString(), server: server ?? null, tools },
          );
        });
      }),
    );

  addPayingSchemeOptions(addMandateOptions(x402.command("call")))
    .description("call a tool on an MCP server, paying its x402 price in NET Dollar with the configured key; prints its answer and the receipt")
    .argument("<mcp-url>", "the MCP endpoint, e.g. http://127.0.0.1:4071/mcp")
    .argument("<tool>", "the tool's name (netd x402 tools lists them)")
    .option("--arg <name=value>", "one argument, converted to the type the tool's schema gives it (repeatable)", collect, [])
    .option("--args <json>", "the arguments as one JSON object (each --arg then sets one of them)")
    .option("--max <dollars>", "the most to pay per call (refuses anything dearer without signing)", "0.10")
    .option("--count <n>", "call it n times (over one channel, with batch-settlement: one deposit, then a voucher per call)", "1")
    .addHelpText(
      "after",
      "\nExit codes: 0 answered (every call), 1 the tool failed or the server refused the payment, 2 bad input, or the price is above --max\n" +
        "or outside the mandate (nothing signed).\n\nExamples:\n" +
        "  $ netd x402 call http://127.0.0.1:4071/mcp forecast --arg city=Lisbon --max 0.01\n" +
        "  $ netd x402 call http://127.0.0.1:4071/mcp joke --max 0.001 --scheme batch-settlement --deposit 0.02 --count 10\n" +
        '  $ netd x402 call http://127.0.0.1:4071/mcp forecast --args \'{"city":"Porto"}\' --mandate mandate.sdjwt --agent-key agent.jwk',
    )
    .action(
      action((ctx) => async (serverUrl: string, name: string, options: PayingOptions & { arg: string[]; args?: string; count: string }) => {
        const count = parseCount(options.count, "--count", 100_000);
        const { client: paying, mandate, scheme } = await payingClientOf(ctx, options);
        await withMcpServer(serverUrl, async (client, url) => {
          const tool = (await listTools(client)).find((t) => t.name === name);
          if (!tool) throw new InvalidInputError(`${url} has no tool "${name}"`, { details: "netd x402 tools lists them; nothing was paid" });
          const args = parseToolArguments(name, tool.inputSchema as never, options.args, options.arg);
          const agent = new (lib().PayingMcpClient)(client, paying);
          const results: CallToolResult[] = [];
          const started = Date.now();
          for (let i = 0; i < count; i++) {
            let result: CallToolResult;
            try {
              result = await agent.callTool({ name, arguments: args });
            } catch (error) {
              const before = paying.payments.length ? `the ${results.length} call(s) before it were answered` : "nothing was signed or paid";
              if (error instanceof NetDollarError) throw new InvalidInputError(error.shortMessage, { details: before });
              throw new NetDollarError(`${name} on ${url} could not be called: ${(error as Error).message}`, { details: before });
            }
            results.push(result);
            if (result.isError) break;
          }
          const last = results.at(-1)!;
          const payment = paying.payments.at(-1);
          const refused = refusalOf(last);
          const receipt: [string, string][] = payment
            ? [...receiptRows(payment), ["payer", payment.payer], ["network", payment.network], ...mandateRows(mandate, payment)]
            : [["paid", "nothing (the tool did not ask for payment)"]];
          const answered = results.filter((r) => !r.isError).length;
          if (count > 1) {
            const settled = paying.payments.filter((p) => p.status === "settled");
            const paid = settled.reduce((sum, p) => sum + p.amount, 0n);
            const deposited = paying.payments.reduce((sum, p) => sum + (p.deposit ?? 0n), 0n);
            const seconds = (Date.now() - started) / 1000;
            ctx.out.result(
              [
                `${count} calls to ${name} on ${url}: ${answered} answered in ${seconds.toFixed(1)} s`,
                ...table([
                  ["paid", `${formatDollars(paid)} in ${settled.length} payment${settled.length === 1 ? "" : "s"} (${scheme})`],
                  ...(deposited > 0n
                    ? ([["deposited", `${formatDollars(deposited)} into channel ${settled[0]?.nonce ?? "(none)"}`]] as [string, string][])
                    : []),
                  ...(answered < count ? ([["stopped", refused ? `the server refused the payment: ${refused}` : textOf(last)]] as [string, string][]) : []),
                  ...mandateRows(mandate),
                ]),
              ],
              { command: "x402 call", url: url.toString(), tool: name, count, answered, paid, deposited, payments: settled.length, seconds },
            );
          } else if (ctx.out.json) {
            ctx.out.result([], { command: "x402 call", url: url.toString(), tool: name, arguments: args, result: last, payment: payment ?? null });
          } else if (refused) {
            ctx.out.note([`the server refused the payment: ${refused}`, "", ...table(receipt)].join("\n"));
          } else {
            const text = textOf(last);
            process.stdout.write(text.endsWith("\n") || !text ? text : `${text}\n`);
            ctx.out.note(["", last.isError ? "the tool answered with an error" : "answered", ...table(receipt)].join("\n"));
          }
          if (answered !== count) throw new ExitWithCode(1);
        });
      }),
    );
}
