import { expect } from "chai";
import { openDatabase } from "../../src/db";
import express from "express";
import { Wallet, parseEther } from "ethers";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { NetDollarV2 } from "../../typechain-types";
import { devnetWallet, freePort } from "../../src/devnet";
import { randomNonce, signCancelAuthorization } from "../../src/eip712";
import { submitCancelAuthorization } from "../../src/token/authorizations";
import {
  NetDollarFacilitator,
  REASON,
  ServedPayments,
  createFacilitatorApp,
  facilitatorByUrl,
  listen,
  paywall,
  type FacilitatorLike,
  type RunningServer,
} from "../../src/x402";
import { NETWORK, requirementsOf, sendPayment, signPayment, startX402Environment, type X402Environment } from "../helpers/x402";

/**
 * Everything that can be wrong with a payment, and faults of the facilitator and the chain: each is refused with the
 * x402 reference reason string, nothing is served, and no money moves (or moves once).
 */
describe("x402: bad payments and faults", function () {
  this.timeout(120_000);
  let env: X402Environment;
  let api: RunningServer;
  let issuer: NetDollarV2;
  let requirements: PaymentRequirements;
  const served: string[] = [];

  before(async function () {
    env = await startX402Environment();
    api = await env.paidApi({ onServed: (route) => served.push(route) });
    issuer = env.token.connect(devnetWallet(0).connect(env.provider));
    ({ requirements } = await requirementsOf(`${api.url}/joke`));
  });
  after(async function () {
    await env?.stop();
  });

  const balances = async () => Promise.all([env.token.balanceOf(env.agent.address), env.token.balanceOf(env.merchant.address)]);

  /** Sends the payment, expects `status` with `reason`, nothing served and no balance changed. */
  async function expectRefused(
    payment: PaymentPayload | string,
    reason: string | undefined,
    options: { status?: number; url?: string; message?: RegExp } = {},
  ) {
    const before = await balances();
    const servedBefore = served.length;
    const result = await sendPayment(options.url ?? `${api.url}/joke`, payment);
    expect(result.status, JSON.stringify(result.body)).to.equal(options.status ?? 402);
    if (reason !== undefined) {
      expect(result.body.reason).to.equal(reason);
      expect(result.required?.accepts[0]).to.deep.equal(requirements);
      expect(String(result.body.error)).to.match(new RegExp(`^${reason}: `));
    }
    if (options.message) expect(String(result.body.error ?? result.body.details), String(result.body.error)).to.match(options.message);
    expect(served.length).to.equal(servedBefore, "nothing is served");
    expect(await balances()).to.deep.equal(before, "no money moved");
    return result;
  }

  describe("malformed or mismatched payments (the paywall)", function () {
    it("malformed base64 → invalid_payload", async function () {
      await expectRefused("%%% not base64 %%%", REASON.invalidPayload, { message: /not base64-encoded JSON/ });
    });

    it("malformed JSON → invalid_payload", async function () {
      await expectRefused(Buffer.from("{ not json").toString("base64"), REASON.invalidPayload, { message: /not base64-encoded JSON/ });
    });

    it("a payload missing its fields → invalid_payload naming the field", async function () {
      await expectRefused(Buffer.from(JSON.stringify({ x402Version: 2, payload: {} })).toString("base64"), REASON.invalidPayload, { message: /accepted/ });
    });

    it("wrong x402 version → invalid_x402_version", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { x402Version: 1 }), REASON.invalidX402Version, {
        message: /x402Version 1 is not supported/,
      });
    });

    it("wrong network → invalid_exact_evm_network_mismatch", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { accepted: { network: "eip155:8453" } }), REASON.networkMismatch);
    });

    it("wrong asset → invalid_payment_requirements", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { accepted: { asset: env.merchant.address } }), REASON.invalidPaymentRequirements, {
        message: /asset .* is not accepted/,
      });
    });

    it("an amount other than the price (accepted or authorized) → invalid_exact_evm_payload_authorization_value_mismatch", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { accepted: { amount: "999" } }), REASON.valueMismatch);
      await expectRefused(await signPayment(env.agent, requirements, { value: 999n }), REASON.valueMismatch, {
        message: /the authorization is for 999, the price is 1000/,
      });
      await expectRefused(await signPayment(env.agent, requirements, { value: 1001n }), REASON.valueMismatch);
    });

    it("payTo not the server's (accepted or authorized) → invalid_exact_evm_recipient_mismatch", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { accepted: { payTo: env.agent.address } }), REASON.recipientMismatch);
      await expectRefused(await signPayment(env.agent, requirements, { to: env.agent.address }), REASON.recipientMismatch);
    });
  });

  describe("signatures and time (the facilitator)", function () {
    it("wrong signer → invalid_exact_evm_signature", async function () {
      await expectRefused(await signPayment(Wallet.createRandom(), requirements, { from: env.agent.address }), REASON.signature, {
        message: new RegExp(`the signature is not ${env.agent.address}'s`),
      });
    });

    it("signed for another chain, or another token → invalid_exact_evm_signature", async function () {
      await expectRefused(await signPayment(env.agent, requirements, { chainId: 1n }), REASON.signature);
      await expectRefused(await signPayment(env.agent, requirements, { verifyingContract: env.merchant.address }), REASON.signature);
    });

    it("a truncated signature → invalid_exact_evm_failed_to_parse_signature", async function () {
      const payment = await signPayment(env.agent, requirements);
      (payment.payload as { signature: string }).signature = "0x1234";
      await expectRefused(payment, REASON.failedToParseSignature);
    });

    it("expired (validBefore in the past, or too soon to settle) → invalid_exact_evm_payload_authorization_valid_before", async function () {
      const now = BigInt(Math.floor(Date.now() / 1000));
      await expectRefused(await signPayment(env.agent, requirements, { validBefore: now - 1n }), REASON.validBefore);
      await expectRefused(await signPayment(env.agent, requirements, { validBefore: now + 2n }), REASON.validBefore);
    });

    it("not yet valid → invalid_exact_evm_payload_authorization_valid_after", async function () {
      const now = BigInt(Math.floor(Date.now() / 1000));
      await expectRefused(await signPayment(env.agent, requirements, { validAfter: now + 3600n }), REASON.validAfter);
    });

    it("time boundaries at the facilitator: validBefore must be at least now + 6, validAfter at most now", async function () {
      const head = await env.provider.getBlock("latest");
      const t = BigInt(head!.timestamp) + 100n; // a clock ahead of the chain: the chain accepts what the clock does
      const facilitator = new NetDollarFacilitator({
        networks: [{ network: NETWORK, provider: env.provider, relayer: env.relayer, assets: [env.asset] }],
        clock: () => Number(t),
      });
      const verdict = async (o: { validAfter?: bigint; validBefore?: bigint }) => {
        const payment = await signPayment(env.agent, requirements, { validAfter: 0n, validBefore: t + 600n, ...o });
        return facilitator.verify(payment, requirements);
      };
      expect((await verdict({ validBefore: t + 5n })).invalidReason).to.equal(REASON.validBefore);
      expect(await verdict({ validBefore: t + 6n })).to.deep.equal({ isValid: true, payer: env.agent.address });
      expect(await verdict({ validBefore: t + 7n })).to.deep.equal({ isValid: true, payer: env.agent.address });
      expect((await verdict({ validAfter: t + 1n })).invalidReason).to.equal(REASON.validAfter);
      // validAfter = t is valid for the facilitator; the chain (behind t) refuses it in simulation, with the same reason
      expect((await verdict({ validAfter: t })).invalidReason).to.equal(REASON.validAfter);
      expect(await verdict({ validAfter: BigInt(head!.timestamp) - 1n })).to.deep.equal({ isValid: true, payer: env.agent.address });
    });
  });

  describe("the payer's state on chain", function () {
    it("a reused payment → invalid_exact_evm_nonce_already_used, served and paid once, also at another paywall instance on the same database", async function () {
      const db = await openDatabase("memory:");
      try {
        const one = await env.paidApi({ onServed: (route) => served.push(route), served: new ServedPayments(db) });
        const payment = await signPayment(env.agent, requirements);
        const [agentBefore, merchantBefore] = await balances();
        const first = await sendPayment(`${one.url}/joke`, payment);
        expect(first.status).to.equal(200);
        expect(first.settlement?.success).to.equal(true);
        expect(await balances()).to.deep.equal([agentBefore - 1000n, merchantBefore + 1000n]);
        await new Promise((r) => setTimeout(r, 50)); // the "served" mark is written as the response finishes
        await expectRefused(payment, REASON.nonceAlreadyUsed, { url: `${one.url}/joke` });
        const other = await env.paidApi({ onServed: (route) => served.push(route), served: new ServedPayments(db) });
        await expectRefused(payment, REASON.nonceAlreadyUsed, { url: `${other.url}/joke` });
        expect(await balances()).to.deep.equal([agentBefore - 1000n, merchantBefore + 1000n]);
      } finally {
        await db.close();
      }
    });

    it("a cancelled authorization → invalid_exact_evm_nonce_already_used", async function () {
      const nonce = randomNonce();
      const cancel = await signCancelAuthorization(
        env.agent,
        { name: env.asset.name, version: env.asset.version, chainId: 31337n, verifyingContract: env.asset.address },
        { authorizer: env.agent.address, nonce },
      );
      await (await submitCancelAuthorization(issuer, env.agent.address, nonce, cancel)).wait();
      await expectRefused(await signPayment(env.agent, requirements, { nonce }), REASON.nonceAlreadyUsed);
    });

    it("insufficient balance → invalid_exact_evm_insufficient_balance", async function () {
      const poor = Wallet.createRandom();
      const result = await expectRefused(await signPayment(poor, requirements), REASON.insufficientBalance);
      expect(String(result.body.error)).to.match(/holds 0\.00 NETD/);
    });

    it("a blocklisted payer → invalid_exact_evm_transaction_simulation_failed, saying it is blocklisted", async function () {
      await (await issuer.blocklist(env.agent.address)).wait();
      try {
        await expectRefused(await signPayment(env.agent, requirements), REASON.simulationFailed, { message: /blocklist/i });
      } finally {
        await (await issuer.unblocklist(env.agent.address)).wait();
      }
    });

    it("a paused token → invalid_exact_evm_transaction_simulation_failed, saying it is paused", async function () {
      await (await issuer.pause()).wait();
      try {
        await expectRefused(await signPayment(env.agent, requirements), REASON.simulationFailed, { message: /paused/i });
      } finally {
        await (await issuer.unpause()).wait();
      }
    });
  });

  describe("facilitator and relayer faults", function () {
    it("facilitator unreachable → 502, nothing served, nothing charged; the same payment works once it is back", async function () {
      const port = await freePort();
      const down = await env.paidApi({ facilitatorUrl: `http://127.0.0.1:${port}`, onServed: (route) => served.push(route) });
      const payment = await signPayment(env.agent, requirements);
      const result = await expectRefused(payment, undefined, {
        status: 502,
        url: `${down.url}/joke`,
        message: /could not be reached: nothing was settled for this request; present the same payment again/,
      });
      expect(result.body.error).to.equal("the payment facilitator could not be reached: nothing was settled for this request; present the same payment again");
      const back = await listen(createFacilitatorApp(env.facilitator), port);
      env.servers.push(back);
      const retry = await sendPayment(`${down.url}/joke`, payment);
      expect(retry.status).to.equal(200);
    });

    it("relayer out of gas money → invalid_transaction_state, nothing served or charged; the same payment settles once it is funded", async function () {
      const broke = Wallet.createRandom(env.provider);
      const facilitator = new NetDollarFacilitator({ networks: [{ network: NETWORK, provider: env.provider, relayer: broke, assets: [env.asset] }] });
      const server = await listen(createFacilitatorApp(facilitator), 0);
      env.servers.push(server);
      const health = await fetch(`${server.url}/health`);
      expect(health.status).to.equal(503);
      expect(await health.json()).to.deep.include({ status: "degraded" });

      const poorApi = await env.paidApi({ facilitatorUrl: server.url, onServed: (route) => served.push(route) });
      const payment = await signPayment(env.agent, requirements);
      const result = await expectRefused(payment, REASON.invalidTransactionState, { url: `${poorApi.url}/joke`, message: /relayer .* has too little ETH/ });
      expect(result.settlement).to.deep.include({ success: false, errorReason: REASON.invalidTransactionState, transaction: "" });

      await (await env.relayer.sendTransaction({ to: broke.address, value: parseEther("1") })).wait();
      const [agentBefore, merchantBefore] = await balances();
      const retry = await sendPayment(`${poorApi.url}/joke`, payment);
      expect(retry.status).to.equal(200);
      expect(await balances()).to.deep.equal([agentBefore - 1000n, merchantBefore + 1000n]);
    });

    it("the facilitator's HTTP API answers malformed requests with 400 and the reason", async function () {
      const post = (path: string, body: string) =>
        fetch(`${env.facilitatorServer.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const bad = await post("/verify", "{ not json");
      expect(bad.status).to.equal(400);
      expect(await bad.json()).to.deep.include({ isValid: false, invalidReason: REASON.invalidPayload });
      const empty = await post("/settle", "{}");
      expect(empty.status).to.equal(400);
      expect(await empty.json()).to.deep.include({ success: false, errorReason: REASON.invalidPayload });
      const wrongNetwork = await env.facilitator.verify(await signPayment(env.agent, requirements, { accepted: { network: "eip155:1" } }), {
        ...requirements,
        network: "eip155:1",
      });
      expect(wrongNetwork).to.deep.include({ isValid: false, invalidReason: REASON.invalidNetwork });
    });

    it("GET /supported lists exact on eip155:31337 and the relayer; /metrics counts outcomes", async function () {
      const supported = await (await fetch(`${env.facilitatorServer.url}/supported`)).json();
      expect(supported).to.deep.equal({
        kinds: [
          { x402Version: 2, scheme: "exact", network: NETWORK },
          { x402Version: 2, scheme: "batch-settlement", network: NETWORK },
        ],
        extensions: [],
        signers: { "eip155:*": [env.relayer.address] },
      });
      const metrics = await (await fetch(`${env.facilitatorServer.url}/metrics`)).text();
      expect(metrics).to.match(/netd_facilitator_verify_total\{result="valid"\} \d+/);
      expect(metrics).to.match(new RegExp(`netd_facilitator_verify_total\\{result="${REASON.valueMismatch}"\\} 2`));
      expect(metrics).to.match(/netd_facilitator_settle_total\{result="success"\} \d+/);
      // prom-client's exposition: histograms of the times, the in-flight gauge, the relayer's balance per network.
      expect(metrics).to.match(/# TYPE netd_facilitator_settle_seconds histogram\n/);
      expect(metrics).to.match(/netd_facilitator_settle_seconds_count [1-9]\d*/);
      expect(metrics).to.match(/netd_facilitator_verify_seconds_bucket\{le="\+Inf"\} [1-9]\d*/);
      expect(metrics).to.include("netd_facilitator_settle_in_flight 0");
      const balance = await env.provider.getBalance(env.relayer.address);
      expect(metrics).to.include(`netd_facilitator_relayer_balance_wei{network="${NETWORK}",relayer="${env.relayer.address}"} ${Number(balance)}`);
      const health = await (await fetch(`${env.facilitatorServer.url}/health`)).json();
      expect(health).to.deep.include({ status: "ok" });
    });
  });

  describe("the window between verification and settlement", function () {
    /** A facilitator that, after a payment verifies, lets the payer cancel it on chain (the race the protocol allows). */
    function cancellingFacilitator(inner: FacilitatorLike): FacilitatorLike {
      return {
        async verify(payment, reqs) {
          const verdict = await inner.verify(payment, reqs);
          const { from, nonce } = (payment.payload as { authorization: { from: string; nonce: string } }).authorization;
          const cancel = await signCancelAuthorization(
            env.agent,
            { name: env.asset.name, version: env.asset.version, chainId: 31337n, verifyingContract: env.asset.address },
            { authorizer: from, nonce },
          );
          await (await submitCancelAuthorization(issuer, from, nonce, cancel)).wait();
          return verdict;
        },
        settle: (payment, reqs) => inner.settle(payment, reqs),
      };
    }

    for (const mode of ["settle-before-serve", "verify-then-settle"] as const) {
      it(`${mode}: a payer who cancels after verification gets a 402 and not the response`, async function () {
        let handled = 0;
        const app = express();
        app.use(
          paywall({
            routes: { "GET /secret": { price: "$0.001" } },
            payTo: env.merchant.address,
            network: NETWORK,
            asset: env.asset,
            facilitator: cancellingFacilitator(facilitatorByUrl(env.facilitatorServer.url)),
            mode,
          }),
        );
        app.get("/secret", (_req, res) => {
          handled++;
          res.json({ secret: "the paid content" });
        });
        const server = await listen(app, 0);
        env.servers.push(server);
        const { requirements: r } = await requirementsOf(`${server.url}/secret`);
        const before = await balances();
        const result = await sendPayment(`${server.url}/secret`, await signPayment(env.agent, r));
        expect(result.status).to.equal(402);
        expect(result.body.reason).to.equal(REASON.nonceAlreadyUsed);
        expect(JSON.stringify(result.body)).to.not.include("the paid content");
        expect(await balances()).to.deep.equal(before);
        // settle-before-serve never runs the handler for an unsettled payment; verify-then-settle runs it and discards its answer.
        expect(handled).to.equal(mode === "settle-before-serve" ? 0 : 1);
      });
    }
  });
});
