import type { Command } from "commander";
import { formatDollars } from "../../amounts";
import { InvalidInputError } from "../../errors";
import { EVENT_KIND_NAMES, getTokenEvents, parseEventKind, type TokenEvent } from "../../token/events";
import { action } from "../action";
import { collect, parseAddress, parseBlock, parseCount } from "../parse";

const AMOUNT_ARGS = new Set(["amount", "minterAllowedAmount"]);

/** One line per event: block, name, arguments (amounts in dollars), transaction. */
function describe(event: TokenEvent, symbol: string): string {
  const args = Object.entries(event.args)
    .map(([k, v]) => `${k} ${typeof v === "bigint" && AMOUNT_ARGS.has(k) ? formatDollars(v, symbol) : String(v)}`)
    .join(", ");
  return `${String(event.blockNumber).padStart(8)}  ${event.name.padEnd(22)} ${args}  (tx ${event.transactionHash})`;
}

/** `netd events`: the token's history, filtered. */
export function registerEventCommands(program: Command): void {
  program
    .command("events")
    .description("list the token's events: mints, burns, redemptions, seizures, blocklist, roles, minters, pause, admin, EIP-3009 authorizations")
    .option("--type <type>", `only this type (repeat): ${EVENT_KIND_NAMES.join(", ")}`, collect, [])
    .option("--account <address>", "only events naming this account")
    .option("--from-block <n>", "first block (default: the token's deployment block)")
    .option("--to-block <n>", "last block (default: the latest)")
    .option("--last <n>", "only the latest n events found")
    .addHelpText(
      "after",
      "\nExamples:\n  $ netd events --type mint --type redeem\n  $ netd events --account 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --last 20 --json",
    )
    .action(
      action((ctx) => async (o: { type: string[]; account?: string; fromBlock?: string; toBlock?: string; last?: string }) => {
        const kinds = o.type.map(parseEventKind);
        const account = o.account === undefined ? undefined : parseAddress(o.account, "--account");
        const last = o.last === undefined ? undefined : parseCount(o.last, "--last", 1_000_000);
        const deployment = await ctx.deployment();
        const provider = await ctx.provider();
        const head = await provider.getBlockNumber();
        const fromBlock = o.fromBlock === undefined ? deployment.contracts.NetDollar.blockNumber : parseBlock(o.fromBlock, "--from-block");
        const toBlock = o.toBlock === undefined ? head : parseBlock(o.toBlock, "--to-block");
        if (toBlock > head) throw new InvalidInputError(`--to-block ${toBlock} is after the latest block ${head}`);
        if (fromBlock > toBlock) throw new InvalidInputError(`--from-block ${fromBlock} is after --to-block ${toBlock}`);
        const progress = ctx.progress();
        const all = await getTokenEvents({
          provider,
          token: deployment.contracts.NetDollar.address,
          fromBlock,
          toBlock,
          kinds,
          account,
          onProgress: (scannedTo) => progress?.update({ fromBlock, toBlock, scannedTo }),
        });
        progress?.done();
        const events = last === undefined ? all : all.slice(-last);
        const { symbol } = await ctx.decodeContext();
        ctx.out.result(
          [
            ...events.map((e) => describe(e, symbol)),
            `${events.length.toLocaleString("en-US")} event${events.length === 1 ? "" : "s"} in blocks ${fromBlock}-${toBlock}${last !== undefined && all.length > last ? ` (latest ${last} of ${all.length})` : ""}`,
          ],
          { command: "events", fromBlock, toBlock, count: events.length, events },
        );
      }),
    );
}
