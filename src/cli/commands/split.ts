import type { Command } from "commander";
import { RevenueSplitFactory__factory, RevenueSplit__factory } from "../../../typechain-types";
import { formatDollars } from "../../amounts";
import { InvalidInputError } from "../../errors";
import { getSplitStatus, predictSplitAddress, splitDefinition } from "../../splits";
import { action } from "../action";
import { table } from "../output";
import { parseAddress, parseCount, parseSplitShares } from "../parse";
import { runWrite } from "../write";

function statusRows(s: Awaited<ReturnType<typeof getSplitStatus>>, symbol: string): string[] {
  return [
    ...table([
      ["split", s.address],
      ["holds", formatDollars(s.balance, symbol)],
      ["credited", `${formatDollars(s.credited, symbol)} (waiting for recipients the token refused to withdraw)`],
      ["to distribute", formatDollars(s.distributable, symbol)],
      ["remainder to", s.definition.remainderRecipient],
      ["distributor fee", `${s.definition.distributorFeeBps / 100}%`],
    ]),
    "recipients:",
    ...s.recipients.map(
      (r) => `  ${r.account}  ${(r.shareBps / 100).toString().padStart(6)}%${r.credited ? `  credited ${formatDollars(r.credited, symbol)}` : ""}`,
    ),
  ];
}

/** `netd split create|show|distribute|withdraw`: revenue splits, the payTo that shares every payment. */
export function registerSplitCommands(program: Command): void {
  const split = program.command("split").description("revenue splits: one address that shares what it is paid between recipients");

  split
    .command("create")
    .description("create the split of these recipients and shares (or find it: its address comes from its definition alone)")
    .argument("<recipient:bps...>", "each recipient and its share in basis points, summing to 10000")
    .option("--remainder <address>", "who gets rounding leftovers (default: the largest share)")
    .option("--fee <bps>", "distributor fee in basis points, paid to whoever distributes (at most 1000)", "0")
    .addHelpText(
      "after",
      "\nExample:\n  $ netd split create 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65:7000 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc:2000 0x90F79bf6EB2c4f870365E785982E1f101E93b906:1000",
    )
    .action(
      action((ctx) => async (entries: string[], o: { remainder?: string; fee: string }) => {
        const shares = parseSplitShares(entries, "recipient");
        const definition = splitDefinition(shares, { remainderRecipient: o.remainder, distributorFeeBps: parseCount(o.fee, "--fee", 1_000, 0) });
        const factory = RevenueSplitFactory__factory.connect(await ctx.splitFactory(), await ctx.signer());
        const address = await predictSplitAddress(await factory.getAddress(), await ctx.provider(), definition);
        if ((await (await ctx.provider()).getCode(address)) !== "0x") {
          ctx.out.result([`The split already exists at ${address}: nothing to send`], {
            command: "split create",
            split: address,
            created: false,
            ...definition,
          });
          return;
        }
        await runWrite(ctx, {
          command: "split create",
          summary: `Create the split ${address} (${definition.recipients.length} recipients)`,
          method: factory.createSplit,
          args: [definition.recipients, definition.sharesBps, definition.remainderRecipient, definition.distributorFeeBps],
          after: async () => ({ rows: [["split", address]], data: { split: address, created: true, ...definition } }),
        });
        ctx.out.note(`next: use ${address} as a route's payTo, or pay it directly; \`netd split distribute ${address}\` shares what it holds`);
      }),
    );

  split
    .command("show")
    .description("show a split: its recipients and shares, what it holds, what is credited and waits for withdrawal")
    .argument("<split>", "the split's address")
    .addHelpText("after", "\nExample:\n  $ netd split show 0x5FbDB2315678afecb367f032d93F642f64180aa3 --json")
    .action(
      action((ctx) => async (input: string) => {
        const address = parseAddress(input, "split");
        const token = (await ctx.deployment()).contracts.NetDollar.address;
        const status = await getSplitStatus(address, token, await ctx.provider());
        const { symbol } = await ctx.decodeContext();
        ctx.out.result(statusRows(status, symbol), { command: "split show", ...status });
      }),
    );

  split
    .command("distribute")
    .description("pay every recipient its share of what the split holds, in one transaction (anyone may)")
    .argument("<split>", "the split's address")
    .option("--distributor <address>", "who receives the distributor fee, if the split has one (default: the configured key)")
    .addHelpText("after", "\nExample:\n  $ netd split distribute 0x5FbDB2315678afecb367f032d93F642f64180aa3")
    .action(
      action((ctx) => async (input: string, o: { distributor?: string }) => {
        const address = parseAddress(input, "split");
        const token = (await ctx.deployment()).contracts.NetDollar.address;
        const provider = await ctx.provider();
        const { symbol } = await ctx.decodeContext();
        const before = await getSplitStatus(address, token, provider);
        if (before.distributable === 0n)
          throw new InvalidInputError(`the split ${address} has nothing to distribute`, {
            details: `it holds ${formatDollars(before.balance, symbol)}, all of it credited`,
          });
        const distributor = o.distributor ? parseAddress(o.distributor, "--distributor") : (await ctx.signer()).address;
        const contract = RevenueSplit__factory.connect(address, await ctx.signer());
        await runWrite(ctx, {
          command: "split distribute",
          summary: `Distribute ${formatDollars(before.distributable, symbol)} from the split ${address} to ${before.recipients.length} recipients`,
          method: contract.distribute,
          args: [token, distributor],
          after: async () => {
            const after = await getSplitStatus(address, token, provider);
            const newlyCredited = after.recipients.filter((r, i) => r.credited > before.recipients[i].credited);
            return {
              rows: [
                ["distributed", formatDollars(before.distributable, symbol)],
                ["left to distribute", formatDollars(after.distributable, symbol)],
                ...newlyCredited.map((r): [string, string] => ["credited", `${r.account} (the token refused it: it withdraws later)`]),
              ],
              data: { split: address, distributed: before.distributable, credited: newlyCredited.map((r) => r.account) },
            };
          },
        });
      }),
    );

  split
    .command("withdraw")
    .description("pay a recipient what the split credited to it (anyone may; the money goes to the recipient only)")
    .argument("<split>", "the split's address")
    .argument("<recipient>", "the credited recipient")
    .addHelpText("after", "\nExample:\n  $ netd split withdraw 0x5FbDB2315678afecb367f032d93F642f64180aa3 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc")
    .action(
      action((ctx) => async (input: string, recipientInput: string) => {
        const address = parseAddress(input, "split");
        const recipient = parseAddress(recipientInput, "recipient");
        const token = (await ctx.deployment()).contracts.NetDollar.address;
        const { symbol } = await ctx.decodeContext();
        const contract = RevenueSplit__factory.connect(address, await ctx.signer());
        const owed = await contract.credited(token, recipient);
        await runWrite(ctx, {
          command: "split withdraw",
          summary: `Pay ${recipient} the ${formatDollars(owed, symbol)} the split ${address} credited to it`,
          method: contract.withdraw,
          args: [token, recipient],
          after: async () => ({
            rows: [["still credited", formatDollars(await contract.credited(token, recipient), symbol)]],
            data: { split: address, recipient, withdrawn: owed },
          }),
        });
      }),
    );
}
