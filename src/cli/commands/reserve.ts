import type { Command } from "commander";
import { NetDollarV2__factory, ReserveOracle__factory, type NetDollar } from "../../../typechain-types";
import { formatDollars } from "../../amounts";
import { toIsoSeconds } from "../../attestation";
import { InvalidInputError } from "../../errors";
import { getReserveGuardStatus, getRoleHolders } from "../../token/status";
import { action } from "../action";
import type { CliContext } from "../context";
import { table } from "../output";
import { parseAddress, parseDuration } from "../parse";
import { runWrite, type ResultingState } from "../write";

/** `netd reserve …`: the token's reserve guard and its ReserveOracle's attestors. */
export function registerReserveCommands(program: Command): void {
  const reserve = program.command("reserve").description("the token's reserve guard and its ReserveOracle's attestors");

  async function guardedToken(ctx: CliContext) {
    const deployment = await ctx.deployment();
    const token = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, await ctx.signer());
    try {
      await token.reserveGuard();
    } catch {
      throw new InvalidInputError("the token is version 1 (no reserve guard): upgrade it to NetDollarV2 first (docs/operator.md, Upgrading)");
    }
    return { deployment, token };
  }

  reserve
    .command("configure")
    .description("turn the reserve guard on: mints must stay within the oracle's attested reserves (default admin)")
    .option("--oracle <address>", "reserve oracle (default: the deployment's ReserveOracle)")
    .requiredOption("--max-age <duration>", "refuse to mint when the latest attestation is older than this, e.g. 35d")
    .option("--buffer-bps <bps>", "reserves kept unminted, in basis points", "0")
    .addHelpText("after", "\nExample:\n  $ netd reserve configure --max-age 35d --buffer-bps 50")
    .action(
      action((ctx) => async (o: { oracle?: string; maxAge: string; bufferBps: string }) => {
        const maxAge = parseDuration(o.maxAge, "--max-age", { requireUnit: true });
        if (maxAge === 0n || maxAge >= 2n ** 32n) throw new InvalidInputError(`--max-age "${o.maxAge}" must be between 1 second and 136 years`);
        if (!/^\d+$/.test(o.bufferBps) || Number(o.bufferBps) >= 10_000) throw new InvalidInputError(`--buffer-bps "${o.bufferBps}" must be 0 to 9999`);
        const { deployment, token } = await guardedToken(ctx);
        const oracle = o.oracle ? parseAddress(o.oracle, "--oracle") : deployment.contracts.ReserveOracle?.address;
        if (!oracle) throw new InvalidInputError("no --oracle given and the deployment has no ReserveOracle");
        await runWrite(ctx, {
          command: "reserve configure",
          summary: `Turn the reserve guard on: oracle ${oracle}, max age ${maxAge} s, buffer ${o.bufferBps} bps`,
          method: token.configureReserveGuard,
          args: [oracle, maxAge, Number(o.bufferBps)],
          after: async () => guardRows(token),
        });
      }),
    );

  reserve
    .command("disable")
    .description("turn the reserve guard off (explicit, with an event; default admin)")
    .addHelpText("after", "\nExample:\n  $ netd reserve disable")
    .action(
      action((ctx) => async () => {
        const { token } = await guardedToken(ctx);
        await runWrite(ctx, {
          command: "reserve disable",
          summary: "Turn the reserve guard OFF",
          method: token.disableReserveGuard,
          args: [],
          after: () => guardRows(token),
        });
      }),
    );

  reserve
    .command("status")
    .description("show the reserve guard, the oracle's latest attestation and the headroom for minting")
    .addHelpText("after", "\nExample:\n  $ netd reserve status --json")
    .action(
      action((ctx) => async () => {
        const { rows, data } = await guardRows(await ctx.token());
        ctx.out.result(table(rows), { command: "reserve status", ...data });
      }),
    );

  const attestor = reserve.command("attestor").description("list, authorise or remove accountants' keys on the ReserveOracle (its admin)");
  attestor
    .command("list")
    .description("list the keys authorised to publish attestations on the deployment's ReserveOracle")
    .addHelpText("after", "\nExample:\n  $ netd reserve attestor list --json")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const record = deployment.contracts.ReserveOracle;
        if (!record) throw new InvalidInputError("this deployment has no ReserveOracle; run `netd deploy` again");
        const oracle = ReserveOracle__factory.connect(record.address, await ctx.provider());
        const attestors = await getRoleHolders(oracle, await oracle.ATTESTOR_ROLE(), record.blockNumber);
        ctx.out.result(attestors.length ? attestors : ["no attestor is authorised (add one: netd reserve attestor add <address>)"], {
          command: "reserve attestor list",
          oracle: record.address,
          attestors,
        });
      }),
    );
  for (const verb of ["add", "remove"] as const) {
    attestor
      .command(verb)
      .description(verb === "add" ? "authorise an attestor" : "remove an attestor")
      .argument("<address>", "attestor address")
      .addHelpText("after", `\nExample:\n  $ netd reserve attestor ${verb} 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955`)
      .action(
        action((ctx) => async (input: string) => {
          const account = parseAddress(input, "attestor");
          const deployment = await ctx.deployment();
          const record = deployment.contracts.ReserveOracle;
          if (!record) throw new InvalidInputError("this deployment has no ReserveOracle; run `netd deploy` again");
          const oracle = ReserveOracle__factory.connect(record.address, await ctx.signer());
          const role = await oracle.ATTESTOR_ROLE();
          await runWrite(ctx, {
            command: `reserve attestor ${verb}`,
            summary: `${verb === "add" ? "Authorise" : "Remove"} attestor ${account}`,
            method: verb === "add" ? oracle.grantRole : oracle.revokeRole,
            args: [role, account],
            after: async () => {
              const authorised = await oracle.hasRole(role, account);
              return { rows: [["authorised", authorised ? "yes" : "no"]], data: { attestor: account, authorised } };
            },
          });
        }),
      );
  }
}

async function guardRows(token: NetDollar): Promise<ResultingState> {
  const guard = await getReserveGuardStatus(token);
  if (guard === null) throw new InvalidInputError("the token is version 1 (no reserve guard): upgrade it to NetDollarV2 first (docs/operator.md, Upgrading)");
  const rows: [string, string][] = [
    ["reserve guard", guard.enabled ? "ON" : "off"],
    ["total supply", formatDollars(guard.totalSupply)],
  ];
  if (guard.enabled) {
    rows.push(
      ["oracle", guard.oracle],
      ["attested reserves", `$${formatDollars(guard.reserves!, "").trim()}${guard.asOf ? ` as of ${toIsoSeconds(guard.asOf)}` : " (none yet)"}`],
      ["max age / buffer", `${guard.maxAge} s / ${guard.bufferBps} bps`],
      ["minting", guard.fresh ? `allowed up to ${formatDollars(guard.mintable!)} more` : "BLOCKED: no fresh attestation (publish one: netd attest publish)"],
    );
  }
  return { rows, data: { ...guard, asOf: guard.asOf ? toIsoSeconds(guard.asOf) : null } };
}
