import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { z } from "zod";
import { describeIssues, InvalidInputError } from "../errors";
import { MerchantSchema, CheckoutMandateSchema, OpenCheckoutMandateSchema, type CheckoutMandate, type Merchant, type OpenCheckoutMandate } from "./schemas";
import { samePayee, verifyMandate } from "./mandates";
import {
  issueHop,
  joinChain,
  keyThumbprint,
  peekHeader,
  publicJwkOf,
  sdHash,
  splitChain,
  TYP_TERMINAL,
  verifyHop,
  type PrivateJwk,
  type PublicJwk,
} from "./sdjwt";

/**
 * AP2 checkouts in an x402 payment. A merchant signs a checkout (its order: merchant, line items, total) as a JWT and
 * offers it beside its x402 terms (`PaymentRequired.extensions["ap2-checkout"].checkout_jwt`). An agent holding a
 * person's open checkout mandate (`mandate.checkout.open.1`: allowed merchants, line items) closes it for that
 * checkout (`mandate.checkout.1`: `checkout_jwt`, `checkout_hash`), and its closed payment mandate's `transaction_id`
 * is that `checkout_hash`, as in AP2's examples. The checkout chain travels beside the payment chain
 * (`PaymentPayload.extensions["ap2-mandate"].checkout`); the merchant checks both against the checkout it issued.
 */

/** The `PaymentRequired.extensions` key of a merchant's signed checkout: `{ checkout_jwt: string }`. */
export const AP2_CHECKOUT_EXTENSION = "ap2-checkout";

const currency = z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 alpha-3 code, e.g. USD");
/** Dollars with at most two decimals (AP2's examples price in major units: 199.0). */
const dollars = z
  .number()
  .nonnegative()
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, "at most two decimals (whole cents)");

/** The checkout a merchant signs (AP2 leaves its payload to the commerce protocol; this is the shape of AP2's example). */
export const CheckoutSchema = z
  .object({
    order_id: z.string().min(1),
    merchant: MerchantSchema,
    line_items: z
      .array(
        z
          .object({
            id: z.string().min(1),
            product: z.object({ id: z.string().min(1), title: z.string().min(1), price: dollars, currency }).passthrough(),
            quantity: z.number().int().positive(),
          })
          .passthrough(),
      )
      .min(1),
    total_price: dollars,
    currency,
    iat: z.number().int().nonnegative(),
    exp: z.number().int().nonnegative(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    const sum = c.line_items.reduce((s, i) => s + Math.round(i.product.price * 100) * i.quantity, 0);
    if (sum !== Math.round(c.total_price * 100))
      ctx.addIssue({ code: "custom", path: ["total_price"], message: `is not the sum of the line items (${sum / 100})` });
    if (c.line_items.some((i) => i.product.currency !== c.currency))
      ctx.addIssue({ code: "custom", path: ["line_items"], message: `are not all in ${c.currency}` });
    if (c.exp <= c.iat) ctx.addIssue({ code: "custom", path: ["exp"], message: "is not after iat" });
  });
export type Checkout = z.infer<typeof CheckoutSchema>;

/** The checkout's total in cents. */
export function checkoutMinor(checkout: Checkout): number {
  return Math.round(checkout.total_price * 100);
}

/** What the checkout buys: product id → quantity (for `checkout.line_items`). */
export function checkoutItems(checkout: Checkout): Map<string, number> {
  const items = new Map<string, number>();
  for (const i of checkout.line_items) items.set(i.product.id, (items.get(i.product.id) ?? 0) + i.quantity);
  return items;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs a checkout as the merchant: a compact ES256 JWT, its public key in the header (`jwk`, `kid` its thumbprint). */
export async function signCheckout(checkout: Checkout, merchantKey: PrivateJwk): Promise<string> {
  const doc = CheckoutSchema.safeParse(checkout);
  if (!doc.success) throw new InvalidInputError(`the checkout does not follow its schema: ${describeIssues(doc.error, "(document)")}`);
  const jwk = publicJwkOf(merchantKey);
  const input = `${b64({ alg: "ES256", typ: "JWT", kid: await keyThumbprint(jwk), jwk })}.${b64(doc.data)}`;
  const signature = sign("sha256", Buffer.from(input), { key: createPrivateKey({ key: merchantKey, format: "jwk" }), dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/**
 * Reads a merchant's checkout JWT: its signature (by `merchantKey` when given, else by the key in its header), its
 * schema and its times (`now` in [iat - 60 s, exp)). An InvalidInputError says what was wrong.
 */
export async function readCheckout(
  jwt: string,
  options: { merchantKey?: PublicJwk; now?: number } = {},
): Promise<{ checkout: Checkout; merchantKey: PublicJwk }> {
  const parts = typeof jwt === "string" ? jwt.split(".") : [];
  if (parts.length !== 3) throw new InvalidInputError("the checkout is not a JWT (header.payload.signature)");
  const header = peekHeader(jwt);
  if (header.alg !== "ES256") throw new InvalidInputError(`the checkout is signed with ${JSON.stringify(header.alg)}, not ES256`);
  const signer = publicJwkOf(header.jwk);
  if (options.merchantKey && (await keyThumbprint(signer)) !== (await keyThumbprint(options.merchantKey)))
    throw new InvalidInputError("the checkout is signed by another key than the merchant's");
  const ok = verify(
    "sha256",
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key: createPublicKey({ key: signer, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(parts[2], "base64url"),
  );
  if (!ok) throw new InvalidInputError("the checkout's signature does not verify");
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    throw new InvalidInputError("the checkout's payload is not base64url JSON");
  }
  const doc = CheckoutSchema.safeParse(payload);
  if (!doc.success) throw new InvalidInputError(`the checkout does not follow its schema: ${describeIssues(doc.error, "(document)")}`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (now >= doc.data.exp) throw new InvalidInputError(`the checkout expired at ${new Date(doc.data.exp * 1000).toISOString()}`);
  if (doc.data.iat > now + 60) throw new InvalidInputError(`the checkout is issued in the future (${new Date(doc.data.iat * 1000).toISOString()})`);
  return { checkout: doc.data, merchantKey: signer };
}

/** The `checkout_hash` of a checkout JWT: base64url(SHA-256) of its bytes (`_sd_alg` sha-256). */
export function checkoutHash(jwt: string): string {
  return sdHash(jwt);
}

/**
 * The agent's hop over an open checkout mandate: `mandate.checkout.1` for `checkoutJwt`, signed by the agent's key
 * (the open mandate's `cnf`), bound to it by `sd_hash`; returns the chain. The constraints are the caller's to check.
 */
export async function presentCheckoutMandate(
  openToken: string,
  checkoutJwt: string,
  agentKey: PrivateJwk,
  binding: { aud: string; nonce: string; iat?: number },
): Promise<string> {
  const [open] = splitChain(openToken);
  const iat = binding.iat ?? Math.floor(Date.now() / 1000);
  const closed: CheckoutMandate = CheckoutMandateSchema.parse({
    vct: "mandate.checkout.1",
    checkout_jwt: checkoutJwt,
    checkout_hash: checkoutHash(checkoutJwt),
    iat,
  });
  const hop = await issueHop(
    closed as Record<string, unknown>,
    agentKey,
    { typ: TYP_TERMINAL },
    { iat, aud: binding.aud, nonce: binding.nonce, sd_hash: sdHash(open) },
  );
  return joinChain([open, hop]);
}

export interface VerifiedCheckoutChain {
  open: OpenCheckoutMandate;
  closed: CheckoutMandate;
  checkout: Checkout;
  /** sd_hash of the open checkout mandate: what a `payment.reference` constraint names. */
  openHash: string;
  issuerKid: string;
  agentKid: string;
}

/**
 * Verifies an open + closed checkout mandate chain: the person's signature (by one of `issuers` when given), the
 * agent's (the open mandate's `cnf`), the `sd_hash` binding, the schemas and times, that `checkout_hash` is the hash
 * of `checkout_jwt`, the checkout itself (signed by `merchantKey` when given) and that it is within the open
 * mandate's constraints.
 */
export async function verifyCheckoutMandateChain(
  chain: string,
  options: { issuers?: PublicJwk[]; merchantKey?: PublicJwk; now?: number } = {},
): Promise<VerifiedCheckoutChain> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const hops = splitChain(chain);
  if (hops.length !== 2) throw new InvalidInputError(`a checkout mandate chain is an open and a closed mandate; this one has ${hops.length} part(s)`);
  const root = await verifyMandate(hops[0], { issuers: options.issuers, now });
  const open = OpenCheckoutMandateSchema.safeParse(root.mandate);
  if (!open.success) throw new InvalidInputError(`the first mandate is a ${root.mandate.vct}, not an open checkout mandate (mandate.checkout.open.1)`);
  const agent = publicJwkOf(open.data.cnf.jwk);
  if (peekHeader(hops[1]).typ !== TYP_TERMINAL) throw new InvalidInputError(`the closed checkout mandate is not a ${TYP_TERMINAL}`);
  const hop = await verifyHop(hops[1], agent, "the closed checkout mandate (signed by the agent key in the open mandate's cnf)", now);
  if (hop.payload.sd_hash !== sdHash(hops[0]))
    throw new InvalidInputError("the closed checkout mandate is not bound to this open mandate (sd_hash does not match)");
  const closed = CheckoutMandateSchema.safeParse(hop.mandate);
  if (!closed.success)
    throw new InvalidInputError(`the closed checkout mandate does not follow the mandate.checkout.1 schema: ${describeIssues(closed.error, "(document)")}`);
  if (closed.data.checkout_hash !== checkoutHash(closed.data.checkout_jwt)) throw new InvalidInputError("checkout_hash is not the hash of checkout_jwt");
  const { checkout } = await readCheckout(closed.data.checkout_jwt, { merchantKey: options.merchantKey, now });
  const violations = checkCheckoutConstraints(open.data, checkout.merchant, checkoutItems(checkout));
  if (violations.length) throw new InvalidInputError(`the checkout is outside the open checkout mandate: ${violations.join("; ")}`);
  return { open: open.data, closed: closed.data, checkout, openHash: sdHash(hops[0]), issuerKid: root.issuerKid, agentKid: await keyThumbprint(agent) };
}

/** What in a checkout an open checkout mandate does not allow (`merchant` the seller, `items` id → quantity). */
export function checkCheckoutConstraints(open: OpenCheckoutMandate, merchant: Merchant, items: Map<string, number>): string[] {
  const violations: string[] = [];
  for (const c of open.constraints) {
    if (c.type === "checkout.allowed_merchants" && !c.allowed.some((m) => samePayee(m, merchant)))
      violations.push(`merchant ${merchant.id ?? merchant.name} is not one the mandate allows`);
    if (c.type === "checkout.line_items")
      for (const req of c.items) {
        const present = req.acceptable_items.filter((i) => items.has(i.id));
        if (present.length !== 1) violations.push(`line item ${req.id}: exactly one of ${req.acceptable_items.map((i) => i.id).join(", ")} must be bought`);
        else if (items.get(present[0].id) !== req.quantity) violations.push(`line item ${req.id}: the quantity must be ${req.quantity}`);
      }
  }
  const allowed = new Set(
    open.constraints.flatMap((c) => (c.type === "checkout.line_items" ? c.items.flatMap((r) => r.acceptable_items.map((i) => i.id)) : [])),
  );
  for (const id of items.keys()) if (!allowed.has(id)) violations.push(`item ${id} is not one the mandate allows`);
  return violations;
}

export interface OpenCheckoutMandateInput {
  /** The agent's public key: only it can close the mandate. */
  agentKey: PublicJwk;
  /** The merchants it may buy from (checkout.allowed_merchants); none: any. */
  merchants?: Merchant[];
  /** What the checkout must hold: each entry one of its acceptable items, `quantity` of it (checkout.line_items). */
  lineItems: { id: string; acceptable: { id: string; title: string }[]; quantity: number }[];
  issuedAt?: Date;
  expiresAt?: Date;
}

/** An open checkout mandate (`mandate.checkout.open.1`) from the person's limits, checked against its schema. */
export function openCheckoutMandate(input: OpenCheckoutMandateInput): OpenCheckoutMandate {
  const iat = Math.floor((input.issuedAt ?? new Date()).getTime() / 1000);
  const exp = input.expiresAt ? Math.floor(input.expiresAt.getTime() / 1000) : undefined;
  if (exp !== undefined && exp <= iat) throw new InvalidInputError("the mandate would expire before it is issued");
  const doc = OpenCheckoutMandateSchema.safeParse({
    vct: "mandate.checkout.open.1",
    constraints: [
      ...(input.merchants?.length ? [{ type: "checkout.allowed_merchants", allowed: input.merchants }] : []),
      { type: "checkout.line_items", items: input.lineItems.map((l) => ({ id: l.id, acceptable_items: l.acceptable, quantity: l.quantity })) },
    ],
    cnf: { jwk: publicJwkOf(input.agentKey) },
    iat,
    ...(exp !== undefined ? { exp } : {}),
  });
  if (!doc.success) throw new InvalidInputError(`the open checkout mandate does not follow its schema: ${describeIssues(doc.error, "(document)")}`);
  return doc.data;
}
