import type { Command } from "commander";
import { decodeBytes32String } from "ethers";
import { formatDollars, parseAmount } from "../../amounts";
import { parseAddress } from "../../addresses";
import { getMembers } from "../../token/status";
import { action } from "../action";
import { runWrite } from "../write";
import { parseReference } from "../parse";

function readableReference(ref: string): string {
  try {
    return decodeBytes32String(ref);
  } catch {
    return ref;
  }
}

/** mint, burn, redeem and minter configure|remove|list. */
export function registerIssuanceCommands(program: Command): void {
  program
    .command("mint")
    .description("mint NET Dollar to an account, spending the configured key's minter allowance")
    .argument("<to>", "receiving address")
    .argument("<amount>", "amount in dollars, e.g. 1000 or 0.25")
    .addHelpText("after", "\nExample:\n  $ netd mint 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 1000")
    .action(
      action((ctx) => async (toInput: string, amountInput: string) => {
        const to = parseAddress(toInput, "receiver");
        const amount = parseAmount(amountInput);
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const minter = (await ctx.signer()).address;
        await runWrite(ctx, {
          command: "mint",
          summary: `Mint ${formatDollars(amount, symbol)} to ${to}`,
          method: token.mint,
          args: [to, amount],
          after: async () => {
            const [balance, totalSupply, allowanceLeft] = await Promise.all([token.balanceOf(to), token.totalSupply(), token.minterAllowance(minter)]);
            return {
              rows: [
                ["receiver balance", formatDollars(balance, symbol)],
                ["total supply", formatDollars(totalSupply, symbol)],
                ["minter allowance left", formatDollars(allowanceLeft, symbol)],
              ],
              data: { minter, to, amount, balance, totalSupply, minterAllowance: allowanceLeft },
            };
          },
        });
      }),
    );

  program
    .command("burn")
    .description("burn NET Dollar from the configured key's own balance (minters only)")
    .argument("<amount>", "amount in dollars")
    .addHelpText("after", "\nExample:\n  $ netd burn 250")
    .action(
      action((ctx) => async (amountInput: string) => {
        const amount = parseAmount(amountInput);
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const burner = (await ctx.signer()).address;
        await runWrite(ctx, {
          command: "burn",
          summary: `Burn ${formatDollars(amount, symbol)} from ${burner}`,
          method: token.burn,
          args: [amount],
          after: async () => {
            const [balance, totalSupply] = await Promise.all([token.balanceOf(burner), token.totalSupply()]);
            return {
              rows: [
                ["balance", formatDollars(balance, symbol)],
                ["total supply", formatDollars(totalSupply, symbol)],
              ],
              data: { burner, amount, balance, totalSupply },
            };
          },
        });
      }),
    );

  program
    .command("redeem")
    .description("redeem NET Dollar for US dollars: burns from the configured key (an approved redeemer) under a reference")
    .argument("<amount>", "amount in dollars")
    .requiredOption("--reference <text>", "payout reference: up to 31 characters, or a 0x 32-byte hash")
    .addHelpText("after", '\nExample:\n  $ netd redeem 500 --reference "WIRE-2026-0042"')
    .action(
      action((ctx) => async (amountInput: string, options: { reference: string }) => {
        const amount = parseAmount(amountInput);
        const reference = parseReference(options.reference);
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const account = (await ctx.signer()).address;
        await runWrite(ctx, {
          command: "redeem",
          summary: `Redeem ${formatDollars(amount, symbol)} from ${account} under reference "${readableReference(reference)}"`,
          method: token.redeem,
          args: [amount, reference],
          after: async () => {
            const [balance, totalSupply] = await Promise.all([token.balanceOf(account), token.totalSupply()]);
            return {
              rows: [
                ["reference (bytes32)", reference],
                ["balance", formatDollars(balance, symbol)],
                ["total supply", formatDollars(totalSupply, symbol)],
              ],
              data: { account, amount, reference, balance, totalSupply },
            };
          },
        });
      }),
    );

  const minter = program.command("minter").description("configure, remove and list minters (MINTER_ADMIN_ROLE)");

  minter
    .command("configure")
    .description("make an account a minter with an allowance (replaces its current allowance)")
    .argument("<minter>", "minter address")
    .argument("<allowance>", "how much it may mint, in dollars")
    .addHelpText("after", "\nExample:\n  $ netd minter configure 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 1000000")
    .action(
      action((ctx) => async (minterInput: string, allowanceInput: string) => {
        const account = parseAddress(minterInput, "minter");
        const allowance = parseAmount(allowanceInput, "allowance");
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        await runWrite(ctx, {
          command: "minter configure",
          summary: `Configure minter ${account} with an allowance of ${formatDollars(allowance, symbol)}`,
          method: token.configureMinter,
          args: [account, allowance],
          after: async () => {
            const left = await token.minterAllowance(account);
            return { rows: [["minter allowance", formatDollars(left, symbol)]], data: { minter: account, minterAllowance: left } };
          },
        });
      }),
    );

  minter
    .command("remove")
    .description("remove a minter: it can no longer mint or burn")
    .argument("<minter>", "minter address")
    .addHelpText("after", "\nExample:\n  $ netd minter remove 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(
      action((ctx) => async (minterInput: string) => {
        const account = parseAddress(minterInput, "minter");
        const token = await ctx.tokenAsSigner();
        await runWrite(ctx, {
          command: "minter remove",
          summary: `Remove minter ${account}`,
          method: token.removeMinter,
          args: [account],
          after: async () => {
            const isMinter = await token.isMinter(account);
            return { rows: [["is minter", isMinter ? "yes" : "no"]], data: { minter: account, isMinter } };
          },
        });
      }),
    );

  minter
    .command("list")
    .description("list the current minters and their allowances")
    .addHelpText("after", "\nExample:\n  $ netd minter list --json")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const token = await ctx.token();
        const { symbol } = await ctx.decodeContext();
        const { minters } = await getMembers(token, deployment.contracts.NetDollar.blockNumber);
        ctx.out.result(minters.length ? minters.map((m) => `${m.address}  ${formatDollars(m.allowance, symbol)}`) : ["(no minters)"], {
          command: "minter list",
          minters,
        });
      }),
    );
}
