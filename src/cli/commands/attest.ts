import type { Command } from "commander";
import type { JsonRpcProvider } from "ethers";
import { ReserveOracle__factory } from "../../../typechain-types";
import { formatDollars } from "../../amounts";
import { collect, parseAddress, parseAmount, parseDuration, parseTime } from "../parse";
import { InvalidInputError } from "../../errors";
import { connect, connectEach } from "../../provider";
import { defaultDeploymentPath, readDeploymentFor } from "../../deployments";
import {
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
  type Verdict,
} from "../../attestation";
import { ExitWithCode, action } from "../action";
import type { CliContext } from "../context";
import { table, toJson } from "../output";
import { runWrite } from "../write";

/** Thrown by a command that already printed its result and wants a specific exit code. */
/** The endpoints given to a multi-chain command: its own --rpc-url list, else the global one (or NETD_RPC_URL). */
async function endpoints(ctx: CliContext, urls: string[]): Promise<JsonRpcProvider[]> {
  return Promise.all(ctx.rpcUrls(urls).map((rpcUrl) => connect({ rpcUrl })));
}

/** Exit codes of `netd attest check`, from the library's verdict. */
export const CHECK_EXIT = { backed: 0, notBacked: 1, invalid: 2, unreadable: 3 } as const;

function checkExitCode(verdict: Verdict): number {
  if (verdict === "backed") return CHECK_EXIT.backed;
  if (verdict === "invalid") return CHECK_EXIT.invalid;
  if (verdict === "unreadable") return CHECK_EXIT.unreadable;
  return CHECK_EXIT.notBacked; // under-backed, or supply and events disagree
}

/** `netd attest …`: the attestation document, created, signed, verified, published and checked. */
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
        ctx.out.document(doc, {
          out: o.out,
          message: `Attestation as of ${doc.asOf}: reserves ${formatDollars(BigInt(doc.reserves.total), "USD")}, allocated ${split}${allocations ? "" : " (in proportion to supply)"}`,
          command: "attest create",
        });
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
          [
            result.problem ? `NOT VERIFIED: ${result.problem}` : `Verified: signed by trusted attestor ${result.attestor}`,
            ...table([
              ["as of", doc.asOf],
              ["reserves", formatDollars(BigInt(doc.reserves.total), "USD")],
            ]),
          ],
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
        const backing = mine?.allocation
          ? `${formatDollars(BigInt(mine.allocation), "USD")} allocated to this deployment, of reserves of ${formatDollars(BigInt(doc.reserves.total), "USD")}`
          : `reserves of ${formatDollars(BigInt(doc.reserves.total), "USD")}`;
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
        const { providers, unreachable } = await connectEach(ctx.rpcUrls(o.rpcUrl));
        if (!providers.length) {
          process.stderr.write(`error: ${unreachable.map((u) => u.message).join("\n       ")}\n`);
          throw new ExitWithCode(CHECK_EXIT.unreadable);
        }
        const progress = ctx.progress();
        const report = await checkAttestation({
          document: doc,
          providers,
          trustedAttestors: trusted,
          maxAgeSeconds,
          fromBlock,
          unreachable,
          onProgress: (p) => progress?.update({ ...p, label: `deployment ${p.deployment + 1}/${p.deployments}` }),
        });
        progress?.done();
        const exitCode = checkExitCode(report.verdict);
        if (ctx.opts.json) process.stdout.write(toJson({ ok: exitCode === 0, command: "attest check", exitCode, ...report }) + "\n");
        else process.stdout.write((o.markdown ? renderMarkdown(report) : renderText(report)) + "\n");
        providers.forEach((p) => p.destroy());
        if (exitCode !== 0) throw new ExitWithCode(exitCode);
      }),
    );
}
