import type { Command } from "commander";
import { formatDollars, parseAmount } from "../../amounts";
import { InvalidInputError } from "../../errors";
import { BatchSettlement__factory } from "../../../typechain-types";
import type { ChannelRecord } from "../../x402";
import type { CliContext } from "../context";
import { action } from "../action";
import { table } from "../output";
import { runWrite } from "../write";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require("../../x402") as typeof import("../../x402");

const STATE_OPTION = ["--state <dir>", "where the channels' state is kept (as for netd pay)", ".netd/channels"] as const;

/** The channel a payer opened (its state file), by id. */
async function findChannel(ctx: CliContext, id: string, stateDir: string): Promise<ChannelRecord> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new InvalidInputError(`"${id}" is not a channel id (32 bytes of hex)`);
  const wallet = new (lib().ChannelWallet)({ signer: await ctx.signer(), deposit: 1n, stateDir });
  const record = wallet.stored().find((r) => r.channelId === id.toLowerCase());
  if (!record)
    throw new InvalidInputError(`no channel ${id} in ${stateDir}`, {
      details: "netd channel status lists the channels kept there; --state names another directory",
    });
  return record;
}

/** status, refund, withdraw and finalize: the payer's side of its payment channels (batch-settlement). */
export function registerChannelCommands(program: Command): void {
  const channel = program.command("channel").description("your payment channels (x402 batch-settlement): state, cooperative refund, timed withdrawal");

  channel
    .command("status")
    .description("list the channels kept in the state directory, with what is on chain: balance, claimed, a pending withdrawal")
    .option(...STATE_OPTION)
    .addHelpText("after", "\nExample:\n  $ netd channel status --state .netd/channels")
    .action(
      action((ctx) => async (options: { state: string }) => {
        const { address } = await ctx.channels();
        const provider = await ctx.provider();
        const wallet = new (lib().ChannelWallet)({ signer: await ctx.signer(), deposit: 1n, stateDir: options.state });
        const records = wallet.stored();
        const rows = await Promise.all(
          records.map(async (r) => {
            const chain = await lib().readChannelState(provider, address, r.channelId);
            return { ...r, chain, finalizeAfter: chain.withdrawRequestedAt ? chain.withdrawRequestedAt + r.config.withdrawDelay : 0 };
          }),
        );
        const lines =
          rows.length === 0
            ? [`no channels in ${options.state}`]
            : rows.flatMap((r) => [
                `channel ${r.channelId}`,
                ...table([
                  ["receiver", r.config.receiver],
                  ["balance", `${formatDollars(r.chain.balance)} on chain`],
                  ["claimed", `${formatDollars(r.chain.totalClaimed)} by the receiver (unclaimed: ${formatDollars(r.chain.balance - r.chain.totalClaimed)})`],
                  ["charged", `${formatDollars(r.charged)} as the server last reported; vouchers signed up to ${formatDollars(r.signed)}`],
                  [
                    "withdrawal",
                    r.chain.withdrawRequestedAt
                      ? `${formatDollars(r.chain.withdrawAmount)} pending, final after ${new Date(r.finalizeAfter * 1000).toISOString()}`
                      : "none",
                  ],
                ]),
                "",
              ]);
        ctx.out.result(lines, {
          command: "channel status",
          channels: rows.map((r) => ({
            channelId: r.channelId,
            receiver: r.config.receiver,
            token: r.config.token,
            balance: r.chain.balance,
            totalClaimed: r.chain.totalClaimed,
            charged: r.charged,
            signed: r.signed,
            withdrawRequestedAt: r.chain.withdrawRequestedAt,
            withdrawAmount: r.chain.withdrawAmount,
            finalizeAfter: r.finalizeAfter,
          })),
        });
      }),
    );

  channel
    .command("refund")
    .description("ask the server of a paid URL to refund your channel with it: it claims what it charged and returns the rest, in one transaction")
    .argument("<url>", "a paid route of the server (its offer names the channel)")
    .option("--amount <dollars>", "take back only this much (default everything unspent)")
    .option(...STATE_OPTION)
    .addHelpText("after", "\nExample:\n  $ netd channel refund http://127.0.0.1:4021/tick")
    .action(
      action((ctx) => async (url: string, options: { amount?: string; state: string }) => {
        try {
          new URL(url);
        } catch {
          throw new InvalidInputError(`"${url}" is not a URL`);
        }
        const amount = options.amount !== undefined ? parseAmount(options.amount, "--amount") : undefined;
        const contracts = await ctx.channels();
        const signer = await ctx.signer();
        const client = new (lib().PayingClient)({ signer, channels: { deposit: 1n, stateDir: options.state, contracts } });
        const before = await (await ctx.token()).balanceOf(signer.address);
        const { channelId, settlement } = await client.refundChannel(url, amount).catch((error: Error) => {
          throw new InvalidInputError(error.message, { details: "nothing was refunded" });
        });
        const after = await (await ctx.token()).balanceOf(signer.address);
        ctx.out.result(
          [
            `Refunded ${formatDollars(after - before)} from channel ${channelId}`,
            ...table([
              ["transaction", settlement.transaction],
              ["your balance", formatDollars(after)],
            ]),
          ],
          { command: "channel refund", channelId, transaction: settlement.transaction, refunded: after - before, balance: after },
        );
      }),
    );

  channel
    .command("withdraw")
    .description("start a timed withdrawal of everything unclaimed, without the server (final after the channel's withdraw delay)")
    .argument("<channel-id>", "the channel (netd channel status lists them)")
    .option(...STATE_OPTION)
    .addHelpText(
      "after",
      "\nThe server may still claim what it charged during the delay; then `netd channel finalize` returns the rest.\n\nExample:\n  $ netd channel withdraw 0x5c1e…",
    )
    .action(
      action((ctx) => async (id: string, options: { state: string }) => {
        const record = await findChannel(ctx, id, options.state);
        const { address } = await ctx.channels();
        const contract = BatchSettlement__factory.connect(address, await ctx.signer());
        const state = await lib().readChannelState(await ctx.provider(), address, record.channelId);
        const amount = state.balance - state.totalClaimed;
        if (amount === 0n) throw new InvalidInputError(`channel ${record.channelId} holds nothing unclaimed to withdraw`);
        await runWrite(ctx, {
          command: "channel withdraw",
          summary: `Start withdrawing ${formatDollars(amount)} from channel ${record.channelId}`,
          method: contract.initiateWithdraw,
          args: [record.config, amount],
          after: async () => {
            const [pending, at] = await contract.pendingWithdrawals(record.channelId);
            const finalizeAfter = Number(at) + record.config.withdrawDelay;
            return {
              rows: [["final after", `${new Date(finalizeAfter * 1000).toISOString()} (netd channel finalize ${record.channelId})`]],
              data: { channelId: record.channelId, amount: pending, finalizeAfter },
            };
          },
        });
      }),
    );

  channel
    .command("finalize")
    .description("finish a timed withdrawal once its delay has passed: what the server did not claim comes back to you")
    .argument("<channel-id>", "the channel")
    .option(...STATE_OPTION)
    .addHelpText("after", "\nExample:\n  $ netd channel finalize 0x5c1e…")
    .action(
      action((ctx) => async (id: string, options: { state: string }) => {
        const record = await findChannel(ctx, id, options.state);
        const { address } = await ctx.channels();
        const signer = await ctx.signer();
        const contract = BatchSettlement__factory.connect(address, signer);
        const token = await ctx.token();
        const before = await token.balanceOf(signer.address);
        await runWrite(ctx, {
          command: "channel finalize",
          summary: `Finalize the withdrawal from channel ${record.channelId}`,
          method: contract.finalizeWithdraw,
          args: [record.config],
          after: async () => {
            const balance = await token.balanceOf(signer.address);
            return {
              rows: [
                ["returned", formatDollars(balance - before)],
                ["your balance", formatDollars(balance)],
              ],
              data: { channelId: record.channelId, returned: balance - before, balance },
            };
          },
        });
      }),
    );
}
