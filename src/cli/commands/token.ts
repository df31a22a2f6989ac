import type { Command } from "commander";
import { MaxUint256 } from "ethers";
import { formatDollars } from "../../amounts";
import { parseAddress, parseAmount } from "../parse";
import { InvalidInputError } from "../../errors";
import { getTokenStatus } from "../../token/status";
import { ROLE_NAMES } from "../../roles";
import { action } from "../action";
import { table } from "../output";
import { runWrite } from "../write";

export function registerTokenCommands(program: Command): void {
  program
    .command("status")
    .description("show the token: supply, pause, implementation, minters with allowances, role holders")
    .addHelpText("after", "\nExample:\n  $ netd status --rpc-url http://127.0.0.1:8545")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const status = await getTokenStatus(await ctx.token(), deployment.contracts.NetDollar.blockNumber);
        const s = status.symbol;
        ctx.out.result(
          [
            ...table([
              ["token", `${status.name} (${status.symbol}), ${status.decimals} decimals, EIP-712 version ${status.version}`],
              ["contract", `${status.contract} (${status.contract === "NetDollarV2" ? "version 2: minting held to the attested reserves" : "version 1"})`],
              ["address", status.address],
              ["implementation", status.implementation],
              ["chain", String(deployment.chainId)],
              ["total supply", formatDollars(status.totalSupply, s)],
              ["paused", status.paused ? "YES" : "no"],
              [
                "reserve guard",
                status.reserveGuard === null
                  ? "n/a (version 1)"
                  : /^0x0{40}$/.test(status.reserveGuard.oracle)
                    ? "off"
                    : `on: oracle ${status.reserveGuard.oracle}, max age ${status.reserveGuard.maxAge} s, buffer ${status.reserveGuard.bufferBps} bps`,
              ],
              ["default admin", status.defaultAdmin],
            ]),
            "minters:",
            ...(status.minters.length ? status.minters.map((m) => `  ${m.address}  allowance ${formatDollars(m.allowance, s)}`) : ["  (none)"]),
            "roles:",
            ...ROLE_NAMES.map((r) => `  ${r.padEnd(12)} ${status.roles[r].join(", ") || "(none)"}`),
          ],
          { command: "status", chainId: deployment.chainId, ...status },
        );
      }),
    );

  program
    .command("balance")
    .description("show the balance of an account (default: the configured key's)")
    .argument("[account]", "address to look up")
    .addHelpText("after", "\nExample:\n  $ netd balance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(
      action((ctx) => async (account?: string) => {
        const address = account !== undefined ? parseAddress(account, "account") : (await ctx.signer()).address;
        const token = await ctx.token();
        const [balance, symbol, blocklisted] = await Promise.all([token.balanceOf(address), token.symbol(), token.isBlocklisted(address)]);
        ctx.out.result(
          table([["account", address], ["balance", formatDollars(balance, symbol)], ...(blocklisted ? ([["blocklisted", "YES"]] as [string, string][]) : [])]),
          { command: "balance", account: address, balance, blocklisted },
        );
      }),
    );

  program
    .command("transfer")
    .description("send NET Dollar from the configured key to an account")
    .argument("<to>", "receiving address")
    .argument("<amount>", "amount in dollars, e.g. 12.50 (at most 6 decimals)")
    .addHelpText("after", "\nExample:\n  $ netd transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 12.50")
    .action(
      action((ctx) => async (toInput: string, amountInput: string) => {
        const to = parseAddress(toInput, "receiver");
        const amount = parseAmount(amountInput);
        if (amount === 0n) throw new InvalidInputError("a transfer of 0 moves nothing: give an amount above zero");
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const from = (await ctx.signer()).address;
        await runWrite(ctx, {
          command: "transfer",
          summary: `Transfer ${formatDollars(amount, symbol)} from ${from} to ${to}`,
          method: token.transfer,
          args: [to, amount],
          after: async () => {
            const [fromBalance, toBalance] = await Promise.all([token.balanceOf(from), token.balanceOf(to)]);
            return {
              rows: [
                ["sender balance", formatDollars(fromBalance, symbol)],
                ["receiver balance", formatDollars(toBalance, symbol)],
              ],
              data: { from, to, amount, fromBalance, toBalance },
            };
          },
        });
      }),
    );

  program
    .command("allowance")
    .description("show how much a spender may take from an owner's balance")
    .argument("<owner>", "address whose NET Dollar may be spent")
    .argument("<spender>", "address allowed to spend")
    .addHelpText("after", "\nExample:\n  $ netd allowance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")
    .action(
      action((ctx) => async (ownerInput: string, spenderInput: string) => {
        const owner = parseAddress(ownerInput, "owner");
        const spender = parseAddress(spenderInput, "spender");
        const token = await ctx.token();
        const [allowance, balance, symbol] = await Promise.all([token.allowance(owner, spender), token.balanceOf(owner), token.symbol()]);
        ctx.out.result(
          table([
            ["owner", owner],
            ["spender", spender],
            ["allowance", allowance === MaxUint256 ? "unlimited" : formatDollars(allowance, symbol)],
            ["owner balance", formatDollars(balance, symbol)],
          ]),
          { command: "allowance", owner, spender, allowance, balance },
        );
      }),
    );

  program
    .command("approve")
    .description("allow a spender to take up to an amount from the configured key's balance (0 revokes)")
    .argument("<spender>", "address allowed to spend")
    .argument("<amount>", "amount in dollars, 0 to revoke, or `unlimited`")
    .addHelpText(
      "after",
      "\nExamples:\n  $ netd approve 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 25\n  $ netd approve 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0   (revoke)",
    )
    .action(
      action((ctx) => async (spenderInput: string, amountInput: string) => {
        const spender = parseAddress(spenderInput, "spender");
        const amount = amountInput.trim().toLowerCase() === "unlimited" ? MaxUint256 : parseAmount(amountInput);
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const owner = (await ctx.signer()).address;
        const shown = (v: bigint) => (v === MaxUint256 ? "an unlimited amount" : formatDollars(v, symbol));
        const current = await token.allowance(owner, spender);
        if (current !== 0n && amount !== 0n && current !== amount) {
          ctx.out.note(
            `note: ${spender} may already take ${shown(current)}; a spender watching the mempool could spend that before this lands (set 0 first to be safe)`,
          );
        }
        await runWrite(ctx, {
          command: "approve",
          summary: amount === 0n ? `Revoke the allowance of ${spender} over ${owner}` : `Allow ${spender} to take ${shown(amount)} from ${owner}`,
          method: token.approve,
          args: [spender, amount],
          after: async () => {
            const allowance = await token.allowance(owner, spender);
            return { rows: [["allowance", allowance === MaxUint256 ? "unlimited" : formatDollars(allowance, symbol)]], data: { owner, spender, allowance } };
          },
        });
      }),
    );
}
