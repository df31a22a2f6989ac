import { getAddress } from "ethers";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import type { FacilitatorAsset } from "./facilitator";
import type { BatchSettlementServer } from "./batch/server";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { parsePrice } from "./money";

/** The x402 schemes a price can be paid with: one authorization per call, or vouchers over a payment channel. */
export type PaywallScheme = "exact" | "batch-settlement";

/** A first channel deposit when none is set: enough for 20 calls. */
const DEFAULT_DEPOSIT_CALLS = 20n;

/** What every offer of one price shares, whatever carries it (an HTTP route, an MCP tool, an A2A skill). */
export interface OfferTerms {
  /** In dollars: "$0.001" is 1,000 base units of NET Dollar. */
  price: string;
  payTo: string;
  /** CAIP-2, e.g. "eip155:31337". */
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  /** Seconds a payment authorization must stay valid (default 60). */
  maxTimeoutSeconds?: number;
  /** Which schemes it accepts, in the order offered (default ["exact"]; batch-settlement needs `batch`). */
  schemes?: PaywallScheme[];
  /** The smallest first deposit into a channel, in dollars (batch-settlement; default 20 × the price). */
  minDeposit?: string;
  /** The server side of batch-settlement (channel store, receiver authorizer), when `schemes` has it. */
  batch?: BatchSettlementServer;
}

/** The `exact` offer of a price: an EIP-3009 authorization of exactly `price` to `payTo`. */
export function exactOffer(terms: OfferTerms): PaymentRequirements {
  return {
    scheme: "exact",
    network: terms.network,
    asset: getAddress(terms.asset.address),
    amount: parsePrice(terms.price).toString(),
    payTo: getAddress(terms.payTo),
    maxTimeoutSeconds: terms.maxTimeoutSeconds ?? 60,
    extra: { name: terms.asset.name, version: terms.asset.version },
  };
}

/**
 * The offers of a price, one per scheme in the order of `terms.schemes` (the `accepts` of its PaymentRequired).
 * Throws, naming `what` (the route or tool), for an unknown scheme, batch-settlement without a batch server or with
 * one that receives for someone else, or no scheme at all.
 */
export function offersFor(what: string, terms: OfferTerms): PaymentRequirements[] {
  const payTo = getAddress(terms.payTo);
  const offers = (terms.schemes ?? ["exact"]).map((scheme): PaymentRequirements => {
    if (scheme === "exact") return exactOffer(terms);
    if (scheme !== BATCH_SETTLEMENT_SCHEME) throw new Error(`${what}: scheme "${String(scheme)}" is not one of exact, batch-settlement`);
    if (!terms.batch) throw new Error(`${what} accepts batch-settlement: give it a batch server (channel store and receiver authorizer)`);
    if (terms.batch.payTo !== payTo) throw new Error(`${what}: the batch server receives for ${terms.batch.payTo}, not ${payTo}`);
    const amount = parsePrice(terms.price);
    const minDeposit = terms.minDeposit === undefined ? amount * DEFAULT_DEPOSIT_CALLS : parsePrice(terms.minDeposit);
    return terms.batch.requirements(amount, minDeposit, terms.maxTimeoutSeconds ?? 60);
  });
  if (offers.length === 0) throw new Error(`${what} accepts no scheme`);
  return offers;
}

/** How a refused channel payment corrects the client: the channel's state joins the batch offer, and why, in words. */
export interface Corrective {
  extra?: Record<string, unknown>;
  message: string;
}

/**
 * The PaymentRequired of a resource, for any transport: `error` says why (a refusal's reference reason; a
 * batch-settlement refusal's is exactly the reason, which the reference client compares), and a refused voucher's
 * corrective state joins the batch-settlement offer, its words in `message`.
 */
export function paymentRequiredFor(
  resource: PaymentRequired["resource"],
  offers: PaymentRequirements[],
  error?: string,
  corrective?: Corrective,
  extensions?: PaymentRequired["extensions"],
): PaymentRequired & { message?: string } {
  const extra = corrective?.extra;
  return {
    x402Version: 2,
    ...(error ? { error } : {}),
    resource,
    accepts: extra ? offers.map((o) => (o.scheme === BATCH_SETTLEMENT_SCHEME ? { ...o, extra: { ...o.extra, ...extra } } : o)) : offers,
    ...(extensions ? { extensions } : {}),
    ...(corrective ? { message: corrective.message } : {}),
  };
}
