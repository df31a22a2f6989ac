import { getAddress, isAddress, keccak256, toUtf8Bytes } from "ethers";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { DECIMALS, formatDollars } from "../amounts";
import { describeIssues, InvalidInputError } from "../errors";
import { AP2_CHECKOUT_EXTENSION, checkoutMinor, verifyCheckoutMandateChain, type Checkout, type VerifiedCheckoutChain } from "./checkout";
import {
  MANDATE_SCHEMAS,
  OpenPaymentMandateSchema,
  PaymentMandateSchema,
  type AnyMandate,
  type Merchant,
  type OpenPaymentMandate,
  type PaymentConstraint,
  type PaymentMandate,
} from "./schemas";
import {
  issueHop,
  joinChain,
  keyThumbprint,
  peekHeader,
  publicJwkOf,
  sdHash,
  splitChain,
  TYP_ROOT,
  TYP_TERMINAL,
  verifyHop,
  type PrivateJwk,
  type PublicJwk,
} from "./sdjwt";

/**
 * AP2 v0.2 mandates bound to NET Dollar payments.
 *
 * A person signs an open PaymentMandate (their limits, the agent's key in `cnf`); for each payment the agent closes
 * it with a PaymentMandate for that payment, signed with its own key, and the EIP-3009 `nonce` of the payment is
 * keccak256 of the whole chain: on chain, `AuthorizationUsed(payer, nonce)` then proves which mandate a payment
 * executed. The chain travels with the x402 payment in `PaymentPayload.extensions["ap2-mandate"].chain`.
 */

/** The x402 extension (`PaymentPayload.extensions` key) that carries a mandate chain: `{ chain: string }`. */
export const AP2_EXTENSION = "ap2-mandate";

/** Minor units per ISO 4217 for the currencies a NET Dollar mandate may be in. */
const MINOR_DIGITS: Record<string, number> = { USD: 2 };

function minorDigits(currency: string): number {
  const digits = MINOR_DIGITS[currency];
  if (digits === undefined) throw new InvalidInputError(`currency ${currency} is not one NET Dollar pays in (USD)`);
  return digits;
}

/** NET Dollar base units (6 decimals) as minor units of `currency` (cents for USD); undefined when not whole. */
export function toMinorUnits(baseUnits: bigint, currency = "USD"): number | undefined {
  const factor = 10n ** BigInt(DECIMALS - minorDigits(currency));
  return baseUnits % factor === 0n ? Number(baseUnits / factor) : undefined;
}

/** Minor units of `currency` as NET Dollar base units. */
export function fromMinorUnits(minor: number, currency = "USD"): bigint {
  return BigInt(minor) * 10n ** BigInt(DECIMALS - minorDigits(currency));
}

/** A budget's `max` (MAJOR units, e.g. 5.5) in minor units (550), exactly. */
function budgetMinor(max: number, currency: string): number {
  const scaled = max * 10 ** minorDigits(currency);
  const rounded = Math.round(scaled);
  if (Math.abs(scaled - rounded) > 1e-6) throw new InvalidInputError(`payment.budget max ${max} ${currency} has more decimals than ${currency} has`);
  return rounded;
}

/** A mandate document checked against its AP2 schema (chosen by `vct`), or an InvalidInputError naming each problem. */
export function parseMandate(value: unknown): AnyMandate {
  const vct = (value as { vct?: unknown } | null)?.vct;
  const schema = MANDATE_SCHEMAS[vct as keyof typeof MANDATE_SCHEMAS];
  if (!schema) throw new InvalidInputError(`not an AP2 mandate: vct ${JSON.stringify(vct)} is not one of ${Object.keys(MANDATE_SCHEMAS).join(", ")}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`the ${vct} mandate does not follow its schema: ${describeIssues(parsed.error, "(document)")}`);
  return parsed.data as AnyMandate;
}

/** A payee as AP2 names a merchant: `id` its CAIP-10 account (`eip155:31337:0x…`), so that it matches by address. */
export function payeeOf(network: string, address: string, name?: string, website?: string): Merchant {
  if (!isAddress(address)) throw new InvalidInputError(`payee ${address} is not an address`);
  const id = `${network}:${getAddress(address)}`;
  return { id, name: name ?? id, ...(website ? { website } : {}) };
}

export interface OpenPaymentMandateInput {
  /** The agent's public key: only it can close the mandate. */
  agentKey: PublicJwk;
  /** Per payment, in NET Dollar base units (whole cents). */
  maxAmount?: bigint;
  minAmount?: bigint;
  /** In total over every payment, base units (whole cents). */
  budget?: bigint;
  payees?: Merchant[];
  notBefore?: Date;
  notAfter?: Date;
  recurrence?: { frequency: "ON_DEMAND" | "DAILY" | "WEEKLY" | "BIWEEKLY" | "MONTHLY" | "QUARTERLY" | "ANNUALLY"; maxOccurrences?: number };
  issuedAt?: Date;
  expiresAt?: Date;
}

function wholeCents(amount: bigint, what: string): number {
  const minor = toMinorUnits(amount);
  if (minor === undefined) throw new InvalidInputError(`${what} ${formatDollars(amount)} is not a whole number of cents (AP2 amounts are in minor units)`);
  return minor;
}

/** An open PaymentMandate (`mandate.payment.open.1`) with the limits given, checked against its schema. */
export function openPaymentMandate(input: OpenPaymentMandateInput): OpenPaymentMandate {
  const constraints: PaymentConstraint[] = [];
  if (input.maxAmount !== undefined || input.minAmount !== undefined) {
    if (input.maxAmount === undefined) throw new InvalidInputError("an amount range needs a maximum (payment.amount_range max is required)");
    constraints.push({
      type: "payment.amount_range",
      currency: "USD",
      max: wholeCents(input.maxAmount, "the maximum per payment"),
      ...(input.minAmount !== undefined ? { min: wholeCents(input.minAmount, "the minimum per payment") } : {}),
    });
  }
  if (input.budget !== undefined) {
    constraints.push({ type: "payment.budget", currency: "USD", max: wholeCents(input.budget, "the budget") / 100 });
    if (!input.recurrence) constraints.push({ type: "payment.agent_recurrence", frequency: "ON_DEMAND" });
  }
  if (input.recurrence)
    constraints.push({
      type: "payment.agent_recurrence",
      frequency: input.recurrence.frequency,
      ...(input.recurrence.maxOccurrences !== undefined ? { max_occurrences: input.recurrence.maxOccurrences } : {}),
    });
  if (input.payees?.length) constraints.push({ type: "payment.allowed_payees", allowed: input.payees });
  if (input.notBefore || input.notAfter)
    constraints.push({
      type: "payment.execution_date",
      ...(input.notBefore ? { not_before: isoSeconds(input.notBefore) } : {}),
      ...(input.notAfter ? { not_after: isoSeconds(input.notAfter) } : {}),
    });
  const issuedAt = Math.floor((input.issuedAt ?? new Date()).getTime() / 1000);
  const mandate = {
    vct: "mandate.payment.open.1",
    constraints,
    cnf: { jwk: publicJwkOf(input.agentKey) },
    iat: issuedAt,
    ...(input.expiresAt ? { exp: Math.floor(input.expiresAt.getTime() / 1000) } : {}),
  };
  if (mandate.exp !== undefined && mandate.exp <= issuedAt) throw new InvalidInputError("the mandate would expire before it is issued");
  return parseMandate(mandate) as OpenPaymentMandate;
}

/** A time in whole seconds, as ISO 8601 (payments are dated in seconds: a mandate valid "from now" is valid this second). */
function isoSeconds(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Signs a mandate as the first hop of a chain (the person's, or their trusted surface's, key); `jwk` in the header. */
export async function signMandate(mandate: unknown, key: PrivateJwk): Promise<string> {
  const doc = parseMandate(mandate);
  const publicJwk = publicJwkOf(key);
  return issueHop(doc as Record<string, unknown>, key, { typ: TYP_ROOT, kid: await keyThumbprint(publicJwk), jwk: publicJwk });
}

export interface VerifyOptions {
  /** Keys trusted to sign first hops; when absent, the key in the first hop's header (say so to the user). */
  issuers?: PublicJwk[];
  /** Unix seconds (default now). */
  now?: number;
}

export interface VerifiedMandate {
  mandate: AnyMandate;
  issuer: PublicJwk;
  /** The issuer's key thumbprint. */
  issuerKid: string;
  /** Whether the issuer is one of `options.issuers` (false when none were given). */
  trustedIssuer: boolean;
}

function checkTimes(m: { iat?: number; exp?: number }, now: number, label: string): void {
  if (m.exp !== undefined && now >= m.exp) throw new InvalidInputError(`${label} expired at ${new Date(m.exp * 1000).toISOString()}`);
  if (m.iat !== undefined && m.iat > now + 60) throw new InvalidInputError(`${label} is issued in the future (${new Date(m.iat * 1000).toISOString()})`);
}

async function verifyRoot(token: string, options: VerifyOptions, now: number): Promise<VerifiedMandate> {
  const header = peekHeader(token);
  if (header.alg !== "ES256") throw new InvalidInputError(`the mandate is signed with ${JSON.stringify(header.alg)}; AP2 mandates use ES256`);
  if (header.typ !== TYP_ROOT) throw new InvalidInputError(`the mandate's first SD-JWT has typ ${JSON.stringify(header.typ)}, not ${TYP_ROOT}`);
  const issuer = publicJwkOf(header.jwk);
  const issuerKid = await keyThumbprint(issuer);
  const trusted = options.issuers ? await Promise.all(options.issuers.map(keyThumbprint)) : [];
  if (options.issuers && !trusted.includes(issuerKid)) throw new InvalidInputError(`the mandate is signed by key ${issuerKid}, which is not a trusted issuer`);
  const hop = await verifyHop(token, issuer, "the mandate", now);
  const mandate = parseMandate(hop.mandate);
  checkTimes(mandate, now, "the mandate");
  return { mandate, issuer, issuerKid, trustedIssuer: options.issuers !== undefined };
}

/** Verifies a signed mandate (one hop): signature, schema, iat/exp. */
export async function verifyMandate(token: string, options: VerifyOptions = {}): Promise<VerifiedMandate> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const hops = splitChain(token);
  if (hops.length !== 1) throw new InvalidInputError(`expected one signed mandate, got a chain of ${hops.length}; verify it as a payment mandate chain`);
  return verifyRoot(hops[0], options, now);
}

/**
 * The agent's hop: closes `openToken` with `closed`, signed by the agent's key (the one in the open mandate's `cnf`),
 * bound to the open mandate by `sd_hash`; returns the chain.
 */
export async function presentPaymentMandate(
  openToken: string,
  closed: PaymentMandate,
  agentKey: PrivateJwk,
  binding: { aud: string; nonce: string; iat?: number },
): Promise<string> {
  const [open] = splitChain(openToken);
  const doc = PaymentMandateSchema.parse(closed);
  const hop = await issueHop(
    doc as Record<string, unknown>,
    agentKey,
    { typ: TYP_TERMINAL },
    {
      iat: binding.iat ?? Math.floor(Date.now() / 1000),
      aud: binding.aud,
      nonce: binding.nonce,
      sd_hash: sdHash(open),
    },
  );
  return joinChain([open, hop]);
}

export interface VerifiedPaymentChain {
  chain: string;
  open: OpenPaymentMandate;
  closed: PaymentMandate;
  issuer: PublicJwk;
  issuerKid: string;
  trustedIssuer: boolean;
  /** The agent's key (the open mandate's `cnf.jwk`), which signed the closed mandate. */
  agentKid: string;
  aud: string;
  nonce: string;
  /** The EIP-3009 nonce a payment under this chain must carry: keccak256 of the chain. */
  paymentNonce: string;
}

/** Verifies an open + closed PaymentMandate chain: both signatures, the sd_hash binding, schemas, times, typ. */
export async function verifyPaymentMandateChain(chain: string, options: VerifyOptions & { expectedAud?: string } = {}): Promise<VerifiedPaymentChain> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const hops = splitChain(chain);
  if (hops.length !== 2) throw new InvalidInputError(`a payment mandate chain is an open and a closed mandate; this one has ${hops.length} part(s)`);
  const root = await verifyRoot(hops[0], options, now);
  const open = OpenPaymentMandateSchema.safeParse(root.mandate);
  if (!open.success) throw new InvalidInputError(`the first mandate is a ${root.mandate.vct}, not an open payment mandate (mandate.payment.open.1)`);
  const agent = publicJwkOf(open.data.cnf.jwk);
  const header = peekHeader(hops[1]);
  if (header.typ !== TYP_TERMINAL) throw new InvalidInputError(`the closed mandate has typ ${JSON.stringify(header.typ)}, not ${TYP_TERMINAL}`);
  if (header.alg !== "ES256") throw new InvalidInputError(`the closed mandate is signed with ${JSON.stringify(header.alg)}; AP2 mandates use ES256`);
  const hop = await verifyHop(hops[1], agent, "the closed mandate (signed by the agent key in the open mandate's cnf)", now);
  const p = hop.payload;
  if (p.sd_hash !== sdHash(hops[0])) throw new InvalidInputError("the closed mandate is not bound to this open mandate (sd_hash does not match)");
  for (const claim of ["aud", "nonce"] as const)
    if (typeof p[claim] !== "string" || !p[claim]) throw new InvalidInputError(`the closed mandate has no ${claim}`);
  if (typeof p.iat !== "number") throw new InvalidInputError("the closed mandate has no iat");
  if (options.expectedAud !== undefined && p.aud !== options.expectedAud)
    throw new InvalidInputError(`the closed mandate is for ${JSON.stringify(p.aud)}, not ${JSON.stringify(options.expectedAud)}`);
  const closed = PaymentMandateSchema.safeParse(hop.mandate);
  if (!closed.success)
    throw new InvalidInputError(`the closed mandate does not follow the mandate.payment.1 schema: ${describeIssues(closed.error, "(document)")}`);
  checkTimes(closed.data, now, "the closed mandate");
  return {
    chain: joinChain(hops),
    open: open.data,
    closed: closed.data,
    issuer: root.issuer,
    issuerKid: root.issuerKid,
    trustedIssuer: root.trustedIssuer,
    agentKid: await keyThumbprint(agent),
    aud: p.aud as string,
    nonce: p.nonce as string,
    paymentNonce: mandateNonce(joinChain(hops)),
  };
}

/** The EIP-3009 nonce of a payment under `chain`: keccak256 of its UTF-8 text (as AP2's x402 sample does). */
export function mandateNonce(chain: string): string {
  return keccak256(toUtf8Bytes(chain));
}

/** How much an open mandate has been used: what the agent's client (or an auditor) has counted so far. */
export interface MandateUsage {
  /** Minor units (cents) already committed under the mandate. */
  spentMinor: number;
  occurrences: number;
  /** Unix seconds of the last payment. */
  lastAt?: number;
}

const RECURRENCE_SECONDS: Record<string, number> = {
  ON_DEMAND: 0,
  DAILY: 86_400,
  WEEKLY: 7 * 86_400,
  BIWEEKLY: 14 * 86_400,
  MONTHLY: 28 * 86_400,
  QUARTERLY: 89 * 86_400,
  ANNUALLY: 365 * 86_400,
};

/** Whether two AP2 merchants are the same: by `id` when either has one (CAIP-10, any case), else by name and website. */
export function samePayee(a: Merchant, b: Merchant): boolean {
  if (a.id !== undefined || b.id !== undefined) return (a.id ?? "").toLowerCase() === (b.id ?? "").toLowerCase();
  return a.name === b.name && (a.website ?? "") === (b.website ?? "");
}

/**
 * What in `closed` an open payment mandate does not allow, one sentence each (empty: allowed). `usage` is what was
 * spent before this payment (budget, recurrence); `now` Unix seconds; `checkoutRef` the `sd_hash` of the open checkout
 * mandate the payment's checkout was closed from, if it has one (`payment.reference`).
 */
export function checkPaymentConstraints(open: OpenPaymentMandate, closed: PaymentMandate, usage: MandateUsage, now: number, checkoutRef?: string): string[] {
  const violations: string[] = [];
  const amount = closed.payment_amount;
  const executed = closed.execution_date ? Date.parse(closed.execution_date) : now * 1000;
  for (const c of open.constraints) {
    switch (c.type) {
      case "payment.amount_range":
        if (amount.currency !== c.currency) violations.push(`the amount is in ${amount.currency}, the mandate's range in ${c.currency}`);
        else if (amount.amount > c.max) violations.push(`${cents(amount.amount)} is above the mandate's maximum per payment ${cents(c.max)}`);
        else if (c.min !== undefined && amount.amount < c.min)
          violations.push(`${cents(amount.amount)} is below the mandate's minimum per payment ${cents(c.min)}`);
        break;
      case "payment.budget": {
        const max = budgetMinor(c.max, c.currency);
        if (amount.currency !== c.currency) violations.push(`the amount is in ${amount.currency}, the budget in ${c.currency}`);
        else if (usage.spentMinor + amount.amount > max)
          violations.push(`${cents(amount.amount)} would exceed the mandate's budget: ${cents(usage.spentMinor)} of ${cents(max)} already spent`);
        break;
      }
      case "payment.agent_recurrence":
        if (c.max_occurrences !== undefined && usage.occurrences + 1 > c.max_occurrences)
          violations.push(`the mandate allows ${c.max_occurrences} payment(s) and ${usage.occurrences} were made`);
        if (usage.lastAt !== undefined && now - usage.lastAt < RECURRENCE_SECONDS[c.frequency])
          violations.push(`the mandate allows one payment ${c.frequency.toLowerCase()}; the last was at ${new Date(usage.lastAt * 1000).toISOString()}`);
        break;
      case "payment.allowed_payees":
        if (!c.allowed.some((p) => samePayee(p, closed.payee))) violations.push(`payee ${closed.payee.id ?? closed.payee.name} is not one the mandate allows`);
        break;
      case "payment.allowed_payment_instruments":
        if (!c.allowed.some((i) => i.id === closed.payment_instrument.id && i.type === closed.payment_instrument.type))
          violations.push(`payment instrument ${closed.payment_instrument.id} is not one the mandate allows`);
        break;
      case "payment.allowed_pisps":
        if (closed.pisp && !c.allowed.some((x) => x.domain_name === closed.pisp?.domain_name))
          violations.push("the payment initiation provider is not one the mandate allows");
        break;
      case "payment.execution_date":
        if (c.not_before && executed < Date.parse(c.not_before)) violations.push(`the mandate cannot be used before ${c.not_before}`);
        if (c.not_after && executed > Date.parse(c.not_after)) violations.push(`the mandate cannot be used after ${c.not_after}`);
        break;
      case "payment.reference":
        // Bound to an open checkout mandate: the payment must be made under a checkout closed from that one.
        if (checkoutRef === undefined)
          violations.push("the mandate is bound to an open checkout mandate (payment.reference), and this payment has no checkout");
        else if (c.conditional_transaction_id !== checkoutRef) violations.push("the mandate is bound to another open checkout mandate (payment.reference)");
        break;
    }
  }
  if (open.payee && !samePayee(open.payee, closed.payee)) violations.push(`the mandate is for payee ${open.payee.id ?? open.payee.name} only`);
  if (open.payment_amount && open.payment_amount.amount !== amount.amount) violations.push(`the mandate is for ${cents(open.payment_amount.amount)} exactly`);
  return violations;
}

function cents(minor: number): string {
  return `$${(minor / 100).toFixed(2)}`;
}

/** The checkout an x402 offer is: `transaction_id` of its closed mandate, the hash of the resource and the offer. */
export function x402TransactionId(resource: string, requirement: PaymentRequirements): string {
  const r = requirement;
  return sdHash(JSON.stringify([resource, r.scheme, r.network, r.asset.toLowerCase(), r.amount, r.payTo.toLowerCase()]));
}

/**
 * The closed PaymentMandate for paying `requirement` for `resource` (a URL, or an MCP/A2A server's name); its
 * `transaction_id` is `checkoutHash` when the payment is for a merchant's checkout, else the offer's hash.
 */
export function x402PaymentMandate(resource: string, requirement: PaymentRequirements, now: number, checkoutHash?: string): PaymentMandate {
  const minor = toMinorUnits(BigInt(requirement.amount));
  if (minor === undefined)
    throw new InvalidInputError(`${formatDollars(BigInt(requirement.amount))} is not a whole number of cents, which an AP2 mandate cannot express`);
  const website = /^https?:\/\//.test(resource) ? new URL(resource).origin : undefined;
  return PaymentMandateSchema.parse({
    vct: "mandate.payment.1",
    transaction_id: checkoutHash ?? x402TransactionId(resource, requirement),
    payee: payeeOf(requirement.network, requirement.payTo, website ? new URL(resource).host : resource, website),
    payment_amount: { amount: minor, currency: "USD" },
    payment_instrument: { id: `${requirement.network}/erc20:${getAddress(requirement.asset)}`, type: "x402.exact", description: "NET Dollar (EIP-3009)" },
    execution_date: isoSeconds(new Date(now * 1000)),
    iat: now,
  });
}

/**
 * Checks that an x402 payment is the one its mandate chain closes: the chain verifies, its EIP-3009 nonce is the
 * chain's hash, and the closed mandate names this payment's payee, amount and offer, within the open mandate's
 * per-payment constraints (the budget across payments is the agent's client's to keep: a merchant sees only its own).
 * Returns undefined when it is, else why not.
 */
export async function checkMandateBinding(
  payment: PaymentPayload,
  requirement: PaymentRequirements,
  resource: string,
  options: VerifyOptions & { checkout?: OfferedCheckout } = {},
): Promise<string | undefined> {
  return (await bindMandate(payment, requirement, resource, options)).problem;
}

/** The checkout a payment pays, once its binding is checked: its hash (the payment mandate's transaction_id). */
export interface PaidCheckout {
  hash: string;
  checkout: Checkout;
}

/** {@link checkMandateBinding}, and the checkout the payment pays when it pays one. */
export async function bindMandate(
  payment: PaymentPayload,
  requirement: PaymentRequirements,
  resource: string,
  options: VerifyOptions & { checkout?: OfferedCheckout } = {},
): Promise<{ problem?: string; checkout?: PaidCheckout }> {
  const refuse = (problem: string) => ({ problem });
  const extension = (payment.extensions as Record<string, unknown> | undefined)?.[AP2_EXTENSION] as { chain?: unknown; checkout?: unknown } | undefined;
  if (typeof extension?.chain !== "string") return refuse(`the payment carries no AP2 mandate (extensions["${AP2_EXTENSION}"].chain)`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  let verified: VerifiedPaymentChain;
  try {
    verified = await verifyPaymentMandateChain(extension.chain, { ...options, now });
  } catch (error) {
    return refuse((error as Error).message);
  }
  const nonce = (payment.payload as { authorization?: { nonce?: unknown } }).authorization?.nonce;
  if (typeof nonce !== "string" || nonce.toLowerCase() !== verified.paymentNonce)
    return refuse(`the payment's nonce ${String(nonce)} is not the mandate chain's hash ${verified.paymentNonce}`);
  const closed = verified.closed;
  let checkoutRef: string | undefined;
  let paid: PaidCheckout | undefined;
  if (extension.checkout !== undefined || options.checkout) {
    if (typeof extension.checkout !== "string")
      return refuse(`the payment carries no checkout mandate (extensions["${AP2_EXTENSION}"].checkout), and this merchant sells by checkout`);
    let c: VerifiedCheckoutChain;
    try {
      c = await verifyCheckoutMandateChain(extension.checkout, { issuers: options.issuers, merchantKey: options.checkout?.merchantKey, now });
    } catch (error) {
      return refuse((error as Error).message);
    }
    if (options.checkout?.jwt !== undefined && c.closed.checkout_jwt !== options.checkout.jwt)
      return refuse("the checkout mandate is for another checkout than the one offered");
    const item = options.checkout?.itemId;
    if (item !== undefined && !c.checkout.line_items.every((l) => l.product.id === item))
      return refuse(`the checkout is for ${c.checkout.line_items.map((l) => l.product.id).join(", ")}, not ${item}`);
    if (closed.transaction_id !== c.closed.checkout_hash)
      return refuse("the closed payment mandate is for another checkout (its transaction_id is not the checkout_hash)");
    if (c.agentKid !== verified.agentKid) return refuse("the checkout mandate and the payment mandate name different agent keys");
    if (fromMinorUnits(checkoutMinor(c.checkout), c.checkout.currency) !== BigInt(requirement.amount))
      return refuse("the checkout's total is not the amount paid");
    checkoutRef = c.openHash;
    paid = { hash: c.closed.checkout_hash, checkout: c.checkout };
  } else if (closed.transaction_id !== x402TransactionId(resource, requirement)) return refuse("the closed mandate is for another offer (transaction_id)");
  if (!samePayee(closed.payee, payeeOf(requirement.network, requirement.payTo)))
    return refuse(`the closed mandate pays ${closed.payee.id}, not ${requirement.payTo}`);
  const amount = toMinorUnits(BigInt(requirement.amount));
  if (closed.payment_amount.currency !== "USD" || amount !== closed.payment_amount.amount) return refuse("the closed mandate is for another amount");
  const violations = checkPaymentConstraints(
    { ...verified.open, constraints: verified.open.constraints.filter(perPayment) },
    closed,
    { spentMinor: 0, occurrences: 0 },
    now,
    checkoutRef,
  );
  return violations.length ? refuse(violations.join("; ")) : { checkout: paid };
}

/** The checkout a merchant offered with its terms: the payment must be made under a checkout mandate for it. */
export interface OfferedCheckout {
  /** The merchant's key, which signed it. */
  merchantKey: PublicJwk;
  /** The checkout JWT offered (for this task); without it, any checkout the merchant signed. */
  jwt?: string;
  /** The item sold here: a checkout the merchant signed for another is refused (when `jwt` is not known). */
  itemId?: string;
}

/**
 * What a paywall or a paid tool asks of mandates: a payment that carries one is always checked against it;
 * `required` refuses payments without one; `issuers` are the keys trusted to sign open mandates (default: the key in
 * the mandate, i.e. only the agent's binding to it is checked).
 */
export interface MandatePolicy {
  required?: boolean;
  issuers?: PublicJwk[];
}

/**
 * How a merchant's terms say it takes only payments under a mandate: an x402 v2 extension in its PaymentRequired,
 * `extensions["ap2-mandate"] = { info: { required: true }, schema }` (`schema` is the JSON Schema of `info`), so an
 * agent holding none refuses before it signs anything (see {@link mandateRequiredBy}). A client that echoes the
 * terms' extensions into its payment, as the reference client does, sends it back beside the chain it adds.
 */
export const MANDATE_REQUIRED_TERMS = {
  info: { required: true },
  schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { required: { const: true } },
    required: ["required"],
  },
} as const;

/**
 * The PaymentRequired extensions of a merchant that requires a mandate (`policy.required`, or selling by checkout,
 * whose offer checkoutOfferOf() in src/x402/checkouts.ts checks), else undefined. A mandate closes one payment of a
 * known amount, so such a merchant offers exact payments only: throws, naming `what` (the route, tool or skill), when
 * `policy.required` and `offers` has another scheme.
 */
export function mandateTermsFor(what: string, offers: PaymentRequirements[], policy: MandatePolicy = {}, byCheckout = false): PaymentRequired["extensions"] {
  if (!policy.required && !byCheckout) return undefined;
  const other = policy.required && offers.find((o) => o.scheme !== "exact");
  if (other) throw new InvalidInputError(`${what}: a payment under a mandate is paid by exact payments only, so it cannot also offer ${other.scheme}`);
  return { [AP2_EXTENSION]: MANDATE_REQUIRED_TERMS };
}

/** Whether the terms `required` take only payments under a mandate (their `ap2-mandate` extension, or a checkout). */
export function mandateRequiredBy(required: PaymentRequired): boolean {
  const extensions = required.extensions as Record<string, { info?: { required?: unknown } } | undefined> | undefined;
  return extensions?.[AP2_EXTENSION]?.info?.required === true || extensions?.[AP2_CHECKOUT_EXTENSION] !== undefined;
}

/** Why `payment` may not be taken under `policy` (see {@link checkMandateBinding}), or undefined. */
export async function mandateProblem(
  payment: PaymentPayload,
  requirement: PaymentRequirements,
  resource: string,
  policy: MandatePolicy = {},
  checkout?: OfferedCheckout,
): Promise<string | undefined> {
  return (await mandateBinding(payment, requirement, resource, policy, checkout)).problem;
}

/** {@link mandateProblem}, and the checkout the payment pays when it pays one (see {@link bindMandate}). */
export async function mandateBinding(
  payment: PaymentPayload,
  requirement: PaymentRequirements,
  resource: string,
  policy: MandatePolicy = {},
  checkout?: OfferedCheckout,
): Promise<{ problem?: string; checkout?: PaidCheckout }> {
  const carries = (payment.extensions as Record<string, unknown> | undefined)?.[AP2_EXTENSION] !== undefined;
  if (!carries && !policy.required && !checkout) return {};
  return bindMandate(payment, requirement, resource, { issuers: policy.issuers, checkout });
}

/** Constraints a merchant can check from one payment alone. */
function perPayment(c: PaymentConstraint): boolean {
  return c.type !== "payment.budget" && c.type !== "payment.agent_recurrence";
}
