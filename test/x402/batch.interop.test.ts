import { expect } from "chai";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { devnetWallet } from "../../src/devnet";
import { startX402Environment, type X402Environment } from "../helpers/x402";
import { referenceBatchFetch, startReferenceBatchFacilitator, startReferenceBatchServer } from "../helpers/batch";
import { Wallet } from "ethers";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, MULTICALL3_ADDRESS, PayingClient } from "../../src/x402";

/**
 * batch-settlement against the x402 reference packages (2.27, unmodified) on a `hardhat node` with our contracts at
 * the canonical addresses: the reference client, server and channel manager, with the reference facilitator and with
 * ours. Every paid request is one voucher; one claim and one settle pay the merchant exactly what was served.
 */
describe("x402 batch-settlement: interoperability with the reference packages", function () {
  this.timeout(180_000);
  let env: X402Environment;

  before(async function () {
    env = await startX402Environment();
  });
  after(async function () {
    await env?.stop();
  });

  it("netd deploy left our channel contract, collector and a Multicall3 at the canonical addresses", async function () {
    for (const address of [BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, MULTICALL3_ADDRESS])
      expect(await env.provider.getCode(address)).to.not.equal("0x");
  });

  for (const which of ["reference", "ours"] as const) {
    it(`reference client → reference server → ${which} facilitator: deposits, vouchers, one claim, one settle; the merchant gains exactly what was served`, async function () {
      const facilitatorUrl =
        which === "reference" ? (await startReferenceBatchFacilitator(env.node.url, devnetWallet(12).privateKey)).url : env.facilitatorServer.url;
      const server = await startReferenceBatchServer({
        facilitatorUrl,
        asset: env.asset,
        payTo: env.merchant.address,
        amount: "1000",
        authorizerKey: devnetWallet(13).privateKey,
      });
      env.servers.push(server);
      const payer = which === "reference" ? env.agent : devnetWallet(5).connect(env.provider);
      if (which === "ours") await (await env.token.connect(env.agent).transfer(payer.address, 1_000_000n)).wait();
      const { fetch: pay } = await referenceBatchFetch(env.node.url, payer as never, env.asset.address);
      const [payerBefore, merchantBefore] = await Promise.all([env.token.balanceOf(payer.address), env.token.balanceOf(env.merchant.address)]);
      const calls = 12;
      for (let i = 0; i < calls; i++) {
        const res = await pay(`${server.url}/micro`);
        expect(res.status, await res.clone().text()).to.equal(200);
        const settlement = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!);
        expect(settlement.success).to.equal(true);
        expect((settlement.extra as { chargedAmount?: string }).chargedAmount).to.equal("1000");
        await res.json();
      }
      expect(server.served).to.equal(calls);
      const deposited = payerBefore - (await env.token.balanceOf(payer.address));
      expect(deposited > 0n).to.equal(true);
      const { claims, settle } = await server.claimAndSettle();
      expect(claims.reduce((n, c) => n + c.vouchers, 0)).to.be.greaterThan(0);
      expect(settle?.transaction).to.match(/^0x[0-9a-f]{64}$/);
      expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(BigInt(calls) * 1000n);
    });
  }

  it("our client → reference server → reference facilitator: one deposit, a voucher per call (some in parallel); the reference channel manager claims and settles exactly what was served", async function () {
    const facilitator = await startReferenceBatchFacilitator(env.node.url, devnetWallet(16).privateKey);
    env.servers.push(facilitator);
    const server = await startReferenceBatchServer({
      facilitatorUrl: facilitator.url,
      asset: env.asset,
      payTo: env.merchant.address,
      amount: "1000",
      authorizerKey: devnetWallet(17).privateKey,
    });
    env.servers.push(server);
    const payer = Wallet.createRandom().connect(env.provider);
    await (await env.token.connect(env.agent).transfer(payer.address, 1_000_000n)).wait();
    const client = new PayingClient({ signer: payer, channels: { deposit: 50_000n }, controls: { maxPerPayment: 1_000n } });
    const [payerBefore, merchantBefore] = await Promise.all([env.token.balanceOf(payer.address), env.token.balanceOf(env.merchant.address)]);
    for (let i = 0; i < 8; i++) {
      const res = await client.fetch(`${server.url}/micro`);
      expect(res.status, await res.clone().text()).to.equal(200);
    }
    expect(client.payments.map((p) => p.status)).to.deep.equal(Array(8).fill("settled"));
    expect(payerBefore - (await env.token.balanceOf(payer.address))).to.equal(50_000n); // one deposit, of the size we chose
    // The reference server takes one request per channel at a time ("channel busy"): parallel calls there are
    // refused, not charged; ours serve them (see batch.paywall.test.ts).
    const parallel = await Promise.all(Array.from({ length: 4 }, () => client.fetch(`${server.url}/micro`)));
    const served = parallel.filter((r) => r.status === 200).length;
    expect(served).to.be.at.least(1);
    for (let i = 0; i < 4; i++) expect((await client.fetch(`${server.url}/micro`)).status).to.equal(200);
    expect(server.served).to.equal(8 + served + 4);
    const { settle } = await server.claimAndSettle();
    expect(settle?.transaction).to.match(/^0x[0-9a-f]{64}$/);
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(BigInt(server.served) * 1000n);
  });
});
