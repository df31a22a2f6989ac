import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { InvalidInputError, NetDollarError } from "../errors";
import { checkPaymentConstraints, fromMinorUnits, mandateNonce, presentPaymentMandate, verifyMandate, x402PaymentMandate, type MandateUsage } from "./mandates";
import type { OpenCheckoutMandate, OpenPaymentMandate } from "./schemas";
import { AP2_CHECKOUT_EXTENSION, checkCheckoutConstraints, checkoutHash, checkoutItems, checkoutMinor, presentCheckoutMandate, readCheckout } from "./checkout";
import { keyThumbprint, publicJwkOf, sdHash, type PrivateJwk } from "./sdjwt";

/** The open mandate does not allow this payment; nothing was signed. */
export class MandateRefusedError extends NetDollarError {
  override name = "MandateRefusedError";
}

/** One payment made under a mandate, as the agent's ledger keeps it. */
export interface MandatePayment {
  /** The EIP-3009 nonce (keccak256 of the chain). */
  nonce: string;
  chain: string;
  /** The checkout mandate chain, when the payment was for a merchant's checkout. */
  checkout?: string;
  resource: string;
  payTo: string;
  /** Minor units (cents). */
  amount: number;
  at: number;
}

interface Ledger {
  mandate: string;
  usage: MandateUsage;
  payments: MandatePayment[];
}

/**
 * The agent's side of an open PaymentMandate: for each payment it checks the mandate's constraints against what was
 * already spent (amount range, payees, budget, dates, recurrence), closes the mandate for that payment with the
 * agent's key, records it (in `ledgerFile`, durably, before the payment is signed), and returns the chain and the
 * EIP-3009 nonce bound to it. A payment outside the mandate is refused with {@link MandateRefusedError} before
 * anything is signed. `authorize` calls run one at a time, so concurrent payments cannot overspend the budget.
 *
 * @example
 * const wallet = await MandateWallet.open({ mandate: signedOpenMandate, agentKey, ledgerFile: "mandate.ledger.json" });
 * const client = new PayingClient({ signer, mandate: wallet });
 */
export class MandateWallet {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly token: string,
    readonly mandate: OpenPaymentMandate,
    private readonly agentKey: PrivateJwk,
    private readonly ledger: Ledger,
    private readonly ledgerFile?: string,
    private readonly clock: () => number = () => Math.floor(Date.now() / 1000),
    /** The person's open checkout mandate, signed, for merchants that sell by checkout. */
    readonly checkout?: { token: string; mandate: OpenCheckoutMandate },
  ) {}

  /** Verifies the signed open mandate and that `agentKey` is the one it names (`cnf`), and loads the ledger. */
  static async open(options: { mandate: string; checkout?: string; agentKey: PrivateJwk; ledgerFile?: string; clock?: () => number }): Promise<MandateWallet> {
    const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    const token = options.mandate.trim();
    const { mandate } = await verifyMandate(token, { now: clock() });
    if (mandate.vct !== "mandate.payment.open.1")
      throw new InvalidInputError(`the mandate is a ${mandate.vct}; an agent pays under an open payment mandate (mandate.payment.open.1)`);
    const agent = await keyThumbprint(publicJwkOf(options.agentKey));
    if (agent !== (await keyThumbprint(publicJwkOf(mandate.cnf.jwk))))
      throw new InvalidInputError(`the mandate is for another agent key (cnf ${await keyThumbprint(publicJwkOf(mandate.cnf.jwk))}, this key ${agent})`);
    const id = sdHash(token);
    let ledger: Ledger = { mandate: id, usage: { spentMinor: 0, occurrences: 0 }, payments: [] };
    if (options.ledgerFile && existsSync(options.ledgerFile)) {
      try {
        ledger = JSON.parse(readFileSync(options.ledgerFile, "utf8")) as Ledger;
      } catch {
        throw new InvalidInputError(`the mandate ledger ${options.ledgerFile} is not valid JSON`);
      }
      if (ledger.mandate !== id) throw new InvalidInputError(`the ledger ${options.ledgerFile} belongs to another mandate`);
    }
    let checkout: { token: string; mandate: OpenCheckoutMandate } | undefined;
    if (options.checkout !== undefined) {
      const openCheckout = (await verifyMandate(options.checkout.trim(), { now: clock() })).mandate;
      if (openCheckout.vct !== "mandate.checkout.open.1")
        throw new InvalidInputError(`the checkout mandate is a ${openCheckout.vct}, not an open checkout mandate (mandate.checkout.open.1)`);
      if (agent !== (await keyThumbprint(publicJwkOf(openCheckout.cnf.jwk))))
        throw new InvalidInputError(
          `the checkout mandate is for another agent key (cnf ${await keyThumbprint(publicJwkOf(openCheckout.cnf.jwk))}, this key ${agent})`,
        );
      checkout = { token: options.checkout.trim(), mandate: openCheckout };
    }
    return new MandateWallet(token, mandate, options.agentKey, ledger, options.ledgerFile, clock, checkout);
  }

  /** What was spent under the mandate so far. */
  get usage(): MandateUsage {
    return { ...this.ledger.usage };
  }

  get payments(): readonly MandatePayment[] {
    return this.ledger.payments;
  }

  /** Checks, closes and records a payment for `requirement` at `resource`; throws MandateRefusedError when not allowed. */
  authorize(resource: string, requirement: PaymentRequirements, required?: PaymentRequired): Promise<{ chain: string; nonce: string; checkout?: string }> {
    const run = this.queue.then(() => this.authorizeNow(resource, requirement, required));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async authorizeNow(
    resource: string,
    requirement: PaymentRequirements,
    required?: PaymentRequired,
  ): Promise<{ chain: string; nonce: string; checkout?: string }> {
    const now = this.clock();
    if (this.mandate.exp !== undefined && now >= this.mandate.exp)
      throw new MandateRefusedError(`not paying ${resource}: the mandate expired at ${new Date(this.mandate.exp * 1000).toISOString()}`);
    const offered = (required?.extensions as Record<string, { checkout_jwt?: unknown } | undefined> | undefined)?.[AP2_CHECKOUT_EXTENSION]?.checkout_jwt;
    let checkoutChain: string | undefined;
    let closed;
    try {
      if (offered !== undefined) checkoutChain = await this.closeCheckout(resource, requirement, offered, now);
      closed = x402PaymentMandate(resource, requirement, now, checkoutChain ? checkoutHash(offered as string) : undefined);
    } catch (error) {
      if (error instanceof MandateRefusedError) throw error;
      throw new MandateRefusedError(`not paying ${resource}: ${(error as Error).message}`);
    }
    const violations = checkPaymentConstraints(this.mandate, closed, this.ledger.usage, now, checkoutChain ? sdHash(this.checkout!.token) : undefined);
    if (violations.length) throw new MandateRefusedError(`not paying ${resource} under the mandate: ${violations.join("; ")}`);
    const chain = await presentPaymentMandate(this.token, closed, this.agentKey, { aud: resource, nonce: randomBytes(16).toString("hex"), iat: now });
    const nonce = mandateNonce(chain);
    const amount = closed.payment_amount.amount;
    const next: Ledger = {
      ...this.ledger,
      usage: { spentMinor: this.ledger.usage.spentMinor + amount, occurrences: this.ledger.usage.occurrences + 1, lastAt: now },
      payments: [
        ...this.ledger.payments,
        { nonce, chain, ...(checkoutChain ? { checkout: checkoutChain } : {}), resource, payTo: requirement.payTo, amount, at: now },
      ],
    };
    // Durable before the payment is signed: a crash after this cannot let the agent spend the same budget twice.
    if (this.ledgerFile) {
      writeFileSync(`${this.ledgerFile}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
      renameSync(`${this.ledgerFile}.tmp`, this.ledgerFile);
    }
    Object.assign(this.ledger, next);
    return { chain, nonce, ...(checkoutChain ? { checkout: checkoutChain } : {}) };
  }

  /**
   * The merchant's checkout, checked against the open checkout mandate (merchant, line items) and the offer (its total
   * is the amount, its merchant the payee), closed with the agent's key; refused with MandateRefusedError otherwise.
   */
  private async closeCheckout(resource: string, requirement: PaymentRequirements, offered: unknown, now: number): Promise<string> {
    if (!this.checkout)
      throw new MandateRefusedError(`not paying ${resource}: the merchant sells by checkout, and this agent holds no open checkout mandate to close for it`);
    if (typeof offered !== "string") throw new MandateRefusedError(`not paying ${resource}: the merchant's checkout_jwt is not a string`);
    let checkout;
    try {
      ({ checkout } = await readCheckout(offered, { now }));
    } catch (error) {
      throw new MandateRefusedError(`not paying ${resource}: ${(error as Error).message}`);
    }
    const problems = checkCheckoutConstraints(this.checkout.mandate, checkout.merchant, checkoutItems(checkout));
    if (fromMinorUnits(checkoutMinor(checkout), checkout.currency) !== BigInt(requirement.amount))
      problems.push(`the checkout's total ${checkout.total_price} ${checkout.currency} is not the amount asked`);
    if ((checkout.merchant.id ?? "").toLowerCase() !== `${requirement.network}:${requirement.payTo}`.toLowerCase())
      problems.push(`the checkout's merchant ${checkout.merchant.id ?? checkout.merchant.name} is not the payee ${requirement.payTo}`);
    if (problems.length) throw new MandateRefusedError(`not paying ${resource} under the checkout mandate: ${problems.join("; ")}`);
    return presentCheckoutMandate(this.checkout.token, offered, this.agentKey, { aud: resource, nonce: randomBytes(16).toString("hex"), iat: now });
  }
}
