import { tmpdir } from "node:os";
import { expect } from "chai";
import { getAddress, keccak256, toUtf8Bytes } from "ethers";
import type { PaymentRequirements } from "@x402/core/types";
import {
  MANDATE_REQUIRED_TERMS,
  CheckoutMandateSchema,
  MandateRefusedError,
  MandateWallet,
  OpenCheckoutMandateSchema,
  OpenPaymentMandateSchema,
  PaymentMandateSchema,
  checkCheckoutConstraints,
  checkMandateBinding,
  checkPaymentConstraints,
  generateMandateKey,
  keyThumbprint,
  mandateNonce,
  mandateRequiredBy,
  mandateTermsFor,
  openPaymentMandate,
  parseMandate,
  payeeOf,
  presentPaymentMandate,
  signMandate,
  splitChain,
  verifyMandate,
  verifyPaymentMandateChain,
  x402PaymentMandate,
  type OpenPaymentMandate,
} from "../../src/ap2";
import { InvalidInputError } from "../../src/errors";
import { checkoutOfferOf } from "../../src/x402/checkouts";

/**
 * AP2 v0.2 mandates (src/ap2): documents against their schemas, SD-JWT signing and the delegation chain, every
 * constraint at its boundary, and the agent's wallet refusing before it signs. No chain: the x402 round trips with
 * money are in test/x402/mandates.test.ts.
 */
const NETWORK = "eip155:31337";
const ASSET = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const MERCHANT_A = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const MERCHANT_B = getAddress("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");
const STRANGER = getAddress("0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc");
const T0 = 1_790_000_000; // 2026-09-21
const DAY = 86_400;

function offer(amount: bigint, payTo = MERCHANT_A): PaymentRequirements {
  return {
    scheme: "exact",
    network: NETWORK,
    asset: ASSET,
    amount: amount.toString(),
    payTo,
    maxTimeoutSeconds: 60,
    extra: { name: "NET Dollar", version: "2" },
  };
}

describe("AP2 mandates", function () {
  const user = generateMandateKey();
  const agent = generateMandateKey();
  const other = generateMandateKey();
  // "up to $5, two merchants, this week", at most $2 a payment, at least 1 cent.
  const limits = {
    agentKey: agent.publicJwk,
    maxAmount: 2_000_000n,
    minAmount: 10_000n,
    budget: 5_000_000n,
    payees: [payeeOf(NETWORK, MERCHANT_A, "weather"), payeeOf(NETWORK, MERCHANT_B, "jokes")],
    notBefore: new Date(T0 * 1000),
    notAfter: new Date((T0 + 7 * DAY) * 1000),
    issuedAt: new Date(T0 * 1000),
    expiresAt: new Date((T0 + 7 * DAY) * 1000),
  };
  let open: OpenPaymentMandate;
  let token: string;

  before(async function () {
    open = openPaymentMandate(limits);
    token = await signMandate(open, user.privateJwk);
  });

  describe("documents follow the AP2 schemas", function () {
    it("an open payment mandate has the constraints asked for, cnf the agent's key, and passes its schema", function () {
      expect(OpenPaymentMandateSchema.safeParse(open).success).to.equal(true);
      expect(open.vct).to.equal("mandate.payment.open.1");
      expect(open.cnf.jwk).to.deep.equal(agent.publicJwk);
      expect(open.constraints).to.deep.include({ type: "payment.amount_range", currency: "USD", max: 200, min: 1 });
      expect(open.constraints).to.deep.include({ type: "payment.budget", currency: "USD", max: 5 });
      expect(open.constraints).to.deep.include({ type: "payment.agent_recurrence", frequency: "ON_DEMAND" });
      expect(open.constraints).to.deep.include({
        type: "payment.execution_date",
        not_before: "2026-09-21T14:13:20Z",
        not_after: "2026-09-28T14:13:20Z",
      });
      expect(open).to.include({ iat: T0, exp: T0 + 7 * DAY });
    });

    it("the closed payment mandate for an x402 offer passes its schema, and so do checkout mandates", function () {
      const closed = x402PaymentMandate("http://127.0.0.1:4021/forecast", offer(10_000n), T0);
      expect(PaymentMandateSchema.safeParse(closed).success).to.equal(true);
      expect(closed).to.deep.include({ vct: "mandate.payment.1", payment_amount: { amount: 1, currency: "USD" } });
      expect(closed.payee).to.deep.equal({ id: `${NETWORK}:${MERCHANT_A}`, name: "127.0.0.1:4021", website: "http://127.0.0.1:4021" });
      expect(closed.payment_instrument).to.deep.include({ id: `${NETWORK}/erc20:${ASSET}`, type: "x402.exact" });
      expect(CheckoutMandateSchema.safeParse({ vct: "mandate.checkout.1", checkout_jwt: "eyJ.a.b", checkout_hash: "abc", iat: T0 }).success).to.equal(true);
      const openCheckout = {
        vct: "mandate.checkout.open.1",
        constraints: [{ type: "checkout.line_items", items: [{ id: "l1", acceptable_items: [{ id: "sku-1", title: "Forecast" }], quantity: 1 }] }],
        cnf: { jwk: agent.publicJwk },
      };
      expect(OpenCheckoutMandateSchema.safeParse(openCheckout).success).to.equal(true);
      expect(parseMandate(openCheckout).vct).to.equal("mandate.checkout.open.1");
    });

    it("a document that breaks its schema is refused with every field named", function () {
      expect(() => parseMandate({ vct: "mandate.payment.9" })).to.throw(InvalidInputError, 'vct "mandate.payment.9" is not one of');
      expect(() => parseMandate({ vct: "mandate.payment.open.1", constraints: [{ type: "payment.amount_range", currency: "usd", max: 1.5 }] })).to.throw(
        InvalidInputError,
        /constraints\.0\.currency: an ISO 4217 alpha-3 code.*constraints\.0\.max: Expected integer.*cnf: Required/,
      );
      expect(() => parseMandate({ vct: "mandate.checkout.open.1", constraints: [], cnf: { jwk: agent.publicJwk } })).to.throw(
        InvalidInputError,
        "must contain a checkout.line_items constraint",
      );
      expect(() => openPaymentMandate({ agentKey: agent.publicJwk, maxAmount: 1_500n })).to.throw(InvalidInputError, "is not a whole number of cents");
    });
  });

  describe("signing and the delegation chain", function () {
    it("a signed mandate verifies, names its issuer, and keeps the document as signed", async function () {
      const verified = await verifyMandate(token, { now: T0 + 1 });
      expect(verified.mandate).to.deep.equal(open);
      expect(verified.issuer).to.deep.equal(user.publicJwk);
      expect(verified.issuerKid).to.equal(await keyThumbprint(user.publicJwk));
      expect(verified.trustedIssuer).to.equal(false);
      expect((await verifyMandate(token, { now: T0 + 1, issuers: [user.publicJwk] })).trustedIssuer).to.equal(true);
    });

    it("an issuer not trusted, a tampered disclosure, a swapped signature and an expired mandate are refused", async function () {
      await expectRejected(verifyMandate(token, { now: T0 + 1, issuers: [other.publicJwk] }), "which is not a trusted issuer");
      const [jwt, disclosure] = token.split("~");
      const forged = Buffer.from(Buffer.from(disclosure, "base64url").toString("utf8").replace('"max":200', '"max":20000')).toString("base64url");
      await expectRejected(verifyMandate(`${jwt}~${forged}~`, { now: T0 + 1 }), "delegate_payload must disclose exactly one mandate");
      const otherToken = await signMandate(open, other.privateJwk);
      const [h, p] = jwt.split(".");
      await expectRejected(
        verifyMandate(`${h}.${p}.${otherToken.split("~")[0].split(".")[2]}~${disclosure}~`, { now: T0 + 1 }),
        "the signature does not verify",
      );
      await expectRejected(verifyMandate(token, { now: T0 + 7 * DAY }), "the mandate expired at 2026-09-28T14:13:20.000Z");
      expect((await verifyMandate(token, { now: T0 + 7 * DAY - 1 })).mandate.vct).to.equal("mandate.payment.open.1");
      await expectRejected(verifyMandate("not a mandate", { now: T0 }), "an SD-JWT ends with '~'");
    });

    it("the agent closes it: two hops joined by ~~, bound by sd_hash, and the payment nonce is keccak256 of the chain", async function () {
      const closed = x402PaymentMandate("http://127.0.0.1:4021/forecast", offer(10_000n), T0 + 10);
      const chain = await presentPaymentMandate(token, closed, agent.privateJwk, { aud: "http://127.0.0.1:4021/forecast", nonce: "n-1", iat: T0 + 10 });
      expect(chain.startsWith(token)).to.equal(true);
      expect(chain.slice(token.length, token.length + 3)).to.equal("~ey");
      expect(splitChain(chain)).to.have.length(2);
      const verified = await verifyPaymentMandateChain(chain, { now: T0 + 11 });
      expect(verified.closed).to.deep.equal(closed);
      expect(verified).to.include({ aud: "http://127.0.0.1:4021/forecast", nonce: "n-1", agentKid: await keyThumbprint(agent.publicJwk) });
      expect(verified.paymentNonce)
        .to.equal(keccak256(toUtf8Bytes(chain)))
        .and.equal(mandateNonce(chain));
    });

    it("a closed mandate signed by another agent key (cnf), or bound to another open mandate, is refused", async function () {
      const closed = x402PaymentMandate("http://127.0.0.1:4021/forecast", offer(10_000n), T0 + 10);
      const wrongAgent = await presentPaymentMandate(token, closed, other.privateJwk, { aud: "a", nonce: "n", iat: T0 + 10 });
      await expectRejected(
        verifyPaymentMandateChain(wrongAgent, { now: T0 + 11 }),
        "the closed mandate (signed by the agent key in the open mandate's cnf): the signature does not verify",
      );
      const otherOpen = await signMandate(open, user.privateJwk); // same document, new salts: another mandate
      const chain = await presentPaymentMandate(otherOpen, closed, agent.privateJwk, { aud: "a", nonce: "n", iat: T0 + 10 });
      const spliced = `${token}~${splitChain(chain)[1]}`;
      await expectRejected(
        verifyPaymentMandateChain(spliced, { now: T0 + 11 }),
        "the closed mandate is not bound to this open mandate (sd_hash does not match)",
      );
      await expectRejected(verifyPaymentMandateChain(token, { now: T0 + 11 }), "this one has 1 part(s)");
    });
  });

  describe("constraints at their boundaries", function () {
    const at = (amount: bigint, payTo = MERCHANT_A, now = T0 + DAY) => x402PaymentMandate("http://shop.test/item", offer(amount, payTo), now);
    const none = { spentMinor: 0, occurrences: 0 };

    it("amount range: the ends are allowed, one cent past them is not", function () {
      expect(checkPaymentConstraints(open, at(2_000_000n), none, T0 + DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(10_000n), none, T0 + DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(2_010_000n), none, T0 + DAY)).to.deep.equal(["$2.01 is above the mandate's maximum per payment $2.00"]);
      expect(checkPaymentConstraints(open, at(0n), none, T0 + DAY)).to.deep.equal(["$0.00 is below the mandate's minimum per payment $0.01"]);
    });

    it("budget: exhausted exactly is allowed, a cent more is not", function () {
      expect(checkPaymentConstraints(open, at(100_000n), { spentMinor: 490, occurrences: 3 }, T0 + DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(110_000n), { spentMinor: 490, occurrences: 3 }, T0 + DAY)).to.deep.equal([
        "$0.11 would exceed the mandate's budget: $4.90 of $5.00 already spent",
      ]);
    });

    it("payees: the two allowed, an unknown one refused", function () {
      expect(checkPaymentConstraints(open, at(10_000n, MERCHANT_B), none, T0 + DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(10_000n, STRANGER), none, T0 + DAY)).to.deep.equal([
        `payee ${NETWORK}:${STRANGER} is not one the mandate allows`,
      ]);
    });

    it("execution date: before not_before and after not_after refused, the instants themselves allowed", function () {
      expect(checkPaymentConstraints(open, at(10_000n, MERCHANT_A, T0 - 1), none, T0 - 1)).to.deep.equal([
        "the mandate cannot be used before 2026-09-21T14:13:20Z",
      ]);
      expect(checkPaymentConstraints(open, at(10_000n, MERCHANT_A, T0), none, T0)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(10_000n, MERCHANT_A, T0 + 7 * DAY), none, T0 + 7 * DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(open, at(10_000n, MERCHANT_A, T0 + 7 * DAY + 1), none, T0 + 7 * DAY + 1)).to.deep.equal([
        "the mandate cannot be used after 2026-09-28T14:13:20Z",
      ]);
    });

    it("recurrence: DAILY waits a day, max_occurrences counts", function () {
      const daily = openPaymentMandate({ agentKey: agent.publicJwk, recurrence: { frequency: "DAILY", maxOccurrences: 2 }, issuedAt: new Date(T0 * 1000) });
      expect(checkPaymentConstraints(daily, at(10_000n), { spentMinor: 1, occurrences: 1, lastAt: T0 }, T0 + DAY - 1)).to.deep.equal([
        "the mandate allows one payment daily; the last was at 2026-09-21T14:13:20.000Z",
      ]);
      expect(checkPaymentConstraints(daily, at(10_000n), { spentMinor: 1, occurrences: 1, lastAt: T0 }, T0 + DAY)).to.deep.equal([]);
      expect(checkPaymentConstraints(daily, at(10_000n), { spentMinor: 2, occurrences: 2, lastAt: T0 }, T0 + 3 * DAY)).to.deep.equal([
        "the mandate allows 2 payment(s) and 2 were made",
      ]);
    });

    it("checkout constraints: allowed merchants and line items", function () {
      const checkout = OpenCheckoutMandateSchema.parse({
        vct: "mandate.checkout.open.1",
        constraints: [
          { type: "checkout.allowed_merchants", allowed: [payeeOf(NETWORK, MERCHANT_A, "weather")] },
          {
            type: "checkout.line_items",
            items: [
              {
                id: "l1",
                acceptable_items: [
                  { id: "a", title: "A" },
                  { id: "b", title: "B" },
                ],
                quantity: 2,
              },
            ],
          },
        ],
        cnf: { jwk: agent.publicJwk },
      });
      expect(checkCheckoutConstraints(checkout, payeeOf(NETWORK, MERCHANT_A), new Map([["a", 2]]))).to.deep.equal([]);
      expect(
        checkCheckoutConstraints(
          checkout,
          payeeOf(NETWORK, STRANGER),
          new Map([
            ["a", 1],
            ["b", 2],
          ]),
        ),
      ).to.deep.equal([`merchant ${NETWORK}:${STRANGER} is not one the mandate allows`, "line item l1: exactly one of a, b must be bought"]);
    });
  });

  describe("the agent's wallet", function () {
    it("pays within the mandate until the budget is spent exactly, then refuses before signing; the ledger survives a restart", async function () {
      const ledgerFile = `${tmpdir()}/netd-ap2-${process.pid}-${Date.now()}.json`;
      let clock = T0 + DAY;
      const wallet = await MandateWallet.open({ mandate: token, agentKey: agent.privateJwk, ledgerFile, clock: () => clock });
      const a = await wallet.authorize("http://shop.test/a", offer(2_000_000n));
      expect(a.nonce).to.equal(mandateNonce(a.chain));
      await wallet.authorize("http://shop.test/b", offer(2_000_000n, MERCHANT_B));
      // $4.00 spent: $1.01 is over, and the wallet reopened from its ledger knows it.
      const reopened = await MandateWallet.open({ mandate: token, agentKey: agent.privateJwk, ledgerFile, clock: () => clock });
      expect(reopened.usage).to.deep.equal({ spentMinor: 400, occurrences: 2, lastAt: T0 + DAY });
      await expectRejected(
        reopened.authorize("http://shop.test/c", offer(1_010_000n)),
        "would exceed the mandate's budget: $4.00 of $5.00 already spent",
        MandateRefusedError,
      );
      expect(reopened.payments).to.have.length(2);
      await reopened.authorize("http://shop.test/c", offer(1_000_000n));
      await expectRejected(
        reopened.authorize("http://shop.test/d", offer(10_000n)),
        "$0.01 would exceed the mandate's budget: $5.00 of $5.00",
        MandateRefusedError,
      );
      clock = T0 + 8 * DAY;
      await expectRejected(reopened.authorize("http://shop.test/e", offer(10_000n)), "the mandate expired", MandateRefusedError);
    });

    it("concurrent payments cannot overspend: of three $2 payments under a $5 budget, two are signed", async function () {
      const wallet = await MandateWallet.open({ mandate: token, agentKey: agent.privateJwk, clock: () => T0 + DAY });
      const results = await Promise.allSettled([1, 2, 3].map((i) => wallet.authorize(`http://shop.test/${i}`, offer(2_000_000n))));
      expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "fulfilled", "rejected"]);
    });

    it("refuses a mandate for another agent key, and a sub-cent price it cannot express", async function () {
      await expectRejected(MandateWallet.open({ mandate: token, agentKey: other.privateJwk, clock: () => T0 + DAY }), "the mandate is for another agent key");
      const wallet = await MandateWallet.open({ mandate: token, agentKey: agent.privateJwk, clock: () => T0 + DAY });
      await expectRejected(
        wallet.authorize("http://shop.test/joke", offer(1_000n)),
        "0.001 NETD is not a whole number of cents, which an AP2 mandate cannot express",
        MandateRefusedError,
      );
    });
  });

  describe("the merchant's binding check", function () {
    it("accepts the payment its mandate closes, and refuses one whose nonce is not the chain's hash, or for another offer", async function () {
      // The merchant checks against its own clock: a mandate valid now.
      const current = openPaymentMandate({ ...limits, notAfter: undefined, notBefore: undefined, expiresAt: undefined, issuedAt: undefined });
      const live = await MandateWallet.open({ mandate: await signMandate(current, user.privateJwk), agentKey: agent.privateJwk });
      const resource = "http://127.0.0.1:4021/forecast";
      const { chain, nonce } = await live.authorize(resource, offer(10_000n));
      const payment = (n: string) =>
        ({ x402Version: 2, accepted: offer(10_000n), payload: { authorization: { nonce: n } }, extensions: { "ap2-mandate": { chain } } }) as never;
      expect(await checkMandateBinding(payment(nonce), offer(10_000n), resource)).to.equal(undefined);
      expect(await checkMandateBinding(payment(`0x${"11".repeat(32)}`), offer(10_000n), resource)).to.match(
        /^the payment's nonce 0x1111.* is not the mandate chain's hash/,
      );
      expect(await checkMandateBinding(payment(nonce), offer(20_000n), resource)).to.equal("the closed mandate is for another offer (transaction_id)");
      expect(await checkMandateBinding(payment(nonce), offer(10_000n), "http://127.0.0.1:4021/other")).to.equal(
        "the closed mandate is for another offer (transaction_id)",
      );
      expect(await checkMandateBinding({ x402Version: 2 } as never, offer(10_000n), resource)).to.equal(
        'the payment carries no AP2 mandate (extensions["ap2-mandate"].chain)',
      );
      expect(await checkMandateBinding(payment(nonce), offer(10_000n), resource, { issuers: [other.publicJwk] })).to.match(/is not a trusted issuer$/);
    });

    it("a merchant that requires a mandate says so in its terms, offers exact payments only, and the client reads it", function () {
      const channel = { ...offer(10_000n), scheme: "batch-settlement" };
      expect(mandateTermsFor('route "GET /a"', [offer(10_000n)])).to.equal(undefined);
      expect(mandateTermsFor('route "GET /a"', [offer(10_000n), channel], { required: false })).to.equal(undefined);
      const terms = mandateTermsFor('route "GET /a"', [offer(10_000n)], { required: true });
      expect(terms).to.deep.equal({ "ap2-mandate": MANDATE_REQUIRED_TERMS });
      expect(MANDATE_REQUIRED_TERMS.info).to.deep.equal({ required: true });
      expect(() => mandateTermsFor('route "GET /a"', [offer(10_000n), channel], { required: true })).to.throw(
        InvalidInputError,
        'route "GET /a": a payment under a mandate is paid by exact payments only, so it cannot also offer batch-settlement',
      );
      expect(mandateTermsFor("skill a2a://shop/report", [offer(10_000n)], {}, true)).to.deep.equal({ "ap2-mandate": MANDATE_REQUIRED_TERMS });
      expect(() => checkoutOfferOf("skill a2a://shop/report", [offer(10_000n), channel])).to.throw(
        InvalidInputError,
        "skill a2a://shop/report: a checkout is paid by exact payments only, so it cannot also offer batch-settlement",
      );
      expect(checkoutOfferOf("skill a2a://shop/report", [offer(10_000n)])).to.deep.equal(offer(10_000n));
      const required = (extensions?: Record<string, unknown>) => ({ x402Version: 2, resource: { url: "http://a" }, accepts: [offer(1n)], extensions }) as never;
      expect(mandateRequiredBy(required(terms))).to.equal(true);
      expect(mandateRequiredBy(required({ "ap2-checkout": { checkout_jwt: "x.y.z" } }))).to.equal(true);
      expect(mandateRequiredBy(required())).to.equal(false);
      expect(mandateRequiredBy(required({ "ap2-mandate": { info: { required: false } } }))).to.equal(false);
      expect(mandateRequiredBy(required({ "ap2-mandate": { info: { required: "yes" } } }))).to.equal(false);
    });
  });
});

async function expectRejected(promise: Promise<unknown>, message: string, type: new (...args: never[]) => Error = InvalidInputError): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    expect((error as Error).message).to.include(message);
    return;
  }
  expect.fail(`expected a rejection with "${message}"`);
}
