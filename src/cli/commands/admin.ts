import type { Command } from "commander";
import { formatDollars, parseUnitsStrict } from "../../amounts";
import { parseAddress } from "../../addresses";
import { InvalidInputError } from "../../errors";
import { ROLES, ROLE_NAMES, parseRole } from "../../roles";
import { getMembers } from "../../token/status";
import { IERC20Metadata__factory } from "../../../typechain-types";
import { action } from "../action";
import { table } from "../output";
import { formatTokenAmount, runWrite } from "../write";

/** role grant|revoke|list, pause, unpause, blocklist add|remove|check, seize, rescue. */
export function registerAdminCommands(program: Command): void {
  const role = program.command("role").description("grant, revoke and list roles");

  for (const verb of ["grant", "revoke"] as const) {
    role
      .command(verb)
      .description(
        verb === "grant"
          ? "grant a role (the default admin grants every role but redeemer, which the minter admin grants)"
          : "revoke a role",
      )
      .argument("<role>", `one of: ${ROLE_NAMES.filter((r) => r !== "admin").join(", ")}`)
      .argument("<account>", "address")
      .addHelpText("after", `\nExample:\n  $ netd role ${verb} pauser 0x70997970C51812dc3A010C7d01b50e0d17dc79C8`)
      .action(
        action((ctx) => async (roleInput: string, accountInput: string) => {
          const name = parseRole(roleInput);
          if (name === "admin") {
            throw new InvalidInputError("the admin role is never granted or revoked", {
              details: "it is transferred in two steps with a delay (beginDefaultAdminTransfer, acceptDefaultAdminTransfer)",
            });
          }
          const account = parseAddress(accountInput, "account");
          const token = await ctx.tokenAsSigner();
          await runWrite(ctx, {
            command: `role ${verb}`,
            summary: `${verb === "grant" ? "Grant" : "Revoke"} ${ROLES[name].constant} ${verb === "grant" ? "to" : "from"} ${account}`,
            method: verb === "grant" ? token.grantRole : token.revokeRole,
            args: [ROLES[name].id, account],
            after: async () => {
              const holds = await token.hasRole(ROLES[name].id, account);
              return { rows: [[`holds ${name}`, holds ? "yes" : "no"]], data: { role: name, account, holds } };
            },
          });
        }),
      );
  }

  role
    .command("list")
    .description("list every role and its current holders")
    .addHelpText("after", "\nExample:\n  $ netd role list")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const { roles } = await getMembers(await ctx.token(), deployment.contracts.NetDollar.blockNumber);
        ctx.out.result(
          ROLE_NAMES.map((r) => `${r.padEnd(12)} ${roles[r].join(", ") || "(none)"}`),
          { command: "role list", roles },
        );
      }),
    );

  for (const verb of ["pause", "unpause"] as const) {
    program
      .command(verb)
      .description(verb === "pause" ? "stop every movement of value (PAUSER_ROLE)" : "resume movements of value (PAUSER_ROLE)")
      .addHelpText("after", `\nExample:\n  $ netd ${verb} --yes`)
      .action(
        action((ctx) => async () => {
          const token = await ctx.tokenAsSigner();
          await runWrite(ctx, {
            command: verb,
            summary: verb === "pause" ? "Pause the token" : "Unpause the token",
            method: verb === "pause" ? token.pause : token.unpause,
            args: [],
            after: async () => {
              const paused = await token.paused();
              return { rows: [["paused", paused ? "YES" : "no"]], data: { paused } };
            },
          });
        }),
      );
  }

  const blocklist = program.command("blocklist").description("add to, remove from and check the blocklist");
  for (const verb of ["add", "remove"] as const) {
    blocklist
      .command(verb)
      .description(verb === "add" ? "block an account from sending, receiving and spending (BLOCKLISTER_ROLE)" : "lift the block on an account")
      .argument("<account>", "address")
      .addHelpText("after", `\nExample:\n  $ netd blocklist ${verb} 0x70997970C51812dc3A010C7d01b50e0d17dc79C8`)
      .action(
        action((ctx) => async (accountInput: string) => {
          const account = parseAddress(accountInput, "account");
          const token = await ctx.tokenAsSigner();
          await runWrite(ctx, {
            command: `blocklist ${verb}`,
            summary: `${verb === "add" ? "Blocklist" : "Unblocklist"} ${account}`,
            method: verb === "add" ? token.blocklist : token.unblocklist,
            args: [account],
            after: async () => {
              const blocklisted = await token.isBlocklisted(account);
              return { rows: [["blocklisted", blocklisted ? "YES" : "no"]], data: { account, blocklisted } };
            },
          });
        }),
      );
  }
  blocklist
    .command("check")
    .description("tell whether an account is blocklisted (exit code 0 either way)")
    .argument("<account>", "address")
    .addHelpText("after", "\nExample:\n  $ netd blocklist check 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json")
    .action(
      action((ctx) => async (accountInput: string) => {
        const account = parseAddress(accountInput, "account");
        const token = await ctx.token();
        const [blocklisted, balance, symbol] = await Promise.all([token.isBlocklisted(account), token.balanceOf(account), token.symbol()]);
        ctx.out.result(
          table([
            ["account", account],
            ["blocklisted", blocklisted ? "YES" : "no"],
            ["balance", formatDollars(balance, symbol)],
          ]),
          { command: "blocklist check", account, blocklisted, balance },
        );
      }),
    );

  program
    .command("seize")
    .description("burn the whole balance of a blocklisted account (SEIZER_ROLE)")
    .argument("<account>", "blocklisted address")
    .addHelpText("after", "\nExample:\n  $ netd seize 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(
      action((ctx) => async (accountInput: string) => {
        const account = parseAddress(accountInput, "account");
        const token = await ctx.tokenAsSigner();
        const { symbol } = await ctx.decodeContext();
        const before = await token.balanceOf(account);
        await runWrite(ctx, {
          command: "seize",
          summary: `Seize the balance of ${account} (${formatDollars(before, symbol)})`,
          method: token.seize,
          args: [account],
          after: async () => {
            const [balance, totalSupply] = await Promise.all([token.balanceOf(account), token.totalSupply()]);
            return {
              rows: [
                ["seized", formatDollars(before - balance, symbol)],
                ["total supply", formatDollars(totalSupply, symbol)],
              ],
              data: { account, seized: before - balance, totalSupply },
            };
          },
        });
      }),
    );

  program
    .command("rescue")
    .description("send another ERC-20 token that was sent to the NetDollar contract by mistake (RESCUER_ROLE)")
    .argument("<token>", "address of the stuck token")
    .argument("<to>", "where to send it")
    .argument("<amount>", "amount in that token's units (its own decimals)")
    .addHelpText("after", "\nExample:\n  $ netd rescue 0xdAC17F958D2ee523a2206206994597C13D831ec7 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 12.5")
    .action(
      action((ctx) => async (tokenInput: string, toInput: string, amountInput: string) => {
        const stuckAddress = parseAddress(tokenInput, "token");
        const to = parseAddress(toInput, "receiver");
        const token = await ctx.tokenAsSigner();
        const stuck = IERC20Metadata__factory.connect(stuckAddress, await ctx.provider());
        const [decimals, symbol] = await Promise.all([stuck.decimals(), stuck.symbol()]).catch(() => {
          throw new InvalidInputError(`${stuckAddress} does not answer as an ERC-20 token`);
        });
        const amount = parseUnitsStrict(amountInput, Number(decimals), "amount", symbol);
        await runWrite(ctx, {
          command: "rescue",
          summary: `Rescue ${formatTokenAmount(amount, Number(decimals), symbol)} to ${to}`,
          method: token.rescueERC20,
          args: [stuckAddress, to, amount],
          after: async () => {
            const left = await stuck.balanceOf(await token.getAddress());
            return {
              rows: [["left in the contract", formatTokenAmount(left, Number(decimals), symbol)]],
              data: { token: stuckAddress, to, amount, left },
            };
          },
        });
      }),
    );
}
