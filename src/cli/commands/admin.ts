import type { Command } from "commander";
import { formatDollars, parseUnitsStrict } from "../../amounts";
import { parseAddress } from "../parse";
import { InvalidInputError } from "../../errors";
import { ROLES, ROLE_NAMES, parseRole } from "../../roles";
import { isDevnet } from "../../deploy/deploy";
import { toIsoSeconds } from "../../attestation/document";
import { getBlocklisted, getDefaultAdminState, getMembers, type DefaultAdminState } from "../../token/status";
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
      .description(verb === "grant" ? "grant a role (the default admin grants every role but redeemer, which the minter admin grants)" : "revoke a role")
      .argument("<role>", `one of: ${ROLE_NAMES.filter((r) => r !== "admin").join(", ")}`)
      .argument("<account>", "address")
      .addHelpText("after", `\nExample:\n  $ netd role ${verb} pauser 0x70997970C51812dc3A010C7d01b50e0d17dc79C8`)
      .action(
        action((ctx) => async (roleInput: string, accountInput: string) => {
          const name = parseRole(roleInput);
          if (name === "admin") {
            throw new InvalidInputError("the admin role is never granted or revoked", {
              details: "it is transferred in two steps with a delay: `netd admin transfer <account>`, then the new admin runs `netd admin accept`",
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

  registerDefaultAdminCommands(program);

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
    .command("list")
    .description("list every account blocklisted now, from the token's events since its deployment")
    .addHelpText("after", "\nExample:\n  $ netd blocklist list --json")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const token = await ctx.token();
        const { symbol } = await ctx.decodeContext();
        const accounts = await getBlocklisted(token, deployment.contracts.NetDollar.blockNumber);
        ctx.out.result(
          accounts.length
            ? table(accounts.map((a) => [a.account, `balance ${formatDollars(a.balance, symbol)}, since block ${a.sinceBlock}`]))
            : ["no account is blocklisted"],
          { command: "blocklist list", accounts },
        );
      }),
    );

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

/** `netd admin show|transfer|accept|cancel`: the default admin moves in two steps, with the token's delay between them. */
function registerDefaultAdminCommands(program: Command): void {
  const admin = program.command("admin").description("show and transfer the default admin (two steps: transfer, then accept after the delay)");
  const iso = toIsoSeconds;

  admin
    .command("show")
    .description("show the default admin, the transfer delay and any pending transfer")
    .addHelpText("after", "\nExample:\n  $ netd admin show")
    .action(
      action((ctx) => async () => {
        const state = await getDefaultAdminState(await ctx.token());
        ctx.out.result(table(adminRows(state, iso)), { command: "admin show", ...state });
      }),
    );

  admin
    .command("transfer")
    .description("as the default admin, start handing the role to a new account (it accepts after the delay)")
    .argument("<account>", "the new default admin")
    .addHelpText(
      "after",
      "\nExample:\n  $ netd admin transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n  then, after the delay, as that account: netd admin accept",
    )
    .action(
      action((ctx) => async (accountInput: string) => {
        const account = parseAddress(accountInput, "account");
        const token = await ctx.tokenAsSigner();
        const delay = await token.defaultAdminDelay();
        await runWrite(ctx, {
          command: "admin transfer",
          summary: `Begin transferring the default admin role to ${account} (acceptable after ${delay} s)`,
          method: token.beginDefaultAdminTransfer,
          args: [account],
          after: async () => {
            const state = await getDefaultAdminState(token);
            return { rows: adminRows(state, iso), data: { ...state } };
          },
        });
        ctx.out.note(`next: after the delay, the new admin runs \`netd admin accept\` with its own key`);
      }),
    );

  admin
    .command("accept")
    .description("as the pending admin, take the default admin role once the delay has passed")
    .addHelpText("after", "\nExample:\n  $ netd --keystore keys/new-admin.json admin accept")
    .action(
      action((ctx) => async () => {
        const token = await ctx.tokenAsSigner();
        const me = (await ctx.signer()).address;
        const state = await getDefaultAdminState(token);
        if (state.pending === null)
          throw new InvalidInputError("no default admin transfer is pending", { details: "the current admin starts one with `netd admin transfer <account>`" });
        if (state.pending.account.toLowerCase() !== me.toLowerCase()) {
          throw new InvalidInputError(`the pending admin is ${state.pending.account}, not the configured key ${me}`, {
            details: "sign with the pending admin's key (--keystore or NETD_PRIVATE_KEY)",
          });
        }
        const after = state.pending.acceptableAfter;
        // The contract wants block.timestamp > acceptableAfter, and simulation runs on the latest block: an automining
        // devnet (delay 0) has none after it until something is sent. There, and only there, when the schedule is at
        // most a second ahead of the wall clock, mine one block just after it; never move time on any other chain.
        const wallClock = BigInt(Math.floor(Date.now() / 1000));
        if (state.now <= after && after < wallClock + 2n && isDevnet(await ctx.chainId())) {
          const at = wallClock > after ? wallClock : after + 1n;
          await (await ctx.provider()).send("evm_mine", [Number(at)]);
          state.now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
        }
        if (state.now <= state.pending.acceptableAfter) {
          throw new InvalidInputError(`the transfer can be accepted only after ${iso(state.pending.acceptableAfter)} (chain time now ${iso(state.now)})`, {
            details: `wait ${state.pending.acceptableAfter - state.now + 1n} s more, then run \`netd admin accept\` again`,
          });
        }
        await runWrite(ctx, {
          command: "admin accept",
          summary: `Accept the default admin role as ${me}`,
          method: token.acceptDefaultAdminTransfer,
          args: [],
          after: async () => {
            const after = await getDefaultAdminState(token);
            return { rows: [["default admin", after.admin]], data: { ...after } };
          },
        });
      }),
    );

  admin
    .command("cancel")
    .description("as the default admin, cancel a pending transfer")
    .addHelpText("after", "\nExample:\n  $ netd admin cancel")
    .action(
      action((ctx) => async () => {
        const token = await ctx.tokenAsSigner();
        const state = await getDefaultAdminState(token);
        if (state.pending === null) throw new InvalidInputError("no default admin transfer is pending: nothing to cancel");
        await runWrite(ctx, {
          command: "admin cancel",
          summary: `Cancel the pending transfer of the default admin role to ${state.pending.account}`,
          method: token.cancelDefaultAdminTransfer,
          args: [],
          after: async () => {
            const after = await getDefaultAdminState(token);
            return { rows: [["pending transfer", after.pending ? after.pending.account : "none"]], data: { ...after } };
          },
        });
      }),
    );
}

function adminRows(state: DefaultAdminState, iso: (t: bigint) => string): [string, string][] {
  return [
    ["default admin", state.admin],
    ["transfer delay", `${state.delay} s`],
    ["pending transfer", state.pending ? `to ${state.pending.account}, acceptable after ${iso(state.pending.acceptableAfter)}` : "none"],
    ...(state.pendingDelay
      ? ([["pending delay change", `${state.pendingDelay.delay} s from ${iso(state.pendingDelay.effectiveAt)}`]] as [string, string][])
      : []),
  ];
}
