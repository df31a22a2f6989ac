import { expect } from "chai";
import { Wallet, type Signer } from "ethers";
import type { PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { devnetWallet } from "../../src/devnet";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import {
  BATCH_REASON,
  BATCH_SETTLEMENT_ADDRESS,
  ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  MIN_WITHDRAW_DELAY,
  NetDollarFacilitator,
  channelId,
  createDepositPayload,
  createVoucherPayload,
  createFacilitatorApp,
  listen,
  normalizeConfig,
  readChannelState,
  signVoucher,
  type ChannelConfig,
} from "../../src/x402";
import { randomNonce } from "../../src/eip712";
import { BatchSettlement__factory } from "../../typechain-types";

/**
 * Our facilitator's batch-settlement side over HTTP, on a `hardhat node`: what it answers to every payload type, the
 * reference reason strings for every refusal, 50 concurrent deposits from one relayer, a deposit settled twice (and
 * after a restart) moving money once, and the receiver-authorizer key that signs only for authenticated servers.
 */
describe("x402 batch-settlement: our facilitator", function () {
  this.timeout(180_000);
  let env: X402Environment;
  const contract = { address: BATCH_SETTLEMENT_ADDRESS, chainId: 31337n };
  const authorizer = devnetWallet(13);
  const API_KEY = "test-api-key-0123456789";
  let withAuthorizer: { url: string; close(): Promise<void> };

  before(async function () {
    env = await startX402Environment();
    const facilitator = new NetDollarFacilitator({
      networks: [{ network: NETWORK, provider: env.provider, relayer: new Wallet(devnetWallet(14).privateKey, env.provider), assets: [env.asset] }],
      receiverAuthorizer: authorizer,
    });
    withAuthorizer = await listen(createFacilitatorApp(facilitator, { apiKeys: [API_KEY] }), 0);
    env.servers.push(withAuthorizer);
  });
  after(async function () {
    await env?.stop();
  });

  const requirements = (overrides: Partial<PaymentRequirements> = {}): PaymentRequirements =>
    ({
      scheme: "batch-settlement",
      network: NETWORK,
      asset: env.asset.address,
      amount: "100",
      payTo: env.merchant.address,
      maxTimeoutSeconds: 300,
      extra: { name: env.asset.name, version: env.asset.version, receiverAuthorizer: authorizer.address, withdrawDelay: MIN_WITHDRAW_DELAY },
      ...overrides,
    }) as PaymentRequirements;
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
  const now = () => BigInt(Math.floor(Date.now() / 1000));
  const deposit = (
    payer: Signer & { address: string },
    config: ChannelConfig,
    amount = 10_000n,
    maxClaimableAmount = 100n,
    extra: { voucherSigner?: Signer; validBefore?: bigint } = {},
  ) =>
    createDepositPayload({
      payer,
      voucherSigner: extra.voucherSigner,
      contract,
      collector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
      token: { name: env.asset.name, version: env.asset.version, chainId: 31337n, verifyingContract: env.asset.address },
      config,
      amount,
      maxClaimableAmount,
      validBefore: extra.validBefore ?? now() + 300n,
    });
  const post = async <T>(url: string, path: "verify" | "settle", payload: object, reqs = requirements(), headers: Record<string, string> = {}): Promise<T> => {
    const res = await fetch(`${url}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ x402Version: 2, paymentPayload: { x402Version: 2, accepted: reqs, payload }, paymentRequirements: reqs }),
    });
    return (await res.json()) as T;
  };
  const verify = (payload: object, reqs?: PaymentRequirements) =>
    post<VerifyResponse & { extra?: Record<string, unknown> }>(env.facilitatorServer.url, "verify", payload, reqs);
  const settle = (payload: object, reqs?: PaymentRequirements, url = env.facilitatorServer.url, headers: Record<string, string> = {}) =>
    post<SettleResponse & { extra?: { channelState?: Record<string, unknown> } }>(url, "settle", payload, reqs, headers);

  it("/supported lists batch-settlement, with the receiver authorizer only when it has one", async function () {
    const plain = (await (await fetch(`${env.facilitatorServer.url}/supported`)).json()) as { kinds: unknown[] };
    expect(plain.kinds).to.deep.include({ x402Version: 2, scheme: "batch-settlement", network: NETWORK });
    const signing = (await (await fetch(`${withAuthorizer.url}/supported`)).json()) as { kinds: unknown[] };
    expect(signing.kinds).to.deep.include({ x402Version: 2, scheme: "batch-settlement", network: NETWORK, extra: { receiverAuthorizer: authorizer.address } });
  });

  it("verifies and settles a deposit, answering the channel snapshot; the payer's tokens are in the channel", async function () {
    const config = configOf(env.agent.address);
    const payload = await deposit(env.agent, config);
    const id = channelId(contract, config);
    const v = await verify(payload);
    expect(v).to.deep.include({ isValid: true, payer: env.agent.address });
    expect(v.extra).to.deep.equal({ channelId: id, balance: "0", totalClaimed: "0", withdrawRequestedAt: 0, refundNonce: "0" });
    const before = await env.token.balanceOf(env.agent.address);
    const s = await settle(payload);
    expect(s).to.deep.include({ success: true, network: NETWORK, payer: env.agent.address, amount: "10000" });
    expect(s.extra?.channelState).to.deep.equal({ channelId: id, balance: "10000", totalClaimed: "0", withdrawRequestedAt: 0, refundNonce: "0" });
    expect(before - (await env.token.balanceOf(env.agent.address))).to.equal(10_000n);
    // Settled again (a retry, or after our restart): the same transaction, no second deposit.
    expect(await settle(payload)).to.deep.include({ success: true, transaction: s.transaction });
    const restarted = new NetDollarFacilitator({ networks: [{ network: NETWORK, provider: env.provider, relayer: env.relayer, assets: [env.asset] }] });
    const again = await restarted.settle({ x402Version: 2, accepted: requirements(), payload }, requirements());
    expect(again).to.deep.include({ success: true, transaction: s.transaction });
    expect((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, id)).balance).to.equal(10_000n);
    // Then vouchers verify against the channel, each ceiling above what is claimed and within the balance.
    expect(await verify(await createVoucherPayload(env.agent, contract, config, 300n))).to.deep.include({ isValid: true });
    expect(await verify(await createVoucherPayload(env.agent, contract, config, 10_001n))).to.deep.include({
      isValid: false,
      invalidReason: BATCH_REASON.cumulativeExceedsBalance,
    });
  });

  it("50 concurrent deposits from one relayer all land (the reference facilitator's single key fails with 'nonce too low')", async function () {
    const payloads = await Promise.all(Array.from({ length: 50 }, () => deposit(env.agent, configOf(env.agent.address), 1_000n, 10n)));
    const results = await Promise.all(payloads.map((p) => settle(p)));
    expect(results.filter((r) => !r.success)).to.deep.equal([]);
    expect(new Set(results.map((r) => r.transaction)).size).to.equal(50);
    for (const p of payloads) expect((await readChannelState(env.provider, BATCH_SETTLEMENT_ADDRESS, p.voucher.channelId)).balance).to.equal(1_000n);
  });

  it("refuses every bad deposit and voucher with the reference reason, and moves nothing", async function () {
    const payer = env.agent;
    const c = configOf(payer.address);
    const stranger = Wallet.createRandom();
    const before = await env.token.balanceOf(payer.address);
    const cases: [string, object, PaymentRequirements | undefined, string][] = [
      ["wrong voucher signer", await deposit(payer, c, 1_000n, 10n, { voucherSigner: stranger }), undefined, BATCH_REASON.voucherSignature],
      ["channel id of another config", { ...(await deposit(payer, c)), channelConfig: configOf(payer.address) }, undefined, BATCH_REASON.channelIdMismatch],
      ["pays someone else", await deposit(payer, configOf(payer.address, { receiver: stranger.address })), undefined, BATCH_REASON.receiverMismatch],
      [
        "another receiver authorizer",
        await deposit(payer, configOf(payer.address, { receiverAuthorizer: stranger.address })),
        undefined,
        BATCH_REASON.receiverAuthorizerMismatch,
      ],
      ["another token", await deposit(payer, configOf(payer.address, { token: stranger.address })), undefined, BATCH_REASON.tokenMismatch],
      ["another withdraw delay", await deposit(payer, configOf(payer.address, { withdrawDelay: 1000 })), undefined, BATCH_REASON.withdrawDelayMismatch],
      ["a ceiling above the deposit", await deposit(payer, c, 1_000n, 1_001n), undefined, BATCH_REASON.cumulativeExceedsBalance],
      ["an authorization about to expire", await deposit(payer, c, 1_000n, 10n, { validBefore: now() + 3n }), undefined, BATCH_REASON.validBefore],
      ["more than the payer holds", await deposit(payer, c, before + 1n, 10n), undefined, BATCH_REASON.insufficientBalance],
      [
        "signed by someone else",
        { ...(await deposit(payer, c)), deposit: { ...(await deposit(stranger, configOf(stranger.address))).deposit } },
        undefined,
        BATCH_REASON.receiveAuthorizationSignature,
      ],
      [
        "a voucher for a channel never funded",
        await createVoucherPayload(payer, contract, configOf(payer.address), 10n),
        undefined,
        BATCH_REASON.channelNotFound,
      ],
      ["a malformed amount", { ...(await deposit(payer, c)), deposit: { amount: "1.5", authorization: {} } }, undefined, BATCH_REASON.depositPayload],
      ["an unknown payload type", { type: "withdraw" }, undefined, BATCH_REASON.payloadType],
      ["the wrong scheme", await deposit(payer, c), requirements({ scheme: "exact" }), "invalid_exact_evm_payload_authorization_value_mismatch"],
    ];
    for (const [what, payload, reqs, reason] of cases) {
      const v = await verify(payload, reqs);
      expect(v.isValid, what).to.equal(false);
      if (what !== "the wrong scheme") expect(v.invalidReason, `${what}: ${v.invalidMessage}`).to.equal(reason);
      const s = await settle(payload, reqs);
      expect(s.success, what).to.equal(false);
    }
    expect(await env.token.balanceOf(payer.address)).to.equal(before);
  });

  it("refuses a paused or blocklisted deposit after simulating it, in plain words", async function () {
    const issuer = new Wallet(devnetWallet(0).privateKey, env.provider);
    const payload = await deposit(env.agent, configOf(env.agent.address), 1_000n, 10n);
    await (await env.token.connect(issuer).pause()).wait();
    const paused = await verify(payload);
    await (await env.token.connect(issuer).unpause()).wait();
    expect(paused).to.deep.include({ isValid: false, invalidReason: BATCH_REASON.depositSimulationFailed });
    expect(paused.invalidMessage).to.match(/paused/);
    await (await env.token.connect(issuer).blocklist(env.agent.address)).wait();
    const blocked = await verify(payload);
    await (await env.token.connect(issuer).unblocklist(env.agent.address)).wait();
    expect(blocked.invalidMessage).to.match(/blocklisted/);
  });

  it("claims and settles for a server that signs its claims; signs them itself only for an authenticated server", async function () {
    const payer = new Wallet(devnetWallet(6).privateKey, env.provider);
    await (await env.token.connect(env.agent).transfer(payer.address, 50_000n)).wait();
    const c = configOf(payer.address);
    expect(await settle(await deposit(payer, c, 20_000n, 100n))).to.deep.include({ success: true });
    const v = await signVoucher(payer, contract, channelId(contract, c), 700n);
    const claim = { type: "claim", claims: [{ voucher: { channel: c, maxClaimableAmount: "700" }, signature: v.signature, totalClaimed: "700" }] };
    // No signature: our plain facilitator has no key; the signing one wants credentials.
    expect(await settle(claim)).to.deep.include({ success: false, errorReason: BATCH_REASON.authorizerNotConfigured });
    expect(await settle(claim, undefined, withAuthorizer.url)).to.deep.include({ success: false, errorReason: BATCH_REASON.unauthenticated });
    expect(await settle(claim, undefined, withAuthorizer.url, { authorization: "Bearer wrong-key-0123456789" })).to.deep.include({
      success: false,
      errorReason: BATCH_REASON.unauthenticated,
    });
    const claimed = await settle(claim, undefined, withAuthorizer.url, { authorization: `Bearer ${API_KEY}` });
    expect(claimed).to.deep.include({ success: true, amount: "" });
    const channels = BatchSettlement__factory.connect(BATCH_SETTLEMENT_ADDRESS, env.provider);
    const [totalClaimed] = await channels.channels(channelId(contract, c));
    expect(totalClaimed).to.equal(20_000n);
    expect((await channels.channels(channelId(contract, c)))[1]).to.equal(700n);
    // Settle: the merchant gets what was claimed (and with nothing left, "nothing to settle").
    const merchantBefore = await env.token.balanceOf(env.merchant.address);
    const [owedClaimed, owedSettled] = await channels.receivers(env.merchant.address, env.asset.address);
    const settled = await settle({ type: "settle", receiver: env.merchant.address, token: env.asset.address });
    expect(settled).to.deep.include({ success: true, amount: (owedClaimed - owedSettled).toString() });
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(owedClaimed - owedSettled);
    expect(await settle({ type: "settle", receiver: env.merchant.address, token: env.asset.address })).to.deep.include({
      success: false,
      errorReason: BATCH_REASON.nothingToSettle,
    });
    // A cooperative refund of the rest, signed by the facilitator for the authenticated server.
    const refund = {
      type: "refund",
      channelConfig: c,
      voucher: { channelId: channelId(contract, c), maxClaimableAmount: "700", signature: v.signature },
      amount: "19300",
      refundNonce: "0",
      claims: [],
    };
    const payerBefore = await env.token.balanceOf(payer.address);
    const refunded = await settle(refund, undefined, withAuthorizer.url, { authorization: `Bearer ${API_KEY}` });
    expect(refunded).to.deep.include({ success: true, amount: "19300" });
    expect(refunded.extra?.channelState).to.deep.include({ balance: "700", totalClaimed: "700", refundNonce: "1" });
    expect((await env.token.balanceOf(payer.address)) - payerBefore).to.equal(19_300n);
    expect(await settle({ ...refund, refundNonce: "1" }, undefined, withAuthorizer.url, { authorization: `Bearer ${API_KEY}` })).to.deep.include({
      success: false,
      errorReason: BATCH_REASON.refundNoBalance,
    });
  });
});
