import type { Command } from "commander";
import type { JsonRpcProvider } from "ethers";
import { NetDollarV2__factory, ReserveOracle__factory } from "../../../typechain-types";
import { formatDollars, parseAmount } from "../../amounts";
import { parseAddress } from "../parse";
import { ChainUnreachableError, InvalidInputError, NetDollarError } from "../../errors";
import { connect } from "../../provider";
import { defaultDeploymentPath, readDeploymentFor } from "../../deployments";
import {
  CHECK_EXIT,
  checkAttestation,
  createAttestation,
  readAttestationDocument,
  readReservesInput,
  renderMarkdown,
  renderText,
  signAttestation,
  publishData,
  toIsoSeconds,
  verifyAttestationSignature,
} from "../../attestation";
import { ExitWithCode, action } from "../action";
import type { CliContext } from "../context";
import { table, toJson } from "../output";
import { runWrite } from "../write";
import { collect, parseDuration, parseTime } from "../parse";

/** Thrown by a command that already printed its result and wants a specific exit code. */
/** The endpoints given to a multi-chain command: its own --rpc-url list, else the global one (or NETD_RPC_URL). */
async function endpoints(ctx: CliContext, urls: string[] | string | undefined): Promise<JsonRpcProvider[]> {
  const list = Array.isArray(urls) && urls.length ? urls : [typeof urls === "string" ? urls : ctx.rpcUrl()];
  return Promise.all(list.map((rpcUrl) => connect({ rpcUrl })));
}

/** `netd attest …` (the attestation document) and `netd reserve …` (the token's reserve guard and oracle). */
export function registerAttestationCommands(program: Command): void {
  const attest = program.command("attest").description("reserve attestations: create, sign, verify, publish, check");

  attest
    .command("create")
    .description("build an unsigned attestation from a reserves input file and the chain state at --as-of")
    .requiredOption("--reserves <file>", "reserves input: issuer, accountant, report file, reserve lines in dollars")
    .requiredOption("--as-of <time>", "UTC time the attestation is as of, e.g. 2026-11-30T23:59:59Z, or now (the latest block's time on every chain given)")
    .option("--rpc-url <url>", "an endpoint per chain covered (repeat); default: the global endpoint", collect, [])
    .option("--token <chainId:address>", "a token to cover (repeat); default: each chain's deployment file", collect, [])
    .option(
      "--allocate <chainId=dollars>",
      "reserves allocated to a chain's deployment (repeat, one per chain; default: proportional to each chain's supply at --as-of, headroom shared alike)",
      collect,
      [],
    )
    .option("--out <file>", "write to a file instead of stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  $ netd attest create --reserves reserves.json --as-of 2026-11-30T23:59:59Z --out attestation.json\n" +
        "  $ netd attest create --reserves reserves.json --as-of now --out attestation.json   # on a devnet\n" +
        "  $ netd attest create --reserves reserves.json --as-of 2026-11-30T23:59:59Z --rpc-url http://127.0.0.1:8545 --rpc-url http://127.0.0.1:8546 \\\n" +
        "      --allocate 31337=600000 --allocate 31338=400000 --out attestation.json",
    )
    .action(
      action((ctx) => async (o: { reserves: string; asOf: string; rpcUrl: string[]; token: string[]; allocate: string[]; out?: string }) => {
        const input = readReservesInput(o.reserves);
        const latest = o.asOf === "now" || o.asOf === "latest";
        let asOf = latest ? 0n : parseTime(o.asOf, "--as-of");
        const explicit = o.token.map((t) => {
          const [chainId, address, extra] = t.split(":");
          if (!/^\d+$/.test(chainId ?? "") || address === undefined || extra !== undefined) {
            throw new InvalidInputError(`--token "${t}" is not CHAINID:ADDRESS`);
          }
          return { chainId: BigInt(chainId), token: parseAddress(address, "--token") };
        });
        const providers = await endpoints(ctx, o.rpcUrl);
        const deployments: { provider: JsonRpcProvider; token: string }[] = [];
        for (const provider of providers) {
          const { chainId } = await provider.getNetwork();
          const tokens = explicit.filter((t) => t.chainId === chainId).map((t) => t.token);
          if (!explicit.length) {
            const file = providers.length === 1 ? await ctx.deploymentPath() : defaultDeploymentPath(chainId);
            tokens.push(readDeploymentFor(file, chainId).contracts.NetDollar.address);
          }
          for (const token of tokens) deployments.push({ provider, token });
        }
        if (latest) {
          // The latest block every chain has: each then has its last block at or before it, and none is waited for.
          const heads = await Promise.all(providers.map(async (p) => BigInt((await p.getBlock("latest"))!.timestamp)));
          asOf = heads.reduce((a, b) => (b < a ? b : a));
        }
        const missing = explicit.filter((t) => !deployments.some((d) => d.token === t.token));
        if (missing.length) throw new InvalidInputError(`no --rpc-url for chain ${missing[0].chainId} of --token ${missing[0].token}`);
        let allocations: Record<string, bigint> | undefined;
        for (const a of o.allocate) {
          const m = /^(\d+)=(.+)$/.exec(a);
          if (!m) throw new InvalidInputError(`--allocate "${a}" is not CHAINID=DOLLARS`);
          allocations ??= {};
          if (allocations[m[1]] !== undefined) throw new InvalidInputError(`--allocate gives chain ${m[1]} twice`);
          allocations[m[1]] = parseAmount(m[2], `--allocate ${m[1]}`);
        }
        const doc = await createAttestation({ ...input, asOf, deployments, allocations });
        const split = doc.deployments.map((d) => `chain ${d.chainId} ${formatDollars(BigInt(d.allocation!), "USD")}`).join(", ");
        ctx.out.document(doc, { out: o.out, message: `Attestation as of ${doc.asOf}: reserves ${formatDollars(BigInt(doc.reserves.total), "USD")}, allocated ${split}${allocations ? "" : " (in proportion to supply)"}`, command: "attest create" });
      }),
    );

  attest
    .command("sign")
    .description("sign an attestation with the configured key (the attestor's), EIP-712")
    .argument("<file>", "attestation")
    .option("--out <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  $ netd --keystore accountant.json attest sign attestation.json --out attestation.signed.json")
    .action(
      action((ctx) => async (file: string, o: { out?: string }) => {
        const doc = readAttestationDocument(file);
        const signed = await signAttestation(doc, await ctx.signer());
        ctx.out.document(signed, { out: o.out, message: `Signed by ${signed.attestor}`, command: "attest sign" });
      }),
    );

  attest
    .command("verify")
    .description("check an attestation's schema and that a trusted attestor signed it (offline); exit 0 valid, 2 not")
    .argument("<file>", "attestation")
    .requiredOption("--trusted-attestor <address>", "an attestor to trust (repeat)", collect, [])
    .addHelpText("after", "\nExample:\n  $ netd attest verify attestation.json --trusted-attestor 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955")
    .action(
      action((ctx) => async (file: string, o: { trustedAttestor: string[] }) => {
        const trusted = o.trustedAttestor.map((a) => parseAddress(a, "--trusted-attestor"));
        const doc = readAttestationDocument(file);
        const result = verifyAttestationSignature(doc, trusted);
        ctx.out.result(
          [result.problem ? `NOT VERIFIED: ${result.problem}` : `Verified: signed by trusted attestor ${result.attestor}`, ...table([["as of", doc.asOf], ["reserves", formatDollars(BigInt(doc.reserves.total), "USD")]])],
          { command: "attest verify", ...result },
        );
        if (result.problem) throw new ExitWithCode(CHECK_EXIT.invalid);
      }),
    );

  attest
    .command("publish")
    .description("submit a signed attestation to the deployment's ReserveOracle (anyone may relay it)")
    .argument("<file>", "signed attestation")
    .addHelpText("after", "\nExample:\n  $ netd attest publish attestation.signed.json --yes")
    .action(
      action((ctx) => async (file: string) => {
        const doc = readAttestationDocument(file);
        if (!doc.signature || !doc.attestor) throw new InvalidInputError(`${file} is not signed: run netd attest sign first`);
        const deployment = await ctx.deployment();
        const record = deployment.contracts.ReserveOracle;
        if (!record) throw new InvalidInputError("this deployment has no ReserveOracle; run `netd deploy` again");
        const oracle = ReserveOracle__factory.connect(record.address, await ctx.signer());
        const chainId = await ctx.chainId();
        const mine = doc.deployments.find((d) => BigInt(d.chainId) === chainId && d.token === deployment.contracts.NetDollar.address);
        const backing = mine?.allocation ? `${formatDollars(BigInt(mine.allocation), "USD")} allocated to this deployment, of reserves of ${formatDollars(BigInt(doc.reserves.total), "USD")}` : `reserves of ${formatDollars(BigInt(doc.reserves.total), "USD")}`;
        const published = publishData(doc);
        const common = {
          command: "attest publish",
          summary: `Publish ${backing} as of ${doc.asOf} to the oracle ${record.address}`,
          after: async () => {
            const [round, reserves, , asOf] = await oracle.latestRoundData();
            return {
              rows: [
                ["round", round.toString()],
                ["reserves", formatDollars(BigInt(reserves), "USD")],
                ["as of", toIsoSeconds(asOf)],
              ] as [string, string][],
              data: { round, reserves, asOf: toIsoSeconds(asOf) },
            };
          },
        };
        if (published.v2) await runWrite(ctx, { ...common, method: oracle.publishV2, args: [published.data, doc.attestor, doc.signature] });
        else await runWrite(ctx, { ...common, method: oracle.publish, args: [published.data, doc.attestor, doc.signature] });
      }),
    );

  attest
    .command("check")
    .description("the auditor's check: backed or not, with the evidence; exit 0 backed, 1 not backed, 2 invalid, 3 unreadable")
    .argument("<file>", "signed attestation")
    .option("--rpc-url <url>", "an endpoint per chain the attestation covers (repeat)", collect, [])
    .requiredOption("--trusted-attestor <address>", "an attestor to trust (repeat)", collect, [])
    .option("--max-age <duration>", "refuse an attestation older than this", "35d")
    .option("--from-block <chainId:token:block>", "start the event scan here instead of at the token's deployment block (repeat)", collect, [])
    .option("--markdown", "print the report as Markdown")
    .addHelpText(
      "after",
      "\nExit codes: 0 backed, 1 under-backed or reconciliation mismatch, 2 invalid, untrusted or stale attestation or bad input, 3 a chain could not be read.\n\nExample:\n  $ netd attest check attestation.json --rpc-url https://rpc-a --rpc-url https://rpc-b --trusted-attestor 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    )
    .action(
      action((ctx) => async (file: string, o: { rpcUrl: string[]; trustedAttestor: string[]; maxAge: string; fromBlock: string[]; markdown?: boolean }) => {
        const trusted = o.trustedAttestor.map((a) => parseAddress(a, "--trusted-attestor"));
        const maxAgeSeconds = parseDuration(o.maxAge, "--max-age", { requireUnit: true });
        const fromBlock: Record<string, number> = {};
        for (const entry of o.fromBlock) {
          const [chainId, token, block] = entry.split(":");
          if (!/^\d+$/.test(chainId ?? "") || !/^\d+$/.test(block ?? "")) throw new InvalidInputError(`--from-block "${entry}" is not CHAINID:TOKEN:BLOCK`);
          fromBlock[`${chainId}:${parseAddress(token, "--from-block token").toLowerCase()}`] = Number(block);
        }
        const doc = readAttestationDocument(file);
        let providers: JsonRpcProvider[];
        try {
          providers = await endpoints(ctx, o.rpcUrl);
        } catch (error) {
          if (error instanceof ChainUnreachableError) {
            process.stderr.write(`error: ${error.shortMessage}\n${error.details ? `  ${error.details}\n` : ""}`);
            throw new ExitWithCode(CHECK_EXIT.unreadable);
          }
          throw error;
        }
        const progress = !ctx.opts.json && process.stderr.isTTY && process.stdout.isTTY ? progressBar() : undefined;
        const report = await checkAttestation({ document: doc, providers, trustedAttestors: trusted, maxAgeSeconds, fromBlock, onProgress: progress?.update });
        progress?.done();
        if (ctx.opts.json) process.stdout.write(toJson({ ok: report.exitCode === 0, command: "attest check", ...report }) + "\n");
        else process.stdout.write((o.markdown ? renderMarkdown(report) : renderText(report)) + "\n");
        providers.forEach((p) => p.destroy());
        if (report.exitCode !== 0) throw new ExitWithCode(report.exitCode);
      }),
    );

  registerReserveCommands(program);
}

/** A progress bar on stderr, redrawn at most ten times a second. */
function progressBar() {
  let last = 0;
  return {
    update(p: { deployment: number; deployments: number; fromBlock: number; toBlock: number; scannedTo: number; events: number }) {
      const nowMs = Date.now();
      if (nowMs - last < 100 && p.scannedTo < p.toBlock) return;
      last = nowMs;
      const span = Math.max(1, p.toBlock - p.fromBlock + 1);
      const fraction = Math.min(1, (p.scannedTo - p.fromBlock + 1) / span);
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(
        `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  deployment ${p.deployment + 1}/${p.deployments}  block ${p.scannedTo}/${p.toBlock}  ${p.events.toLocaleString("en-US")} events`,
      );
    },
    done() {
      process.stderr.write("\n");
    },
  };
}

function registerReserveCommands(program: Command): void {
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
        await runWrite(ctx, { command: "reserve disable", summary: "Turn the reserve guard OFF", method: token.disableReserveGuard, args: [], after: () => guardRows(token) });
      }),
    );

  reserve
    .command("status")
    .description("show the reserve guard, the oracle's latest attestation and the headroom for minting")
    .addHelpText("after", "\nExample:\n  $ netd reserve status --json")
    .action(
      action((ctx) => async () => {
        const deployment = await ctx.deployment();
        const token = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, await ctx.provider());
        const { rows, data } = await guardRows(token);
        ctx.out.result(table(rows), { command: "reserve status", ...data });
      }),
    );

  const attestor = reserve.command("attestor").description("authorise or remove accountants' keys on the ReserveOracle (its admin)");
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

async function guardRows(token: ReturnType<typeof NetDollarV2__factory.connect>) {
  let guard: [string, bigint, bigint];
  try {
    guard = (await token.reserveGuard()) as unknown as [string, bigint, bigint];
  } catch (cause) {
    if (cause instanceof NetDollarError) throw cause;
    throw new InvalidInputError("the token is version 1 (no reserve guard)", { cause });
  }
  const [oracleAddress, maxAge, bufferBps] = guard;
  const supply = await token.totalSupply();
  const on = !/^0x0{40}$/.test(oracleAddress);
  const rows: [string, string][] = [["reserve guard", on ? "ON" : "off"], ["total supply", formatDollars(supply)]];
  const data: Record<string, unknown> = { enabled: on, oracle: oracleAddress, maxAge, bufferBps, totalSupply: supply };
  if (on) {
    const oracle = ReserveOracle__factory.connect(oracleAddress, token.runner);
    const [reserves, asOf] = await oracle.latestReserves();
    const allowed = (reserves * (10_000n - bufferBps)) / 10_000n;
    const now = BigInt((await token.runner!.provider!.getBlock("latest"))!.timestamp);
    const fresh = asOf !== 0n && now <= asOf + maxAge;
    rows.push(
      ["oracle", oracleAddress],
      ["attested reserves", `$${formatDollars(reserves, "").trim()}${asOf ? ` as of ${toIsoSeconds(asOf)}` : " (none yet)"}`],
      ["max age / buffer", `${maxAge} s / ${bufferBps} bps`],
      ["minting", fresh ? `allowed up to ${formatDollars(allowed > supply ? allowed - supply : 0n)} more` : "BLOCKED: no fresh attestation"],
    );
    Object.assign(data, { reserves, asOf: asOf ? toIsoSeconds(asOf) : null, fresh, mintable: fresh && allowed > supply ? allowed - supply : 0n });
  }
  return { rows, data };
}
