import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { openDatabase, type Database } from "../../src/db";
import { devnetWallet } from "../../src/devnet";
import { PayingClient, ServedPayments, facilitatorByUrl, createDemoApi, listen, type PaywallMode } from "../../src/x402";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import { NetdProcess, freePort } from "../helpers/process";

const KILLS = Number(process.env.NETD_EXACT_CRASH_KILLS ?? 4);
const AGENTS = 3;

/**
 * exact payments while the facilitator (`netd x402 facilitator`, a child process) is killed with SIGKILL at random
 * moments under load and restarted, in both paywall modes (KILLS per mode; NETD_EXACT_CRASH_KILLS for the long run).
 * Our paying clients recover by themselves (the same payment presented again). Afterwards, from the chain's
 * `AuthorizationUsed` events: charged and not served = 0, served and not settled = 0, settled twice = 0, hung = 0.
 */
describe("x402 exact: the facilitator killed under load", function () {
  this.timeout(600_000);
  let env: X402Environment;
  let db: Database;
  let facilitator: NetdProcess;

  before(async function () {
    env = await startX402Environment();
    db = await openDatabase("memory:");
    const dir = mkdtempSync(path.join(tmpdir(), "netd-exact-crash-"));
    const deployment = path.join(dir, "deployment.json");
    writeFileSync(deployment, JSON.stringify(env.deployment, null, 2));
    facilitator = new NetdProcess(await freePort(), ["x402", "facilitator"], {
      NETD_RPC_URL: env.node.url,
      NETD_DEPLOYMENT: deployment,
      NETD_PRIVATE_KEY: devnetWallet(11).privateKey,
    });
    await facilitator.start();
  });
  after(async function () {
    await facilitator?.stop();
    await db?.close();
    await env?.stop();
  });

  for (const mode of ["settle-before-serve", "verify-then-settle"] as PaywallMode[]) {
    it(`${mode}: ${KILLS} kills; every payment that moved money was served once, every one served was settled, none hung`, async function () {
      const api = await listen(
        createDemoApi({
          payTo: env.merchant.address,
          network: NETWORK,
          asset: env.asset,
          facilitator: facilitatorByUrl(facilitator.url, 10_000),
          mode,
          served: new ServedPayments(db),
        }),
        0,
      );
      env.servers.push(api);
      const agents: { wallet: Wallet; client: PayingClient }[] = [];
      for (let i = 0; i < AGENTS; i++) {
        const wallet = Wallet.createRandom().connect(env.provider) as unknown as Wallet;
        await (await env.token.connect(env.agent).transfer(wallet.address, 1_000_000n)).wait();
        agents.push({ wallet, client: new PayingClient({ signer: wallet, resend: 10 }) });
      }
      const fromBlock = await env.provider.getBlockNumber();
      const merchantBefore = await env.token.balanceOf(env.merchant.address);
      const outcome = { served: 0, failed: 0, hung: 0 };
      let loading = true;
      const load = agents.map(async ({ client }) => {
        while (loading) {
          try {
            const res = await client.fetch(`${api.url}/joke`, { signal: AbortSignal.timeout(60_000) });
            await res.arrayBuffer();
            if (res.status === 200) outcome.served++;
            else outcome.failed++;
          } catch (error) {
            if ((error as Error).name === "TimeoutError") outcome.hung++;
            else outcome.failed++;
          }
        }
      });
      for (let k = 0; k < KILLS; k++) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        await facilitator.kill();
        await facilitator.start();
      }
      await new Promise((r) => setTimeout(r, 1_000));
      // The load must make progress once the facilitator stays up: under a busy machine a restart can take most of the
      // window, so wait (bounded) until more payments than kills were served before stopping it.
      const deadline = Date.now() + 20_000;
      while (outcome.served <= KILLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      loading = false;
      await Promise.all(load);

      // What the chain says each agent paid, by nonce.
      const used = await env.token.queryFilter(env.token.filters.AuthorizationUsed(), fromBlock + 1);
      const paid = new Map<string, number>();
      for (const e of used) {
        const key = `${e.args.authorizer}:${e.args.nonce}`.toLowerCase();
        if (agents.some((a) => a.wallet.address === e.args.authorizer)) paid.set(key, (paid.get(key) ?? 0) + 1);
      }
      const servedKeys = new Set(
        agents.flatMap((a) => a.client.payments.filter((p) => p.httpStatus === 200).map((p) => `${p.payer}:${p.nonce}`.toLowerCase())),
      );
      const chargedNotServed = [...paid.keys()].filter((k) => !servedKeys.has(k)).length;
      const servedNotSettled = [...servedKeys].filter((k) => !paid.has(k)).length;
      const settledTwice = [...paid.values()].filter((n) => n > 1).length;
      console.log(
        `      [exact crash, ${mode}] ${KILLS} kills, ${outcome.served} served, ${outcome.failed} refused or failed, ${outcome.hung} hung; charged-not-served ${chargedNotServed}, served-not-settled ${servedNotSettled}, settled twice ${settledTwice}`,
      );
      expect({ chargedNotServed, servedNotSettled, settledTwice, hung: outcome.hung }).to.deep.equal({
        chargedNotServed: 0,
        servedNotSettled: 0,
        settledTwice: 0,
        hung: 0,
      });
      expect(outcome.served).to.be.greaterThan(KILLS);
      expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(BigInt(paid.size) * 1_000n);
    });
  }
});
