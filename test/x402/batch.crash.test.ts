import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { devnetWallet } from "../../src/devnet";
import { openDatabase, type Database } from "../../src/db";
import {
  BATCH_SETTLEMENT_ADDRESS,
  BatchSettlementServer,
  ChannelClaimer,
  ChannelStore,
  PayingClient,
  facilitatorByUrl,
  readChannelState,
} from "../../src/x402";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import { freshDatabase, requirePostgres } from "../helpers/postgres";
import { NetdProcess, freePort } from "../helpers/process";

const KILLS = Number(process.env.NETD_CRASH_KILLS ?? 20);

/**
 * Two paywall processes (the CLI's serve-demo) on one PostgreSQL behind a round-robin "load balancer", paid by four
 * agents over channels while one process is killed with SIGKILL at random moments (20 times, restarted each time;
 * NETD_CRASH_KILLS for more). Afterwards: every call was answered 200, everything served was charged once, and one
 * claim puts exactly that on chain, channel by channel. Nothing lost, nothing charged twice.
 */
describe("x402 batch-settlement: two paywall processes on one PostgreSQL, one killed under load", function () {
  this.timeout(600_000);
  let env: X402Environment;
  let fresh: { url: string; drop(): Promise<void> };
  let db: Database;
  const processes: NetdProcess[] = [];
  const authorizer = devnetWallet(18);
  const PRICE = 100n;

  before(async function () {
    const server = requirePostgres(this);
    fresh = await freshDatabase(server);
    env = await startX402Environment();
    const dir = mkdtempSync(path.join(tmpdir(), "netd-crash-"));
    const deployment = path.join(dir, "deployment.json");
    writeFileSync(deployment, JSON.stringify(env.deployment, null, 2));
    const childEnv = {
      NETD_RPC_URL: env.node.url,
      NETD_DEPLOYMENT: deployment,
      NETD_PRIVATE_KEY: env.merchant.privateKey,
      NETD_RECEIVER_AUTHORIZER_KEY: authorizer.privateKey,
    };
    const args = ["--scheme", "batch-settlement", "--database", fresh.url, "--facilitator-url", env.facilitatorServer.url, "--claim-interval", "1s"];
    for (const port of [await freePort(), await freePort()]) processes.push(new NetdProcess(port, ["x402", "serve-demo", ...args], childEnv));
    await Promise.all(processes.map((p) => p.start()));
    db = await openDatabase(fresh.url);
  });
  after(async function () {
    for (const p of processes) await p.stop();
    await db?.close();
    await env?.stop();
    await fresh?.drop();
  });

  it(`served = charged = claimed on chain after ${KILLS} kills, and no call went unanswered`, async function () {
    // The load balancer: round robin over the two processes; a dead one fails the connection and the client resends.
    let turn = 0;
    let dropped = 0;
    const balanced: typeof fetch = (input, init) => {
      const target = processes[turn++ % processes.length];
      const url = new URL(String(input));
      url.port = String(target.port);
      return fetch(url, init).catch((error: unknown) => {
        dropped++;
        throw error;
      });
    };
    const agents: PayingClient[] = [];
    for (let i = 0; i < 4; i++) {
      const payer = Wallet.createRandom().connect(env.provider);
      await (await env.token.connect(env.agent).transfer(payer.address, 1_000_000n)).wait();
      agents.push(new PayingClient({ signer: payer, fetch: balanced, channels: { deposit: 200_000n }, resend: 6 }));
    }
    const answers = new Map<number, number>();
    let failures = 0;
    let loading = true;
    const load = agents.map(async (client) => {
      while (loading) {
        try {
          const res = await client.fetch(`http://127.0.0.1:${processes[0].port}/tick`);
          await res.arrayBuffer();
          answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        } catch {
          failures++;
        }
      }
    });
    const victim = processes[0];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 450));
      await victim.kill();
      await new Promise((r) => setTimeout(r, Math.random() * 200));
      await victim.start();
    }
    await new Promise((r) => setTimeout(r, 500));
    loading = false;
    await Promise.all(load);

    const served = answers.get(200) ?? 0;
    expect(failures, `calls that failed outright: ${failures}`).to.equal(0);
    expect([...answers.keys()], JSON.stringify(Object.fromEntries(answers))).to.deep.equal([200]);
    expect(served).to.be.greaterThan(KILLS * 4);
    const { rows } = await db.query<{ charged: string; vouchers: number; unserved: number; late: number }>(
      `SELECT (SELECT COALESCE(SUM(charged), 0)::text FROM netd_channels) AS charged, (SELECT COUNT(*)::int FROM netd_vouchers) AS vouchers,
         (SELECT COUNT(*)::int FROM netd_vouchers WHERE served_at IS NULL) AS unserved,
         (SELECT COUNT(*)::int FROM netd_vouchers WHERE served_at > created_at + interval '100 milliseconds') AS late`,
    );
    // Every answer was charged once; every charge was answered.
    expect(BigInt(rows[0].charged)).to.equal(BigInt(served) * PRICE);
    expect(rows[0].vouchers).to.equal(served);

    // Claim what is left (a killed process may hold the claim lease until it expires), then compare with the chain.
    for (const p of processes) await p.stop();
    const store = new ChannelStore(db);
    const server = await BatchSettlementServer.create({
      store,
      facilitator: facilitatorByUrl(env.facilitatorServer.url),
      provider: env.provider,
      network: NETWORK,
      asset: env.asset,
      payTo: env.merchant.address,
      receiverAuthorizer: authorizer,
    });
    const deadline = Date.now() + 60_000;
    while ((await store.unclaimedTotal(NETWORK, env.merchant.address, env.asset.address)).amount > 0n && Date.now() < deadline) {
      await new ChannelClaimer(server).claimAndSettle();
      await new Promise((r) => setTimeout(r, 500));
    }
    const channels = await db.query<{ channel_id: string; charged: string }>("SELECT channel_id, charged::text AS charged FROM netd_channels");
    expect(channels.rows).to.have.length(4);
    for (const c of channels.rows)
      expect((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, c.channel_id)).totalClaimed).to.equal(BigInt(c.charged));
    console.log(
      `      [crash] ${KILLS} kills, ${served} paid calls served, ${dropped} connections dropped and resent, ${rows[0].late} vouchers served after a resend (charged by a process that died first), ${rows[0].unserved} answered whose "served" mark died with its process`,
    );
  });
});
