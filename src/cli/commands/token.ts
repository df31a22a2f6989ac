import type { Command } from "commander";
import { formatDollars, parseAmount } from "../../amounts";
import { parseAddress } from "../../addresses";
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
            ...(status.minters.length
              ? status.minters.map((m) => `  ${m.address}  allowance ${formatDollars(m.allowance, s)}`)
              : ["  (none)"]),
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
          table([
            ["account", address],
            ["balance", formatDollars(balance, symbol)],
            ...(blocklisted ? ([["blocklisted", "YES"]] as [string, string][]) : []),
          ]),
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
}
