import { expect } from "chai";
import { getAddress } from "ethers";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import {
  AP2_CHECKOUT_EXTENSION,
  CheckoutMandateSchema,
  MandateRefusedError,
  MandateWallet,
  OpenPaymentMandateSchema,
  PaymentMandateSchema,
  TYP_TERMINAL,
  checkoutHash,
  generateMandateKey,
  issueHop,
  joinChain,
  openPaymentMandate,
  payeeOf,
  presentCheckoutMandate,
  readCheckout,
  sdHash,
  signCheckout,
  signMandate,
  splitChain,
  verifyCheckoutMandateChain,
  verifyPaymentMandateChain,
  type Checkout,
} from "../../src/ap2";
import { InvalidInputError } from "../../src/errors";
import { PaidSkillExecutor } from "../../src/x402/a2a";

/**
 * AP2 checkouts in an x402 payment (src/ap2/checkout.ts): the merchant's signed checkout, the agent closing a
 * person's open checkout mandate for it, the chain verified, and the agent's wallet refusing a checkout outside the
 * mandate before it signs. No chain: the A2A purchase with money is in test/x402/mandates.test.ts.
 */
const NETWORK = "eip155:31337";
const MERCHANT = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const STRANGER = getAddress("0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc");
const T0 = 1_800_000_000;

const merchantKey = generateMandateKey();
const user = generateMandateKey();
const agent = generateMandateKey();

function checkout(over: Partial<Checkout> = {}): Checkout {
  return {
    order_id: "task-1",
    merchant: payeeOf(NETWORK, MERCHANT, "Report shop"),
    line_items: [{ id: "line_1", product: { id: "report", title: "a market report", price: 1.25, currency: "USD" }, quantity: 2 }],
    total_price: 2.5,
    currency: "USD",
    iat: T0,
    exp: T0 + 900,
    ...over,
  };
}

const openCheckout = (allowed = [payeeOf(NETWORK, MERCHANT, "Report shop")], itemId = "report", quantity = 2) =>
  signMandate(
    {
      vct: "mandate.checkout.open.1",
      constraints: [
        { type: "checkout.allowed_merchants", allowed },
        { type: "checkout.line_items", items: [{ id: "reports", acceptable_items: [{ id: itemId, title: "a market report" }], quantity }] },
      ],
      cnf: { jwk: agent.publicJwk },
      iat: T0 - 60,
      exp: T0 + 7 * 86_400,
    },
    user.privateJwk,
  );

describe("AP2 checkouts (src/ap2/checkout.ts)", function () {
  it("the merchant's checkout is a signed JWT: read back exactly; tampered, another key's, inconsistent or outside its times is refused", async function () {
    const jwt = await signCheckout(checkout(), merchantKey.privateJwk);
    expect((await readCheckout(jwt, { merchantKey: merchantKey.publicJwk, now: T0 })).checkout).to.deep.equal(checkout());
    const [h, p, s] = jwt.split(".");
    const forged = Buffer.from(JSON.stringify({ ...checkout(), total_price: 0.01 })).toString("base64url");
    await expect(readCheckout(`${h}.${forged}.${s}`, { now: T0 })).to.be.rejectedWith(InvalidInputError, "the checkout's signature does not verify");
    await expect(readCheckout(jwt, { merchantKey: generateMandateKey().publicJwk, now: T0 })).to.be.rejectedWith(
      InvalidInputError,
      "the checkout is signed by another key than the merchant's",
    );
    await expect(readCheckout(`${h}.${p}`, { now: T0 })).to.be.rejectedWith(InvalidInputError, "the checkout is not a JWT");
    await expect(signCheckout(checkout({ total_price: 2.49 }), merchantKey.privateJwk)).to.be.rejectedWith(
      InvalidInputError,
      "total_price: is not the sum of the line items (2.5)",
    );
    await expect(signCheckout(checkout({ total_price: 2.505 }), merchantKey.privateJwk)).to.be.rejectedWith(InvalidInputError, "at most two decimals");
    // exp is exclusive: valid at exp - 1, refused at exp and exp + 1; iat up to a minute ahead.
    await readCheckout(jwt, { now: T0 + 899 });
    for (const now of [T0 + 900, T0 + 901]) await expect(readCheckout(jwt, { now })).to.be.rejectedWith(InvalidInputError, "the checkout expired at");
    await readCheckout(jwt, { now: T0 - 60 });
    await expect(readCheckout(jwt, { now: T0 - 61 })).to.be.rejectedWith(InvalidInputError, "the checkout is issued in the future");
  });

  it("the agent closes the open checkout mandate for it: the chain verifies, the hash binds the JWT, each constraint is checked", async function () {
    const jwt = await signCheckout(checkout(), merchantKey.privateJwk);
    const open = await openCheckout();
    const chain = await presentCheckoutMandate(open, jwt, agent.privateJwk, { aud: "a2a://shop", nonce: "n-1", iat: T0 });
    const verified = await verifyCheckoutMandateChain(chain, { issuers: [user.publicJwk], merchantKey: merchantKey.publicJwk, now: T0 });
    expect(CheckoutMandateSchema.safeParse(verified.closed).success).to.equal(true);
    expect(verified.closed).to.deep.include({ vct: "mandate.checkout.1", checkout_jwt: jwt, checkout_hash: checkoutHash(jwt), iat: T0 });
    expect(verified.openHash).to.equal(sdHash(splitChain(open)[0]));
    expect(verified.checkout.order_id).to.equal("task-1");

    await expect(verifyCheckoutMandateChain(chain, { issuers: [generateMandateKey().publicJwk], now: T0 })).to.be.rejectedWith(
      InvalidInputError,
      "which is not a trusted issuer",
    );
    await expect(verifyCheckoutMandateChain(chain, { merchantKey: generateMandateKey().publicJwk, now: T0 })).to.be.rejectedWith(
      InvalidInputError,
      "signed by another key than the merchant's",
    );
    // Closed by a key that is not the mandate's cnf.
    const stranger = await presentCheckoutMandate(open, jwt, generateMandateKey().privateJwk, { aud: "a2a://shop", nonce: "n-2", iat: T0 });
    await expect(verifyCheckoutMandateChain(stranger, { now: T0 })).to.be.rejectedWith(InvalidInputError, "signed by the agent key in the open mandate's cnf");
    // A checkout_hash that is not the JWT's.
    const [openHop] = splitChain(open);
    const lying = await issueHop(
      { vct: "mandate.checkout.1", checkout_jwt: jwt, checkout_hash: checkoutHash(`${jwt}x`), iat: T0 },
      agent.privateJwk,
      { typ: TYP_TERMINAL },
      { iat: T0, aud: "a2a://shop", nonce: "n-3", sd_hash: sdHash(openHop) },
    );
    await expect(verifyCheckoutMandateChain(joinChain([openHop, lying]), { now: T0 })).to.be.rejectedWith(
      InvalidInputError,
      "checkout_hash is not the hash of checkout_jwt",
    );
    // Outside the open mandate: another merchant, another item, another quantity.
    for (const [mandate, message] of [
      [await openCheckout([payeeOf(NETWORK, STRANGER)]), `merchant ${NETWORK}:${MERCHANT} is not one the mandate allows`],
      [await openCheckout(undefined, "bond"), "item report is not one the mandate allows"],
      [await openCheckout(undefined, "report", 1), "line item reports: the quantity must be 1"],
    ] as [string, string][]) {
      const c = await presentCheckoutMandate(mandate, jwt, agent.privateJwk, { aud: "a2a://shop", nonce: "n-4", iat: T0 });
      await expect(verifyCheckoutMandateChain(c, { now: T0 })).to.be.rejectedWith(InvalidInputError, message);
    }
  });

  it("the wallet pays a checkout only under an open checkout mandate that allows it, for its total, to its merchant; the payment mandate names its hash", async function () {
    const requirement: PaymentRequirements = {
      scheme: "exact",
      network: NETWORK,
      asset: getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3"),
      amount: "2500000",
      payTo: MERCHANT,
      maxTimeoutSeconds: 60,
      extra: { name: "NET Dollar", version: "1" },
    };
    const now = Math.floor(Date.now() / 1000);
    const offer = async (c: Partial<Checkout>, r = requirement): Promise<PaymentRequired> => ({
      x402Version: 2,
      resource: { url: "a2a://shop/report", description: "a report", mimeType: "text/plain" },
      accepts: [r],
      extensions: { [AP2_CHECKOUT_EXTENSION]: { checkout_jwt: await signCheckout(checkout({ iat: now, exp: now + 900, ...c }), merchantKey.privateJwk) } },
    });
    const openCheckoutNow = await signMandate(
      {
        vct: "mandate.checkout.open.1",
        constraints: [
          { type: "checkout.allowed_merchants", allowed: [payeeOf(NETWORK, MERCHANT)] },
          { type: "checkout.line_items", items: [{ id: "reports", acceptable_items: [{ id: "report", title: "a market report" }], quantity: 2 }] },
        ],
        cnf: { jwk: agent.publicJwk },
      },
      user.privateJwk,
    );
    const payment = openPaymentMandate({ agentKey: agent.publicJwk, maxAmount: 5_000_000n, budget: 5_000_000n });
    // Bound to that open checkout mandate (payment.reference), as AP2's examples bind them.
    const bound = OpenPaymentMandateSchema.parse({
      ...payment,
      constraints: [...payment.constraints, { type: "payment.reference", conditional_transaction_id: sdHash(splitChain(openCheckoutNow)[0]) }],
    });
    const wallet = await MandateWallet.open({ mandate: await signMandate(bound, user.privateJwk), checkout: openCheckoutNow, agentKey: agent.privateJwk });
    const offered = await offer({});
    const paid = await wallet.authorize("a2a://shop/report", requirement, offered);
    const jwt = (offered.extensions![AP2_CHECKOUT_EXTENSION] as { checkout_jwt: string }).checkout_jwt;
    const closed = (await verifyPaymentMandateChain(paid.chain)).closed;
    expect(PaymentMandateSchema.safeParse(closed).success).to.equal(true);
    expect(closed.transaction_id).to.equal(checkoutHash(jwt));
    expect((await verifyCheckoutMandateChain(paid.checkout!)).closed.checkout_jwt).to.equal(jwt);
    expect(wallet.payments[0].checkout).to.equal(paid.checkout);

    for (const [terms, message] of [
      [await offer({}, { ...requirement, amount: "2510000" }), "the checkout's total 2.5 USD is not the amount asked"],
      [await offer({}, { ...requirement, payTo: STRANGER }), `the checkout's merchant ${NETWORK}:${MERCHANT} is not the payee ${STRANGER}`],
      [
        await offer({ merchant: payeeOf(NETWORK, STRANGER) }, { ...requirement, payTo: STRANGER }),
        `merchant ${NETWORK}:${STRANGER} is not one the mandate allows`,
      ],
      [await offer({ exp: now - 1, iat: now - 900 }), "the checkout expired at"],
    ] as [PaymentRequired, string][])
      await expect(wallet.authorize("a2a://shop/report", terms.accepts[0], terms)).to.be.rejectedWith(MandateRefusedError, message);
    // Without an open checkout mandate the wallet cannot pay a checkout; with payment.reference it cannot pay without one.
    const plain = await MandateWallet.open({ mandate: await signMandate(payment, user.privateJwk), agentKey: agent.privateJwk });
    await expect(plain.authorize("a2a://shop/report", requirement, offered)).to.be.rejectedWith(MandateRefusedError, "holds no open checkout mandate");
    await expect(wallet.authorize("a2a://shop/report", requirement)).to.be.rejectedWith(
      MandateRefusedError,
      "the mandate is bound to an open checkout mandate (payment.reference), and this payment has no checkout",
    );
    expect(wallet.payments).to.have.length(1);
  });

  it("a merchant agent sells by checkout only at whole cents: a sub-cent price is refused when the skill is made", function () {
    const skill = {
      resource: "a2a://shop/report",
      description: "a report",
      price: "$0.001",
      payTo: MERCHANT,
      network: NETWORK as `eip155:${string}`,
      asset: { address: getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3"), name: "NET Dollar", version: "1" },
      facilitator: {} as never,
      checkout: { key: merchantKey.privateJwk, merchant: { name: "Report shop" } },
      run: async () => "report",
    };
    expect(() => new PaidSkillExecutor(skill)).to.throw(
      InvalidInputError,
      "skill a2a://shop/report: its price $0.001 is not whole cents, which a checkout prices in",
    );
    expect(() => new PaidSkillExecutor({ ...skill, price: "$0.01" })).to.not.throw();
  });
});
