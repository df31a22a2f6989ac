import { expect } from "chai";
import express from "express";
import { id as topicOf, zeroPadValue } from "ethers";
import { PayingClient, listen, paywall, facilitatorByUrl } from "../../src/x402";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";

const REQUESTS = Number(process.env.X402_LOAD_REQUESTS ?? 1000);
const IN_FLIGHT = 50;

describe(`x402 under load: ${REQUESTS} paid requests, ${IN_FLIGHT} in flight`, function () {
  this.timeout(600_000);
  let env: X402Environment;

  before(async function () {
    env = await startX402Environment();
  });
  after(async function () {
    await env?.stop();
  });

  it("serves every paid request exactly once and settles each exactly once, none lost", async function () {
    const servedCount = new Map<string, number>();
    const app = express();
    app.use(
      paywall({
        routes: { "GET /item": { price: "$0.001" } },
        payTo: env.merchant.address,
        network: NETWORK,
        asset: env.asset,
        facilitator: facilitatorByUrl(env.facilitatorServer.url, 60_000),
      }),
    );
    app.get("/item", (req, res) => {
      const key = String(req.query.id);
      servedCount.set(key, (servedCount.get(key) ?? 0) + 1);
      res.json({ id: key });
    });
    const server = await listen(app, 0);
    env.servers.push(server);

    const client = new PayingClient({ signer: env.agent });
    const [agentBefore, merchantBefore] = await Promise.all([env.token.balanceOf(env.agent.address), env.token.balanceOf(env.merchant.address)]);
    const fromBlock = (await env.provider.getBlockNumber()) + 1;
    const statuses: number[] = new Array(REQUESTS);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const res = await client.fetch(`${server.url}/item?id=${i}`);
          statuses[i] = res.status;
          expect(await res.json()).to.deep.equal({ id: String(i) });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`      ${REQUESTS} paid requests in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(1)} req/s)`);

    expect(statuses.filter((s) => s === 200)).to.have.length(REQUESTS);
    expect(servedCount.size).to.equal(REQUESTS);
    expect([...servedCount.values()].every((n) => n === 1)).to.equal(true, "each request served once");
    const transactions = new Set(client.payments.map((p) => p.transaction));
    expect(client.payments.every((p) => p.status === "settled")).to.equal(true);
    expect(transactions.size).to.equal(REQUESTS, "one settlement per request");

    const price = 1_000n;
    const [agentAfter, merchantAfter] = await Promise.all([env.token.balanceOf(env.agent.address), env.token.balanceOf(env.merchant.address)]);
    expect(agentBefore - agentAfter).to.equal(price * BigInt(REQUESTS));
    expect(merchantAfter - merchantBefore).to.equal(price * BigInt(REQUESTS));

    // On chain: exactly one Transfer agent → merchant per request, in the settlement transactions the client was told of.
    const onChain = new Set<string>();
    const toBlock = await env.provider.getBlockNumber();
    const topics = [topicOf("Transfer(address,address,uint256)"), zeroPadValue(env.agent.address, 32), zeroPadValue(env.merchant.address, 32)];
    for (const log of await env.provider.getLogs({ address: env.asset.address, topics, fromBlock, toBlock })) {
      expect(BigInt(log.data)).to.equal(price);
      expect(onChain.has(log.transactionHash)).to.equal(false);
      onChain.add(log.transactionHash);
    }
    expect(onChain).to.deep.equal(transactions);
    expect(await env.facilitator.metrics.settleCount("success")).to.equal(REQUESTS);
    expect(await env.facilitator.metrics.duplicateSettles()).to.equal(0);
  });
});
