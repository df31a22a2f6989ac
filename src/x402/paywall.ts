import type { NextFunction, Request, RequestHandler, Response } from "express";
import { getAddress } from "ethers";
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader, encodePaymentResponseHeader } from "@x402/core/http";
import { PaymentPayloadV2Schema } from "@x402/core/schemas";
import { HTTPFacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { describeIssues } from "../errors";
import { offersFor, paymentRequiredFor, type Corrective, type PaywallScheme } from "./offers";
import { MANDATE_REASON, REASON } from "./reasons";
import { mandateBinding, mandateTermsFor, type MandatePolicy } from "../ap2/mandates";
import type { FacilitatorAsset } from "./facilitator";
import type { BatchSettlementServer } from "./batch/server";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { ServedPayments } from "./served";
import { settleExact, verifyExact } from "./exactOnce";
import { CheckoutDesk, type CheckoutSale } from "./checkouts";

/** What the paywall needs of a facilitator: ours in process, or any one over HTTP (see {@link facilitatorByUrl}). */
export interface FacilitatorLike {
  verify(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<SettleResponse>;
}

/** A facilitator reached over HTTP (the x402 reference SDK's client, which speaks the v2 facilitator API). */
export function facilitatorByUrl(url: string, timeoutMs = 30_000): FacilitatorLike {
  return new HTTPFacilitatorClient({ url, timeoutMs });
}

export interface PaidRoute {
  /** In dollars: "$0.001" is 1,000 base units of NET Dollar. */
  price: string;
  description?: string;
  mimeType?: string;
  /** Which schemes it accepts, in the order offered (default ["exact"]; batch-settlement needs `batch`). */
  schemes?: PaywallScheme[];
  /** The smallest first deposit into a channel, in dollars (batch-settlement; default 20 × the price). */
  minDeposit?: string;
  /** Who is paid for this route, instead of the paywall's `payTo` (e.g. a revenue split's address). */
  payTo?: string;
  /**
   * Share this route's revenue: recipient → basis points, e.g. `{ "0xCreator": 7000, "0xSource": 2000, "0xPlatform": 1000 }`.
   * `resolveSplitRoutes()` (src/splits.ts) turns it into the split's address as `payTo`, creating the split if needed.
   */
  split?: Record<string, number>;
  /**
   * Sell this route by AP2 checkout: every 402 offers a new checkout signed with this key (one line item: the route,
   * "GET /path", its description the title, unless `item`), and an exact payment is taken only under a checkout mandate
   * closed for a checkout the key signed for this route, each checkout paid once (recorded in the paywall's `served`).
   * The route must be exact only, in whole cents.
   */
  checkout?: CheckoutSale;
}

/**
 * When the payment is settled:
 * - `settle-before-serve` (default): verify, settle (the money has moved), then serve. A payer cannot cancel the
 *   authorization between verification and settlement, and nothing is served unpaid.
 * - `verify-then-settle`: the protocol's usual order, verify, run the handler, then settle before the response leaves;
 *   if settlement fails the handler's response is discarded and a 402 is sent instead. Faster first byte, but the
 *   handler runs for payments that may still fail.
 */
export type PaywallMode = "settle-before-serve" | "verify-then-settle";

export interface PaywallOptions {
  /** "METHOD /path" → price, e.g. { "GET /weather": { price: "$0.01" } }. Other routes pass through free. */
  routes: Record<string, PaidRoute>;
  payTo: string;
  /** CAIP-2, e.g. "eip155:31337". */
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  facilitator: FacilitatorLike;
  mode?: PaywallMode;
  /** Seconds a payment authorization must stay valid (default 60). */
  maxTimeoutSeconds?: number;
  /**
   * Which exact payments were served (default in this process's memory); give one on the paywall's database so that
   * its processes, and a restart, agree on it.
   */
  served?: ServedPayments;
  /** The server side of batch-settlement (channel store, receiver authorizer), for routes that accept it. */
  batch?: BatchSettlementServer;
  /**
   * AP2 mandates on exact payments (see {@link MandatePolicy}): one carried is always checked. With `required`, the
   * terms say so (`extensions["ap2-mandate"]`) and every route must offer exact payments only.
   */
  mandates?: MandatePolicy;
  /** Called for every paid request served, with its settlement. */
  onPaid?: (record: { route: string; scheme: PaywallScheme; payer?: string; amount: string; transaction: string }) => void;
}

interface PreparedRoute {
  key: string;
  /** The offers, in the order of `accepts`. */
  offers: PaymentRequirements[];
  /** The PaymentRequired's extensions (a mandate required). */
  extensions?: PaymentRequired["extensions"];
  /** Selling by checkout. */
  desk?: CheckoutDesk;
  description?: string;
  mimeType?: string;
}

/**
 * Express middleware that puts prices on routes and takes payment over x402 v2 in NET Dollar.
 *
 * A request without payment gets 402 with a `PAYMENT-REQUIRED` header (and the same JSON in the body) offering the
 * route's schemes. An `exact` payment (`PAYMENT-SIGNATURE`) is checked against the route's requirements, verified by
 * the facilitator and settled, in the order of {@link PaywallMode}; a `batch-settlement` one (a channel deposit or a
 * voucher) is handled by `batch` (./batch/server.ts): verified locally and charged in the channel store before the
 * request is served. The response carries `PAYMENT-RESPONSE`. Anything wrong (malformed header, wrong
 * version, network, asset, amount or payee, an invalid or reused authorization) gets a 402 with the reference reason
 * string, and the same payment is never served twice. A facilitator that cannot be reached gets 502: nothing is
 * served unpaid.
 *
 * @example
 * app.use(paywall({ routes: { "GET /joke": { price: "$0.001" } }, payTo, network: "eip155:31337", asset, facilitator }));
 */
export function paywall(options: PaywallOptions): RequestHandler {
  const mode = options.mode ?? "settle-before-serve";
  const payTo = getAddress(options.payTo);
  const routes = new Map<string, PreparedRoute>();
  for (const [key, route] of Object.entries(options.routes)) {
    const [method, path] = key.trim().split(/\s+/);
    if (!method || !path?.startsWith("/")) throw new Error(`route "${key}" is not "METHOD /path"`);
    const normalized = `${method.toUpperCase()} ${path}`;
    if (route.split && !route.payTo) throw new Error(`route "${key}" names a split: resolve it first with resolveSplitRoutes() (src/splits.ts)`);
    const offers = offersFor(`route "${key}"`, {
      price: route.price,
      payTo: route.payTo ?? payTo,
      network: options.network,
      asset: options.asset,
      maxTimeoutSeconds: options.maxTimeoutSeconds,
      schemes: route.schemes,
      minDeposit: route.minDeposit,
      batch: options.batch,
    });
    const extensions = mandateTermsFor(`route "${key}"`, offers, options.mandates, route.checkout !== undefined);
    const desk = route.checkout && new CheckoutDesk(`route "${key}"`, route.checkout, offers, { id: normalized, title: route.description ?? normalized });
    routes.set(normalized, { key: normalized, description: route.description, mimeType: route.mimeType, offers, extensions, desk });
  }
  // exact payments served (see ./served.ts), and those being processed here right now.
  const served = options.served ?? new ServedPayments();
  const inFlight = new Set<string>();

  return async function x402Paywall(req: Request, res: Response, next: NextFunction) {
    const route = routes.get(`${req.method.toUpperCase()} ${req.path}`);
    if (!route) return next();
    const resource = { url: `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`, description: route.description, mimeType: route.mimeType };
    const paymentRequired = async (error: string, reason?: string, settlement?: SettleResponse, batch?: Corrective) => {
      const terms = paymentRequiredFor(resource, route.offers, error, batch, route.extensions);
      const body: PaymentRequired & { reason?: string; message?: string } = {
        ...(route.desk ? await route.desk.offer(terms) : terms),
        ...(reason ? { reason } : {}),
      };
      res.status(402).setHeader("PAYMENT-REQUIRED", encodePaymentRequiredHeader(body));
      if (settlement) res.setHeader("PAYMENT-RESPONSE", encodePaymentResponseHeader(settlement));
      res.setHeader("Cache-Control", "no-store");
      res.json(body);
    };

    const header = req.get("PAYMENT-SIGNATURE");
    if (!header) return paymentRequired("PAYMENT-SIGNATURE header is required");
    let decoded: unknown;
    try {
      decoded = decodePaymentSignatureHeader(header);
    } catch {
      return paymentRequired(`${REASON.invalidPayload}: the PAYMENT-SIGNATURE header is not base64-encoded JSON`, REASON.invalidPayload);
    }
    const version = (decoded as { x402Version?: unknown } | null)?.x402Version;
    if (version !== 2)
      return paymentRequired(`${REASON.invalidX402Version}: x402Version ${JSON.stringify(version)} is not supported (2 is)`, REASON.invalidX402Version);
    const parsed = PaymentPayloadV2Schema.safeParse(decoded);
    if (!parsed.success) return paymentRequired(`${REASON.invalidPayload}: ${describeIssues(parsed.error)}`, REASON.invalidPayload);
    const payment = parsed.data as PaymentPayload;
    const requirements = route.offers.find((o) => o.scheme === payment.accepted.scheme);
    if (!requirements)
      return paymentRequired(
        `${REASON.unsupportedScheme}: scheme "${payment.accepted.scheme}" is not accepted (${route.offers.map((o) => `"${o.scheme}"`).join(", ")} is)`,
        REASON.unsupportedScheme,
      );
    const mismatch = compareRequirements(payment.accepted, requirements);
    if (mismatch) return paymentRequired(`${mismatch.reason}: ${mismatch.message}`, mismatch.reason);

    if (requirements.scheme === BATCH_SETTLEMENT_SCHEME) {
      // Charged (durably, in the channel store) before the request is served; claimed on chain later, in batches.
      const outcome = await options.batch!.handle(payment, requirements, route.key);
      if (outcome.kind === "unavailable") return unknownYet(res, "the payment could not be processed now; nothing was charged", outcome.message);
      // The reference client reads the reason from `error` exactly (its corrective path compares it).
      if (outcome.kind === "refused")
        return paymentRequired(outcome.reason, outcome.reason, outcome.settlement, { extra: outcome.extra, message: outcome.message });
      res.setHeader("PAYMENT-RESPONSE", encodePaymentResponseHeader(outcome.settlement));
      if (outcome.kind === "refunded") return void res.status(200).json(outcome.body);
      // Marked served once the response is handed to the network: until then (the process died first), the same
      // voucher presented again is served again, never charged again; after, it is a replay.
      res.once("finish", () => options.batch!.served(outcome));
      options.onPaid?.({
        route: route.key,
        scheme: BATCH_SETTLEMENT_SCHEME,
        payer: outcome.payer,
        amount: outcome.amount.toString(),
        transaction: outcome.settlement.transaction,
      });
      return next();
    }

    const binding = await mandateBinding(payment, requirements, resource.url, options.mandates, route.desk?.expected);
    if (binding.problem) return paymentRequired(`${MANDATE_REASON}: ${binding.problem}`, MANDATE_REASON);

    const auth = (payment.payload as { authorization?: { from?: unknown; nonce?: unknown; validBefore?: unknown } }).authorization;
    const key = typeof auth?.from === "string" && typeof auth.nonce === "string" ? `${auth.from}:${auth.nonce}`.toLowerCase() : undefined;
    const validBefore = BigInt(/^\d+$/.test(String(auth?.validBefore ?? "")) ? String(auth!.validBefore) : "0");
    const id = key ? { network: requirements.network, payer: String(auth!.from), nonce: String(auth!.nonce), validBefore } : undefined;
    try {
      if (id && (await served.wasServed(id)))
        return paymentRequired(`${REASON.nonceAlreadyUsed}: this payment was already used for a request`, REASON.nonceAlreadyUsed);
    } catch (error) {
      return unknownYet(
        res,
        `the paywall's database could not be read (${(error as Error).message.split("\n")[0]}); nothing was charged; present the same payment again`,
      );
    }
    if (binding.checkout) {
      // Claimed before it is settled: another payment for the same checkout is refused with nothing moved.
      let taken: string | undefined;
      try {
        taken = await route.desk!.claim(served, binding.checkout, payment, requirements.network);
      } catch (error) {
        return unknownYet(
          res,
          `the paywall's database could not be written (${(error as Error).message.split("\n")[0]}); nothing was charged; present the same payment again`,
        );
      }
      if (taken) return paymentRequired(`${MANDATE_REASON}: ${taken}`, MANDATE_REASON);
    }
    // Being processed here right now (the client resent it after losing the connection): not final, ask again.
    if (key && inFlight.has(key)) return unknownYet(res, "this payment is being processed; present the same payment again in a moment");
    if (key) inFlight.add(key);
    try {
      await pay();
    } finally {
      if (key) inFlight.delete(key);
    }

    async function pay(): Promise<void> {
      // Recovered even with the record in memory: after a restart a payment served before is served once more (see
      // docs/x402.md, Limits), and one whose answer was lost is served rather than refused.
      const verification = await verifyExact(options.facilitator, payment, requirements!, true);
      if (verification.kind === "down") return facilitatorDown(res, verification.error, "nothing was settled for this request; present the same payment again");
      if (verification.kind === "refused") return paymentRequired(verification.reason, verification.code);
      const recovering = verification.recovering;

      if (mode === "settle-before-serve" || recovering) {
        const s = await settle();
        if (s.kind === "down")
          return facilitatorDown(res, s.error, "the payment may have been settled; present the same payment again: it is never charged twice");
        if (!s.response.success) {
          if (recovering)
            return paymentRequired(`${REASON.nonceAlreadyUsed}${verification.message ? `: ${verification.message}` : ""}`, REASON.nonceAlreadyUsed);
          return refused(s.response);
        }
        const taken = await take(s.response);
        if (taken === "unknown") return unknownYet(res, TAKE_FAILED);
        if (!taken) return paymentRequired(`${REASON.nonceAlreadyUsed}: this payment was already used for a request`, REASON.nonceAlreadyUsed);
        settled(s.response);
        return next();
      }

      // verify-then-settle: hold the handler's response until the payment is settled.
      await new Promise<void>((done) => {
        holdResponse(res, async (flush, discard, statusCode) => {
          try {
            if (statusCode >= 400) return flush(); // an error is not charged for
            const s = await settle();
            if (s.kind === "down") {
              discard();
              return facilitatorDown(res, s.error, "the payment may have been settled; present the same payment again: it is never charged twice");
            }
            if (!s.response.success) {
              discard();
              return refused(s.response);
            }
            const taken = await take(s.response);
            if (taken !== true) {
              discard();
              if (taken === "unknown") return unknownYet(res, TAKE_FAILED);
              return paymentRequired(`${REASON.nonceAlreadyUsed}: this payment was already used for a request`, REASON.nonceAlreadyUsed);
            }
            settled(s.response);
            flush();
          } finally {
            done();
          }
        });
        next();
      });
    }

    function settle() {
      return settleExact(options.facilitator, payment, requirements!);
    }
    // Settlement refused: nothing moved, nothing was served; final.
    function refused(s: SettleResponse): void {
      paymentRequired(`${s.errorReason ?? "settlement failed"}${s.errorMessage ? `: ${s.errorMessage}` : ""}`, s.errorReason, s);
    }
    /** Takes a settled payment for serving (false: its answer already left once; "unknown": the store failed). */
    async function take(s: SettleResponse): Promise<boolean | "unknown"> {
      try {
        return id ? await served.take({ ...id, route: route!.key, transaction: s.transaction }) : true;
      } catch {
        return "unknown";
      }
    }
    function settled(s: SettleResponse): void {
      // Served once: presenting it again after this answer has left is refused.
      if (id) res.once("finish", () => void served.served(id).catch(() => undefined));
      res.setHeader("PAYMENT-RESPONSE", encodePaymentResponseHeader(s));
      options.onPaid?.({ route: route!.key, scheme: "exact", payer: s.payer, amount: requirements!.amount, transaction: s.transaction });
    }
  };
}

/** 502: the facilitator could not be reached; `outcome` says what is known of the money and what to do. */
function facilitatorDown(res: Response, error: unknown, outcome: string): void {
  res.status(502).setHeader("Retry-After", "1");
  res.json({
    error: `the payment facilitator could not be reached: ${outcome}`,
    details: error instanceof Error ? error.message.split("\n")[0] : String(error),
  });
}

const TAKE_FAILED = "the payment was settled but the paywall's database could not be written; present the same payment again: it is never charged twice";

/** 503: not processed now, or the outcome not known yet; the same payment presented again gets the answer. */
function unknownYet(res: Response, message: string, details?: string): void {
  res.status(503).setHeader("Retry-After", "1");
  res.json(details === undefined ? { error: message } : { error: message, details });
}

/** Why the client's chosen requirements are not ours (a route's, a paid tool's), with the reference reason string. */
export function compareRequirements(accepted: PaymentRequirements, ours: PaymentRequirements): { reason: string; message: string } | undefined {
  if (accepted.scheme !== ours.scheme)
    return { reason: REASON.unsupportedScheme, message: `scheme "${accepted.scheme}" is not accepted ("${ours.scheme}" is)` };
  if (accepted.network !== ours.network) return { reason: REASON.networkMismatch, message: `network ${accepted.network} is not accepted (${ours.network} is)` };
  if (accepted.asset.toLowerCase() !== ours.asset.toLowerCase())
    return { reason: REASON.invalidPaymentRequirements, message: `asset ${accepted.asset} is not accepted (${ours.asset} is)` };
  if (accepted.payTo.toLowerCase() !== ours.payTo.toLowerCase())
    return { reason: REASON.recipientMismatch, message: `payTo ${accepted.payTo} is not this server's ${ours.payTo}` };
  if (accepted.amount !== ours.amount) return { reason: REASON.valueMismatch, message: `amount ${accepted.amount} is not the price ${ours.amount}` };
  return undefined;
}

/**
 * Buffers what the handler writes (status, headers, body) until `decide` calls `flush` (send it) or `discard` (drop
 * it and answer something else).
 */
function holdResponse(res: Response, decide: (flush: () => void, discard: () => void, statusCode: number) => Promise<void>): void {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res) as (chunk: unknown, encoding?: BufferEncoding) => boolean;
  const end = res.end.bind(res) as (chunk?: unknown, encoding?: BufferEncoding) => Response;
  const collect = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === "function") return;
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8"));
  };
  let ended = false;
  res.write = ((chunk: unknown, encoding?: unknown) => {
    collect(chunk, encoding);
    return true;
  }) as Response["write"];
  res.end = ((chunk?: unknown, encoding?: unknown) => {
    if (ended) return res;
    ended = true;
    collect(chunk, encoding);
    const restore = () => {
      res.write = write as Response["write"];
      res.end = end as Response["end"];
    };
    void decide(
      () => {
        restore();
        const body = Buffer.concat(chunks);
        if (!res.headersSent) res.setHeader("Content-Length", body.length);
        end(body);
      },
      () => {
        restore();
        for (const name of res.getHeaderNames()) res.removeHeader(name);
      },
      res.statusCode,
    );
    return res;
  }) as Response["end"];
}
