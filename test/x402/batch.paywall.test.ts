import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, type Signer } from "ethers";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { devnetWallet } from "../../src/devnet";
import { openDatabase, type Database } from "../../src/db";
import { randomNonce } from "../../src/eip712";
import {
  BATCH_REASON,
  BATCH_SETTLEMENT_ADDRESS,
  BatchSettlementServer,
  ChannelClaimer,
  ChannelStore,
  ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  MIN_WITHDRAW_DELAY,
  channelId,
  createDemoApi,
  createDepositPayload,
  createVoucherPayload,
  facilitatorByUrl,
  listen,
  normalizeConfig,
  PayingClient,
  PaymentRefusedError,
  readChannelState,
  type ChannelConfig,
  type RunningServer,
} from "../../src/x402";
import { BatchSettlement__factory } from "../../typechain-types";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import { referenceBatchFetch } from "../helpers/batch";

/** A JSON body read field by field in assertions (chai checks the shapes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of a parsed body, asserted by chai
type Json = Record<string, any>;

/**
 * Our paywall taking batch-settlement on a `hardhat node` (our contracts at the canonical addresses, our facilitator
 * over HTTP, the channel store in an in-memory PGlite): the reference client pays it; every refusal is a 402 with the
 * reason and charges nothing; 50 parallel vouchers on one channel get 50 answers; a withdrawal is claimed ahead of.
 */
describe("x402 batch-settlement: our paywall", function () {
  this.timeout(180_000);
  let env: X402Environment;
  let db: Database;
  let store: ChannelStore;
  let server: BatchSettlementServer;
  let api: RunningServer;
  const contract = { address: BATCH_SETTLEMENT_ADDRESS, chainId: 31337n };
  const authorizer = devnetWallet(15);
  const PRICE = 100n; // GET /tick, $0.0001

  before(async function () {
    env = await startX402Environment();
    db = await openDatabase("memory:");
    store = new ChannelStore(db);
    server = await BatchSettlementServer.create({
      store,
      facilitator: facilitatorByUrl(env.facilitatorServer.url),
      provider: env.provider,
      network: NETWORK,
      asset: env.asset,
      payTo: env.merchant.address,
      receiverAuthorizer: authorizer,
      stateTtlMs: 0,
    });
    api = await listen(
      createDemoApi({
        payTo: env.merchant.address,
        network: NETWORK,
        asset: env.asset,
        facilitator: facilitatorByUrl(env.facilitatorServer.url),
        batch: server,
      }),
      0,
    );
    env.servers.push(api);
  });
  after(async function () {
    await env?.stop();
    await db?.close();
  });

  const fund = async (amount = 1_000_000n) => {
    const payer = Wallet.createRandom().connect(env.provider);
    await (await env.token.connect(env.agent).transfer(payer.address, amount)).wait();
    await (await env.agent.sendTransaction({ to: payer.address, value: 10n ** 17n })).wait(); // gas for withdrawing alone
    return payer;
  };
  const offerOf = async (path = "/tick"): Promise<PaymentRequirements> => {
    const res = await fetch(`${api.url}${path}`);
    expect(res.status).to.equal(402);
    const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED")!);
    return required.accepts.find((a) => a.scheme === "batch-settlement")!;
  };
  const configOf = (payer: string, overrides: Partial<ChannelConfig> = {}): ChannelConfig =>
    normalizeConfig({
      payer,
      payerAuthorizer: payer,
      receiver: env.merchant.address,
      receiverAuthorizer: authorizer.address,
      token: env.asset.address,
      withdrawDelay: MIN_WITHDRAW_DELAY,
      salt: randomNonce(),
      ...overrides,
    });
  const token = () => ({ name: env.asset.name, version: env.asset.version, chainId: 31337n, verifyingContract: env.asset.address });
  /** Chain time (a test moves it forward). */
  const now = async () => BigInt((await env.provider.getBlock("latest"))!.timestamp);
  const send = async (accepted: PaymentRequirements, payload: object, path = "/tick") => {
    const res = await fetch(`${api.url}${path}`, {
      headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader({ x402Version: 2, accepted, payload } as never) },
    });
    const body = (await res.json()) as Json;
    const settlement = res.headers.get("PAYMENT-RESPONSE")
      ? (decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!) as SettleResponse & { extra?: Json })
      : undefined;
    const required = res.headers.get("PAYMENT-REQUIRED")
      ? (decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED")!) as PaymentRequired & { reason?: string })
      : undefined;
    return { status: res.status, body, settlement, required };
  };
  const open = async (deposit = 20_000n) => {
    const payer = await fund();
    const config = configOf(payer.address);
    const accepted = await offerOf();
    const payload = await createDepositPayload({
      payer,
      contract,
      collector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
      token: token(),
      config,
      amount: deposit,
      maxClaimableAmount: PRICE,
      validBefore: (await now()) + 300n,
    });
    const first = await send(accepted, payload);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    return { payer, config, accepted, id: channelId(contract, config) };
  };
  const voucher = (p: { payer: Signer; config: ChannelConfig }, ceiling: bigint) => createVoucherPayload(p.payer, contract, p.config, ceiling);
  const expectRefused = async (r: Awaited<ReturnType<typeof send>>, reason: string) => {
    expect(r.status, JSON.stringify(r.body)).to.equal(402);
    expect(r.required?.error).to.equal(reason);
    expect(r.body.reason).to.equal(reason);
    expect(r.body.message).to.be.a("string").and.not.equal("");
  };

  it("offers batch-settlement before exact, with the fields the reference client needs", async function () {
    const res = await fetch(`${api.url}/tick`);
    const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED")!);
    expect(required.accepts.map((a) => a.scheme)).to.deep.equal(["batch-settlement", "exact"]);
    expect(required.accepts[0]).to.deep.include({ amount: "100", payTo: env.merchant.address, asset: env.asset.address, network: NETWORK });
    expect(required.accepts[0].extra).to.deep.equal({
      name: env.asset.name,
      version: env.asset.version,
      receiverAuthorizer: authorizer.address,
      withdrawDelay: 900,
      minDeposit: "2000",
    });
    // $0.001 × 20: between the $0.002 and $0.05 the reference client can deposit under a $0.01 cap.
    expect((await offerOf("/joke")).extra!.minDeposit).to.equal("20000");
  });

  it("the reference client pays it through our facilitator: one deposit, vouchers, one claim and one settle pay exactly what was served", async function () {
    const payer = await fund();
    const { fetch: pay } = await referenceBatchFetch(env.node.url, payer as never, env.asset.address);
    const merchantBefore = await env.token.balanceOf(env.merchant.address);
    const calls = 12;
    for (let i = 0; i < calls; i++) {
      const res = await pay(`${api.url}/tick`);
      expect(res.status, await res.clone().text()).to.equal(200);
      const s = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!) as SettleResponse & {
        extra: { chargedAmount: string; channelState: { chargedCumulativeAmount: string } };
      };
      expect(s.success).to.equal(true);
      expect(s.extra.chargedAmount).to.equal("100");
      expect(s.extra.channelState.chargedCumulativeAmount).to.equal(String(100 * (i + 1)));
      expect(Object.keys((await res.json()) as object)).to.deep.equal(["now"]);
    }
    const report = await new ChannelClaimer(server).claimAndSettle();
    expect(report.claims).to.have.length(1);
    expect(report.claims[0].amount).to.equal(BigInt(calls) * PRICE);
    expect(report.settle?.amount).to.equal(BigInt(calls) * PRICE);
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(BigInt(calls) * PRICE);
    // Claiming again moves nothing.
    expect((await new ChannelClaimer(server).claimAndSettle()).claims).to.deep.equal([]);
  });

  it("our paying client: one deposit, then a voucher per call without a 402 round trip, 50 in parallel, state kept across runs and resynced after it is lost", async function () {
    const payer = await fund();
    const stateDir = mkdtempSync(join(tmpdir(), "netd-channels-"));
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const client = new PayingClient({
      signer: payer,
      fetch: counting,
      channels: { deposit: 20_000n, stateDir },
      controls: { maxPerPayment: 1_000n, maxDeposit: 50_000n },
    });
    const payerBefore = await env.token.balanceOf(payer.address);
    for (let i = 0; i < 10; i++) expect((await client.fetch(`${api.url}/tick`)).status).to.equal(200);
    expect(requests).to.equal(11); // one 402 to learn the offer, then one request per call
    expect(client.payments.map((p) => p.scheme)).to.deep.equal(Array(10).fill("batch-settlement"));
    expect(client.payments[0].deposit).to.equal(20_000n);
    expect(payerBefore - (await env.token.balanceOf(payer.address))).to.equal(20_000n); // one deposit
    const answers = await Promise.all(Array.from({ length: 50 }, () => client.fetch(`${api.url}/tick`)));
    expect(answers.map((r) => r.status)).to.deep.equal(Array(50).fill(200));
    const id = client.payments[0].nonce;
    expect((await store.get(id))!.charged).to.equal(60n * PRICE);
    // A new client with the same state directory goes on where the first stopped.
    const again = new PayingClient({ signer: payer, channels: { deposit: 20_000n, stateDir } });
    expect((await again.fetch(`${api.url}/tick`)).status).to.equal(200);
    expect(again.payments[0].ceiling).to.equal(61n * PRICE);
    // One with no state finds the channel on chain; its first voucher is behind, the corrective 402 resyncs it, the
    // call is served, and no second deposit is signed.
    const balance = await env.token.balanceOf(payer.address);
    const amnesiac = new PayingClient({ signer: payer, channels: { deposit: 20_000n } });
    const res = await amnesiac.fetch(`${api.url}/tick`);
    expect(res.status).to.equal(200);
    expect(amnesiac.payments.map((p) => [p.status, p.errorReason, p.deposit])).to.deep.equal([
      ["refused", BATCH_REASON.cumulativeAmountMismatch, undefined],
      ["settled", undefined, undefined],
    ]);
    expect(await env.token.balanceOf(payer.address)).to.equal(balance);
    expect((await store.get(id))!.charged).to.equal(62n * PRICE);
    // It tops up when the deposit runs out (200 calls' worth is 20,000).
    const small = new PayingClient({ signer: payer, channels: { deposit: 2_000n, stateDir } });
    for (let i = 0; i < 140; i++) expect((await small.fetch(`${api.url}/tick`)).status).to.equal(200);
    expect(small.payments.filter((p) => p.deposit !== undefined).length).to.be.greaterThan(0);
    expect((await store.get(id))!.charged).to.equal(202n * PRICE);
    expect((await store.get(id))!.balance).to.be.at.least(202n * PRICE);
  });

  it("our paying client refuses a deposit above its limit, signing nothing", async function () {
    const payer = await fund();
    const client = new PayingClient({ signer: payer, channels: { deposit: 20_000n }, controls: { maxDeposit: 10_000n } });
    let error: Error | undefined;
    await client.fetch(`${api.url}/tick`).catch((e: Error) => (error = e));
    expect(error).to.be.instanceOf(PaymentRefusedError);
    expect(error!.message).to.equal(`not paying ${new URL(api.url).host}: the channel needs a deposit of 0.02, above the maximum deposit 0.01`);
    expect(await env.token.balanceOf(payer.address)).to.equal(1_000_000n);
  });

  it("a deposit below the route's minimum is refused before anything moves", async function () {
    const payer = await fund();
    const config = configOf(payer.address);
    const payload = await createDepositPayload({
      payer,
      contract,
      collector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
      token: token(),
      config,
      amount: 1_999n,
      maxClaimableAmount: PRICE,
      validBefore: (await now()) + 300n,
    });
    const before = await env.token.balanceOf(payer.address);
    await expectRefused(await send(await offerOf(), payload), BATCH_REASON.depositBelowMinDeposit);
    expect(await env.token.balanceOf(payer.address)).to.equal(before);
  });

  it("refuses a tampered, foreign, behind, replayed or over-deposit voucher with the reason, and charges nothing", async function () {
    const ch = await open();
    const charged = async () => (await store.get(ch.id))!.charged;
    expect(await charged()).to.equal(PRICE);
    // tampered: the signature is for another amount
    const good = await voucher(ch, 2n * PRICE);
    const tampered = { ...good, voucher: { ...good.voucher, maxClaimableAmount: String(3n * PRICE) } };
    await expectRefused(await send(ch.accepted, tampered), BATCH_REASON.voucherSignature);
    // wrong signer
    const stranger = Wallet.createRandom();
    await expectRefused(await send(ch.accepted, await createVoucherPayload(stranger, contract, ch.config, 2n * PRICE)), BATCH_REASON.voucherSignature);
    // wrong channel: the id is not the config's
    await expectRefused(await send(ch.accepted, { ...good, voucher: { ...good.voucher, channelId: `0x${"11".repeat(32)}` } }), BATCH_REASON.channelIdMismatch);
    // a channel that does not exist on chain
    await expectRefused(
      await send(ch.accepted, await createVoucherPayload(ch.payer, contract, configOf(ch.payer.address), PRICE)),
      BATCH_REASON.channelNotFound,
    );
    // equal to what is charged: behind, with the corrective state
    const behind = await send(ch.accepted, await voucher(ch, PRICE));
    await expectRefused(behind, BATCH_REASON.cumulativeAmountMismatch);
    const offer = behind.required!.accepts.find((a) => a.scheme === "batch-settlement")!;
    expect((offer.extra as Json).channelState).to.deep.include({ channelId: ch.id, chargedCumulativeAmount: "100", balance: "20000" });
    expect((offer.extra as Json).voucherState).to.deep.equal({ signedMaxClaimable: "100", signature: (await store.get(ch.id))!.signature });
    // a malformed payload
    await expectRefused(await send(ch.accepted, { ...good, voucher: { ...good.voucher, maxClaimableAmount: "-1" } }), BATCH_REASON.voucherPayload);
    // above the deposit
    await expectRefused(await send(ch.accepted, await voucher(ch, 20_001n)), BATCH_REASON.cumulativeExceedsBalance);
    expect(await charged()).to.equal(PRICE);
    // the good one is served once; the same PAYMENT-SIGNATURE again is refused
    expect((await send(ch.accepted, good)).status).to.equal(200);
    await expectRefused(await send(ch.accepted, good), BATCH_REASON.cumulativeAmountMismatch);
    expect(await charged()).to.equal(2n * PRICE);
    expect((await db.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM netd_vouchers WHERE channel_id = $1", [ch.id])).rows[0].n).to.equal(2);
  });

  it("refuses vouchers once the payer is blocklisted", async function () {
    const ch = await open();
    const blocklister = devnetWallet(0).connect(env.provider);
    await (await env.token.connect(blocklister).blocklist(ch.payer.address)).wait();
    try {
      await expectRefused(await send(ch.accepted, await voucher(ch, 2n * PRICE)), BATCH_REASON.payerBlocklisted);
      expect((await store.get(ch.id))!.charged).to.equal(PRICE);
    } finally {
      await (await env.token.connect(blocklister).unblocklist(ch.payer.address)).wait();
    }
  });

  it("50 parallel vouchers on one channel, arriving in any order, get 50 answers and are charged 50 prices", async function () {
    const ch = await open();
    const payloads = await Promise.all(Array.from({ length: 50 }, (_, i) => voucher(ch, PRICE * BigInt(i + 2))));
    payloads.reverse(); // the highest first: order does not matter
    const results = await Promise.all(payloads.map((p) => send(ch.accepted, p)));
    expect(results.map((r) => r.status)).to.deep.equal(Array(50).fill(200));
    const stored = (await store.get(ch.id))!;
    expect(stored.charged).to.equal(51n * PRICE);
    expect(stored.signedMax).to.equal(51n * PRICE);
    // The server claims exactly what it served (with what other channels owe it).
    const merchantBefore = await env.token.balanceOf(env.merchant.address);
    const report = await new ChannelClaimer(server).claimAndSettle();
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(report.claims.reduce((s, c) => s + c.amount, 0n));
    expect((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, ch.id)).totalClaimed).to.equal(51n * PRICE);
  });

  it("a payer's withdrawal: vouchers are refused from then on, and the running claimer claims at once, long before it can finalize", async function () {
    await new ChannelClaimer(server).claimAndSettle(); // what other channels owe, out of the way
    const ch = await open();
    for (let i = 2n; i <= 5n; i++) expect((await send(ch.accepted, await voucher(ch, i * PRICE))).status).to.equal(200);
    const events: string[] = [];
    const claimer = new ChannelClaimer(server, { intervalMs: 3_600_000, pollMs: 100, onEvent: (e) => events.push(e.kind) });
    await claimer.watchWithdrawals(); // from this block on
    claimer.start();
    try {
      const channels = BatchSettlement__factory.connect(BATCH_SETTLEMENT_ADDRESS, ch.payer);
      await (await channels.initiateWithdraw(ch.config, 20_000n - 5n * PRICE)).wait();
      const deadline = Date.now() + 20_000;
      while ((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, ch.id)).totalClaimed < 5n * PRICE && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, ch.id)).totalClaimed).to.equal(5n * PRICE);
      expect(events.slice(0, 2)).to.deep.equal(["withdrawal", "claimed"]);
      await expectRefused(await send(ch.accepted, await voucher(ch, 6n * PRICE)), BATCH_REASON.withdrawalPending);
      // After the delay the payer gets the rest back, and nothing the merchant earned.
      await env.provider.send("evm_increaseTime", [MIN_WITHDRAW_DELAY + 1]);
      await env.provider.send("evm_mine", []);
      const payerBefore = await env.token.balanceOf(ch.payer.address);
      await (await channels.finalizeWithdraw(ch.config)).wait();
      expect((await env.token.balanceOf(ch.payer.address)) - payerBefore).to.equal(20_000n - 5n * PRICE);
    } finally {
      await claimer.stop();
    }
  });

  it("a cooperative refund returns the unspent deposit and claims what was charged, in one transaction", async function () {
    const ch = await open();
    expect((await send(ch.accepted, await voucher(ch, 2n * PRICE))).status).to.equal(200);
    const [payerBefore, merchantClaimed] = [
      await env.token.balanceOf(ch.payer.address),
      (await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, ch.id)).totalClaimed,
    ];
    const refund = { ...(await voucher(ch, 2n * PRICE)), type: "refund" };
    const r = await send(ch.accepted, refund);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body).to.deep.equal({ message: "Refund acknowledged", channelId: ch.id });
    expect(r.settlement?.success).to.equal(true);
    expect(r.settlement?.extra?.channelState?.chargedCumulativeAmount).to.equal("200");
    expect((await env.token.balanceOf(ch.payer.address)) - payerBefore).to.equal(20_000n - 2n * PRICE);
    const state = await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, ch.id);
    expect(state.totalClaimed - merchantClaimed).to.equal(2n * PRICE);
    expect(state.balance).to.equal(2n * PRICE);
    // Nothing is left to spend or refund.
    await expectRefused(await send(ch.accepted, await voucher(ch, 3n * PRICE)), BATCH_REASON.cumulativeExceedsBalance);
    await expectRefused(await send(ch.accepted, refund), BATCH_REASON.refundNoBalance);
  });
});
