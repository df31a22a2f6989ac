/**
 * The batch-settlement part of `npm run bench:x402`: paid requests per second, end to end, for three stacks in one run
 * on the same devnet — ours over payment channels, the x402 reference stack (its client, server and facilitator,
 * unmodified, on our channel contract) and ours with `exact` — 1,000 sequential and 1,000 with 50 in flight. Each
 * server runs in its own process, so its CPU per request is read from /proc. Also the p50 latency a paid call adds
 * over a free one on ours. Returns the markdown section.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { randomBytes } from "node:crypto";
import { devnetWallet } from "../src/devnet";
import { openDatabase } from "../src/db";
import { ChannelStore, PayingClient } from "../src/x402";
import { referenceBatchFetch } from "../test/helpers/batch";
import type { X402Environment } from "../test/helpers/x402";
import { spawnServer, type ServerChild } from "../test/helpers/server";

const CALLS = 1_000;
const IN_FLIGHT = 50;
const ROOT = path.join(__dirname, "..");

type Child = ServerChild;

function startChild(args: string[], env: Record<string, string>): Promise<Child> {
  return spawnServer(args, env, ROOT);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  rate: number;
  cpuMs: number;
}

/** `calls` paid requests spread over `payers` (each sequential), all at once; rate and server CPU per request. */
async function run(server: Child, payers: ((url: string) => Promise<Response>)[], url: string, calls: number): Promise<Run> {
  const per = Math.ceil(calls / payers.length);
  const cpu = cpuSeconds(server.pid);
  const started = performance.now();
  await Promise.all(
    payers.map(async (pay) => {
      for (let i = 0; i < per; i++) {
        const res = await pay(url);
        if (res.status !== 200) {
          const required = res.headers.get("PAYMENT-REQUIRED");
          throw new Error(
            `a paid request answered ${res.status}: ${await res.text()} ${required ? Buffer.from(required, "base64").toString().slice(0, 300) : ""} ${JSON.stringify([...res.headers.entries()]).slice(0, 600)}`,
          );
        }
        await res.arrayBuffer();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { rate: (per * payers.length) / seconds, cpuMs: ((cpuSeconds(server.pid) - cpu) * 1000) / (per * payers.length) };
}

async function fundPayers(env: X402Environment, n: number): Promise<Wallet[]> {
  const wallets = Array.from({ length: n }, () => Wallet.createRandom().connect(env.provider) as unknown as Wallet);
  for (const w of wallets) await (await env.token.connect(env.agent).transfer(w.address, 1_000_000n)).wait();
  return wallets;
}

/** What one charge costs in the channel store alone (no HTTP, no signatures): sequential, and 50 at once on one channel. */
async function storeCost(location: string): Promise<{ kind: string; seq: number; par: number }> {
  const db = await openDatabase(location);
  try {
    const store = new ChannelStore(db);
    const id = `0x${randomBytes(32).toString("hex")}`;
    const config = {
      payer: ZERO.replace(/0$/, "1"),
      payerAuthorizer: ZERO.replace(/0$/, "1"),
      receiver: ZERO.replace(/0$/, "2"),
      receiverAuthorizer: ZERO.replace(/0$/, "3"),
      token: ZERO.replace(/0$/, "4"),
      withdrawDelay: 900,
      salt: `0x${"00".repeat(32)}`,
    };
    await store.sync("eip155:31337", config, {
      channelId: id,
      balance: 10n ** 15n,
      totalClaimed: 0n,
      withdrawRequestedAt: 0,
      withdrawAmount: 0n,
      refundNonce: 0n,
    });
    const signature = `0x${"ab".repeat(65)}`;
    let ceiling = 0n;
    const charge = async () => {
      ceiling += 100n;
      const c = ceiling;
      await store.charge({ channelId: id, ceiling: c, signature, price: 100n, route: "GET /tick" });
      store.markServed(id, c);
    };
    let started = performance.now();
    for (let i = 0; i < CALLS; i++) await charge();
    const seq = (performance.now() - started) / CALLS;
    started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = 0; i < CALLS / IN_FLIGHT; i++) await charge();
      }),
    );
    const par = (performance.now() - started) / CALLS;
    await store.flush();
    return { kind: db.kind, seq, par };
  } finally {
    await db.close();
  }
}

const ZERO = "0x0000000000000000000000000000000000000000";

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function batchBench(env: X402Environment): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "netd-bench-"));
  const deployment = path.join(dir, "deployment.json");
  writeFileSync(deployment, JSON.stringify(env.deployment, null, 2));
  const childEnv = { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: deployment, NETD_PRIVATE_KEY: env.merchant.privateKey };
  const bin = path.join(ROOT, "bin", "netd.js");
  const results: Record<string, { seq: Run; par: Run; oneChannel?: Run }> = {};
  const url = (s: Child, route: string) => `${s.url}${route}`;

  // Ours, batch-settlement: serve-demo on an embedded PGlite store; claims out of the way (every hour).
  const ours = await startChild(
    [
      bin,
      "x402",
      "serve-demo",
      "--port",
      "0",
      "--scheme",
      "batch-settlement",
      "--database",
      path.join(dir, "db"),
      "--claim-interval",
      "1h",
      "--facilitator-url",
      env.facilitatorServer.url,
    ],
    childEnv,
  );
  let latency: { free: number; paid: number };
  try {
    const oursClient = (w: Wallet) => {
      const c = new PayingClient({ signer: w, channels: { deposit: 200_000n } });
      return (u: string) => c.fetch(u);
    };
    const [one, ...many] = (await fundPayers(env, 1 + IN_FLIGHT)).map(oursClient);
    for (const pay of [one, ...many]) await (await pay(url(ours, "/tick"))).arrayBuffer(); // open every channel (deposits not timed)
    const seq = await run(ours, [one], url(ours, "/tick"), CALLS);
    const par = await run(ours, many, url(ours, "/tick"), CALLS);
    const oneChannel = await run(ours, Array(IN_FLIGHT).fill(one), url(ours, "/tick"), CALLS);
    results.ours = { seq, par, oneChannel };
    // Added latency: free GET / against paid GET /tick, alternating, sequential.
    const free: number[] = [];
    const paid: number[] = [];
    for (let i = 0; i < 300; i++) {
      let t = performance.now();
      await (await fetch(url(ours, "/"))).arrayBuffer();
      free.push(performance.now() - t);
      t = performance.now();
      await (await one(url(ours, "/tick"))).arrayBuffer();
      paid.push(performance.now() - t);
    }
    latency = { free: p50(free), paid: p50(paid) };
  } finally {
    await ours.stop();
  }
  console.log(`ours batch-settlement: ${results.ours.seq.rate.toFixed(0)}/s sequential, ${results.ours.par.rate.toFixed(0)}/s at ${IN_FLIGHT} in flight`);

  // The reference stack: its server (own receiver-authorizer key, in-memory store) over its facilitator.
  const facilitator = await startChild(["-r", "ts-node/register/transpile-only", path.join(__dirname, "referenceBatch.ts"), "facilitator"], {
    ...childEnv,
    RELAYER_KEY: devnetWallet(19).privateKey,
  });
  const reference = await startChild(["-r", "ts-node/register/transpile-only", path.join(__dirname, "referenceBatch.ts"), "server"], {
    ...childEnv,
    FACILITATOR_URL: facilitator.url,
    ASSET: JSON.stringify(env.asset),
    PAY_TO: env.merchant.address,
    AMOUNT: "100",
    AUTHORIZER_KEY: devnetWallet(18).privateKey,
    // One deposit per payer for the whole run, as ours (the reference's default, 10 prices, tops up every 10 calls).
    MIN_DEPOSIT: "200000",
  });
  try {
    const referenceClient = async (w: Wallet) => (await referenceBatchFetch(env.node.url, w, env.asset.address, { maxAmountPerPayment: "1000000" })).fetch;
    const [one, ...many] = await Promise.all((await fundPayers(env, 1 + IN_FLIGHT)).map(referenceClient));
    for (const pay of [one, ...many]) await (await pay(url(reference, "/micro"))).arrayBuffer();
    results.reference = { seq: await run(reference, [one], url(reference, "/micro"), CALLS), par: await run(reference, many, url(reference, "/micro"), CALLS) };
  } finally {
    await reference.stop();
    await facilitator.stop();
  }
  console.log(
    `reference batch-settlement: ${results.reference.seq.rate.toFixed(0)}/s sequential, ${results.reference.par.rate.toFixed(0)}/s at ${IN_FLIGHT} in flight`,
  );

  // Ours, exact: one transaction per call.
  const exact = await startChild([bin, "x402", "serve-demo", "--port", "0", "--facilitator-url", env.facilitatorServer.url], childEnv);
  try {
    const exactClient = (w: Wallet) => {
      const c = new PayingClient({ signer: w });
      return (u: string) => c.fetch(u);
    };
    const [one, ...many] = (await fundPayers(env, 1 + IN_FLIGHT)).map(exactClient);
    await (await one(url(exact, "/tick"))).arrayBuffer();
    results.exact = { seq: await run(exact, [one], url(exact, "/tick"), CALLS), par: await run(exact, many, url(exact, "/tick"), CALLS) };
  } finally {
    await exact.stop();
  }
  console.log(`ours exact: ${results.exact.seq.rate.toFixed(0)}/s sequential, ${results.exact.par.rate.toFixed(0)}/s at ${IN_FLIGHT} in flight`);

  const stores = [await storeCost(path.join(dir, "store-bench"))];
  if (process.env.NETD_BENCH_DATABASE_URL) stores.push(await storeCost(process.env.NETD_BENCH_DATABASE_URL));

  const o = results.ours;
  const r = results.reference;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
  const gasRow = /Amortized per paid call: ([\d.]+) gas \(reference ([\d.]+)/.exec(readFileSync(path.join(__dirname, "gas.md"), "utf8"));
  const met = o.par.rate >= 10 * r.par.rate && o.seq.rate >= 10 * r.seq.rate && o.par.rate >= 1_000 && latency.paid - latency.free <= 2;
  return [
    "## batch-settlement: paid requests per second, three stacks",
    "",
    `${CALLS.toLocaleString("en-US")} paid requests to a $0.0001 route, after each payer's channel is open (its deposit not timed): one payer`,
    `sequentially, and ${IN_FLIGHT} payers at once (one channel each, so ${IN_FLIGHT} in flight). Each server runs in its own process (its`,
    "CPU per request read from /proc); the clients run in the benchmark's process, the Hardhat node in another: all on",
    "the same 2 cores.",
    "",
    "| stack | sequential (req/s) | 50 in flight (req/s) | server CPU per paid request (ms) |",
    "|---|---:|---:|---:|",
    `| **ours, batch-settlement** (PayingClient → paywall on PGlite, vouchers verified locally) | **${o.seq.rate.toFixed(0)}** | **${o.par.rate.toFixed(0)}** | ${o.seq.cpuMs.toFixed(2)} / ${o.par.cpuMs.toFixed(2)} |`,
    `| ours, batch-settlement, all ${IN_FLIGHT} in flight on one channel | — | ${o.oneChannel!.rate.toFixed(0)} | ${o.oneChannel!.cpuMs.toFixed(2)} |`,
    `| x402 reference stack (@x402/fetch + @x402/express + facilitator 2.27, on our contract) | ${r.seq.rate.toFixed(0)} | ${r.par.rate.toFixed(0)} | ${r.seq.cpuMs.toFixed(2)} / ${r.par.cpuMs.toFixed(2)} |`,
    `| ours, exact (one transaction per call) | ${results.exact.seq.rate.toFixed(0)} | ${results.exact.par.rate.toFixed(0)} | ${results.exact.seq.cpuMs.toFixed(2)} / ${results.exact.par.cpuMs.toFixed(2)} |`,
    "",
    `**Ours is ${ratio(o.seq.rate, r.seq.rate)} the reference sequentially and ${ratio(o.par.rate, r.par.rate)} the reference at ${IN_FLIGHT} in flight**, and ${ratio(o.par.rate, results.exact.par.rate)} ours with exact.`,
    `p50 latency of a paid call over a free one on ours: ${(latency.paid - latency.free).toFixed(2)} ms (free ${latency.free.toFixed(2)} ms, paid ${latency.paid.toFixed(2)} ms, client signing included).`,
    gasRow ? `Gas per paid call, 100 channels × 1,000 calls (bench/gas.md): ${gasRow[1]} (reference ${gasRow[2]}; budget 120).` : "",
    "",
    `Goal (issue #12): ≥ 10× the reference in the same run, ≥ 1,000 paid requests/s at ${IN_FLIGHT} in flight, ≤ 2 ms added p50 latency: ${met ? "met" : "**not all met**, see below"}.`,
    "",
    'What one voucher charge costs in the channel store alone (one atomic statement; the "served" marks batched), measured',
    `in this run${process.env.NETD_BENCH_DATABASE_URL ? "" : " (set NETD_BENCH_DATABASE_URL=postgres://… to add a PostgreSQL row)"}:`,
    "",
    "| store | ms per charge, sequential | ms per charge, 50 at once on one channel |",
    "|---|---:|---:|",
    ...stores.map((x) => `| ${x.kind} | ${x.seq.toFixed(3)} | ${x.par.toFixed(3)} |`),
    "",
  ];
}
