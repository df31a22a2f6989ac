import { expect } from "chai";
import express from "express";
import type { PaymentRequirements } from "@x402/core/types";
import { openDatabase, type Database } from "../../src/db";
import { PayingClient, REASON, ServedPayments, listen, type PaywallMode, type RunningServer } from "../../src/x402";
import { requirementsOf, sendPayment, signPayment, startX402Environment, type X402Environment } from "../helpers/x402";

/**
 * exact payments whose answer was lost: the paywall (or its connection to the facilitator) died after the money moved.
 * Presented again, such a payment is served once (its settlement found by the facilitator's idempotent settle),
 * never charged twice, and refused once its answer has left, across paywall processes sharing a database; a
 * facilitator that drops /settle gets the payer a 502 in both modes (never a hang), and our client resends the same
 * payment until it is served.
 */
describe("x402 exact: a payment whose money moved is served (crash recovery)", function () {
  this.timeout(120_000);
  let env: X402Environment;
  let requirements: PaymentRequirements;
  let db: Database;
  const served: string[] = [];

  before(async function () {
    env = await startX402Environment();
    ({ requirements } = await requirementsOf(`${(await env.paidApi()).url}/joke`));
    db = await openDatabase("memory:");
  });
  after(async function () {
    await env?.stop();
    await db?.close();
  });

  /**
   * A facilitator in front of ours that forwards /verify and, for the first `drops` calls to /settle, forwards it
   * (the money moves) or not (`settleFirst: false`) and then drops the connection without an answer.
   */
  async function flakyFacilitator(options: { drops: number; settleFirst: boolean }): Promise<RunningServer> {
    let dropped = 0;
    const app = express();
    app.use(express.json());
    const forward = async (path: string, body: unknown) =>
      (
        await fetch(`${env.facilitatorServer.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      ).json();
    app.post("/verify", async (req, res) => res.json(await forward("/verify", req.body)));
    app.post("/settle", async (req, res) => {
      if (dropped < options.drops) {
        dropped++;
        if (options.settleFirst) await forward("/settle", req.body);
        req.socket.destroy();
        return;
      }
      res.json(await forward("/settle", req.body));
    });
    const running = await listen(app, 0);
    env.servers.push(running);
    return running;
  }

  const merchantBalance = () => env.token.balanceOf(env.merchant.address);

  it("settled, then its answer lost: presented again it is served once with the original transaction, then refused", async function () {
    const api = await env.paidApi({ onServed: (r) => served.push(r) });
    const payment = await signPayment(env.agent, requirements);
    const before = await merchantBalance();
    // The paywall's process died right after the facilitator settled: the payer never got an answer.
    const earlier = await env.facilitator.settle(payment, requirements);
    expect(earlier.success).to.equal(true);
    const again = await sendPayment(`${api.url}/joke`, payment);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.settlement).to.deep.include({ success: true, transaction: earlier.transaction });
    const third = await sendPayment(`${api.url}/joke`, payment);
    expect(third.status).to.equal(402);
    expect(third.body.reason).to.equal(REASON.nonceAlreadyUsed);
    expect((await merchantBalance()) - before).to.equal(BigInt(requirements.amount));
  });

  it("two paywall processes on one database: served by one, refused by the other; a lost answer is served by either, once", async function () {
    const a = await env.paidApi({ served: new ServedPayments(db) });
    const b = await env.paidApi({ served: new ServedPayments(db) });
    const first = await signPayment(env.agent, requirements);
    expect((await sendPayment(`${a.url}/joke`, first)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 50)); // its "served" mark is written as the response finishes
    const elsewhere = await sendPayment(`${b.url}/joke`, first);
    expect(elsewhere.status).to.equal(402);
    expect(elsewhere.body.reason).to.equal(REASON.nonceAlreadyUsed);
    const lost = await signPayment(env.agent, requirements);
    expect((await env.facilitator.settle(lost, requirements)).success).to.equal(true);
    expect((await sendPayment(`${b.url}/joke`, lost)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 50));
    expect((await sendPayment(`${a.url}/joke`, lost)).status).to.equal(402);
  });

  for (const mode of ["settle-before-serve", "verify-then-settle"] as PaywallMode[]) {
    it(`${mode}: a facilitator that drops /settle gets the payer a 502 at once (never a hang), and the same payment is served once it is back`, async function () {
      const flaky = await flakyFacilitator({ drops: 1, settleFirst: false });
      const api = await env.paidApi({ mode, facilitatorUrl: flaky.url });
      const payment = await signPayment(env.agent, requirements);
      const started = Date.now();
      const lost = await sendPayment(`${api.url}/joke`, payment);
      expect(Date.now() - started).to.be.below(10_000);
      expect(lost.status).to.equal(502);
      expect(String(lost.body.error)).to.match(/the payment may have been settled; present the same payment again: it is never charged twice/);
      const before = await merchantBalance();
      const again = await sendPayment(`${api.url}/joke`, payment);
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect((await merchantBalance()) - before).to.equal(BigInt(requirements.amount));
    });

    it(`${mode}: the money moved and the answer was lost: our client resends the same payment and is served, charged once`, async function () {
      const flaky = await flakyFacilitator({ drops: 1, settleFirst: true });
      const api = await env.paidApi({ mode, facilitatorUrl: flaky.url });
      const client = new PayingClient({ signer: env.agent });
      const before = await merchantBalance();
      const res = await client.fetch(`${api.url}/joke`);
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(client.payments).to.have.length(1);
      expect(client.payments[0].status).to.equal("settled");
      expect((await merchantBalance()) - before).to.equal(BigInt(requirements.amount));
    });
  }
});
