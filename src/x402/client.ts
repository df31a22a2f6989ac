import { getAddress, type Signer } from "ethers";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { formatAmount } from "../amounts";
import { NetDollarError } from "../errors";
import { randomNonce, TYPES } from "../eip712";
import { chainIdOf } from "./money";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { ChannelWallet, type ChannelPayment } from "./batch/wallet";
import { BATCH_REASON } from "./reasons";
import { AP2_EXTENSION, mandateRequiredBy } from "../ap2/mandates";
import { AP2_CHECKOUT_EXTENSION } from "../ap2/checkout";
import type { MandateWallet } from "../ap2/wallet";

/** The paying client refused to pay (a spend control, or nothing it may pay with); nothing was signed. */
export class PaymentRefusedError extends NetDollarError {
  override name = "PaymentRefusedError";
}

/** Limits on what the client pays, all in base units of the asset (NET Dollar: 6 decimals). */
export interface SpendControls {
  /** At most this per payment. */
  maxPerPayment?: bigint;
  /** At most this per host (e.g. "api.example.com"), over the client's life. */
  maxPerHost?: bigint;
  /** At most this in total. */
  maxTotal?: bigint;
  /** At most this per channel deposit (batch-settlement; a deposit is the payer's until spent, and refundable). */
  maxDeposit?: bigint;
  /** CAIP-2 networks it may pay on (default: any eip155 network). */
  allowedNetworks?: string[];
  /** Assets it may pay with; when set, only these. */
  allowedAssets?: { network: string; asset: string }[];
}

/** One payment the client made, as the server reported it. */
export interface PaymentRecord {
  url: string;
  host: string;
  network: string;
  asset: string;
  payTo: string;
  amount: bigint;
  payer: string;
  scheme: "exact" | "batch-settlement";
  /** exact: the EIP-3009 nonce. batch-settlement: the channel id. */
  nonce: string;
  /** batch-settlement: the voucher's cumulative ceiling, and the deposit made with it, if any. */
  ceiling?: bigint;
  deposit?: bigint;
  /**
   * settled: the server reported a successful settlement (PAYMENT-RESPONSE), whatever the HTTP status of the answer;
   * refused: it answered 402 to the paid request; unconfirmed: anything else (the authorization may still be settled
   * until it expires).
   */
  status: "settled" | "refused" | "unconfirmed";
  transaction?: string;
  errorReason?: string;
  httpStatus: number;
  at: Date;
}

export interface PayingClientOptions {
  /** Signs the EIP-3009 authorizations (an EOA's key, or a smart wallet owner's). */
  signer: Signer;
  /** The paying account when it is a smart-contract wallet (ERC-1271) that `signer` signs for; default the signer. */
  payer?: string;
  controls?: SpendControls;
  /** The fetch to wrap (default the global one). */
  fetch?: typeof globalThis.fetch;
  /** Called after every payment. */
  onPayment?: (record: PaymentRecord) => void;
  /**
   * Pay over batch-settlement payment channels when a server offers them: `deposit` (base units) opens a channel or
   * tops it up, every call is then a voucher; `stateDir` keeps the channels' state across runs.
   */
  channels?: { deposit: bigint; stateDir?: string; salt?: string; contracts?: { address: string; collector: string } };
  /**
   * How many times a payment (an exact authorization or a voucher) is sent again, the same, when its answer is lost
   * (the connection failed, or 502/503 without a PAYMENT-RESPONSE), default 3, never past the authorization's expiry.
   * A server that settled or charged it and died before answering serves it then without charging again.
   */
  resend?: number;
  /** The schemes it may pay with, preferred first (default batch-settlement then exact with `channels`, else exact). */
  schemes?: ("exact" | "batch-settlement")[];
  /**
   * Pay under a person's AP2 open payment mandate: every payment is checked against it (and refused before signing
   * when outside it), closed with the agent's key, and bound to it (the EIP-3009 nonce is the chain's hash; the chain
   * travels in `extensions["ap2-mandate"]`). Exact payments only.
   */
  mandate?: MandateWallet;
}

/** What a transport answered a payment with: its own result, and what the client needs of it. */
export interface VoucherAnswer<T> {
  result: T;
  /** The server's settlement (PAYMENT-RESPONSE, `_meta["x402/payment-response"]`), when it sent one. */
  settlement?: SettleResponse & { extra?: Record<string, unknown> };
  /** The server asked for payment again (HTTP 402, a tool's PaymentRequired): the voucher was not charged. */
  refused: boolean;
  /** The PaymentRequired it answered with, when refused (its `error` is the reason, its offer the corrective state). */
  required?: PaymentRequired;
  httpStatus?: number;
}

/** One call to pay by voucher: where it goes (the record's URL), the host the spend controls count, how it is sent. */
export interface VoucherCall<T> {
  where: URL;
  host: string;
  /** Remembers the route's offer once paid ("GET http://…", "mcp://server/tool"). */
  routeKey: string;
  send(payment: PaymentPayload): Promise<VoucherAnswer<T>>;
}

/**
 * A `fetch` for agents that pays HTTP 402 responses over x402 v2 in NET Dollar (or any EIP-3009 token the spend
 * controls allow), from an ethers signer, and keeps a record of every payment.
 *
 * The amount is reserved against the limits before anything is signed, so concurrent requests cannot overspend;
 * an authorization that was sent counts against the limits even if the server refused it (it could still be
 * settled until it expires).
 *
 * @example
 * const client = new PayingClient({ signer, controls: { maxPerPayment: 10_000n, maxTotal: 1_000_000n } });
 * const res = await client.fetch("http://127.0.0.1:4021/joke");
 * console.log(await res.text(), client.payments.at(-1));
 */
export class PayingClient {
  readonly payments: PaymentRecord[] = [];
  /** The payment channels (batch-settlement), when `channels` is set. */
  readonly channels?: ChannelWallet;
  private readonly spentByHost = new Map<string, bigint>();
  private spentTotal = 0n;
  private readonly baseFetch: typeof globalThis.fetch;
  /** The batch-settlement offer of each route paid before ("GET http://…"): the next call pays without asking. */
  private readonly offers = new Map<string, PaymentRequirements>();

  constructor(private readonly options: PayingClientOptions) {
    this.baseFetch = options.fetch ?? globalThis.fetch;
    if (options.channels) {
      const { contracts, ...rest } = options.channels;
      this.channels = new ChannelWallet({ signer: options.signer, ...rest, channels: contracts });
    }
  }

  /** What has been committed (settled or at risk), in total or for one host. */
  spent(host?: string): bigint {
    return host === undefined ? this.spentTotal : (this.spentByHost.get(host) ?? 0n);
  }

  /** The wrapped fetch: pays a 402 once and returns the paid response. */
  readonly fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    if (init.body instanceof ReadableStream)
      throw new PaymentRefusedError("the request body must be replayable (a string or bytes) to be sent again with the payment");
    const routeKey = `${(init.method ?? "GET").toUpperCase()} ${String(input)}`;
    const known = this.offers.get(routeKey);
    if (known && this.channels) return this.payByChannel(input, init, known, routeKey);
    const first = await this.baseFetch(input, init);
    if (first.status !== 402) return first;
    const header = first.headers.get("PAYMENT-REQUIRED");
    if (!header) return first;
    let required: PaymentRequired;
    try {
      required = decodePaymentRequiredHeader(header);
    } catch {
      throw new PaymentRefusedError("the server's PAYMENT-REQUIRED header is not valid base64 JSON");
    }
    const url = new URL(String(input));
    const requirement = this.choose(required, url.host);
    if (requirement.scheme === BATCH_SETTLEMENT_SCHEME) return this.payByChannel(input, init, requirement, routeKey);
    const { payment, authorization, payer, amount } = await this.signExact(required, requirement, url.host);
    const headers = new Headers(init.headers);
    headers.set("PAYMENT-SIGNATURE", encodePaymentSignatureHeader(payment));
    // The same signed payment again while its answer is lost, never a new one for the same purchase.
    const paid = await this.resend(input, { ...init, headers }, Number(authorization.validBefore) * 1000 - 5_000);
    const settlement = settlementOf(paid);
    let errorReason: string | undefined = settlement?.errorReason;
    if (paid.status === 402 && !errorReason) {
      try {
        errorReason = ((await paid.clone().json()) as { reason?: string }).reason;
      } catch {
        errorReason = undefined;
      }
    }
    this.record(url, paid, settlement, errorReason, {
      network: requirement.network,
      asset: requirement.asset,
      payTo: authorization.to,
      amount,
      payer,
      scheme: "exact",
      nonce: authorization.nonce,
    });
    return paid;
  };

  /**
   * Signs an `exact` payment (an EIP-3009 TransferWithAuthorization) for `requirement`, one of `required.accepts`,
   * within the spend controls, reserving its amount against `host`'s and the total limits before signing. The
   * transport (HTTP here, MCP or A2A in ./mcp.ts and ./a2a.ts) carries it; {@link recordPayment} records the outcome.
   */
  async signExact(
    required: PaymentRequired,
    requirement: PaymentRequirements,
    host: string,
  ): Promise<{
    payment: PaymentPayload;
    authorization: { from: string; to: string; value: bigint; validAfter: bigint; validBefore: bigint; nonce: string };
    payer: string;
    amount: bigint;
  }> {
    const payer = getAddress(this.options.payer ?? (await this.options.signer.getAddress()));
    const amount = BigInt(requirement.amount);
    // Reserve before signing: concurrent requests see each other's spending.
    this.reserve(host, amount);
    let mandate: { chain: string; nonce: string; checkout?: string } | undefined;
    try {
      mandate = await this.options.mandate?.authorize(required.resource?.url ?? host, requirement, required);
    } catch (error) {
      this.unreserve(host, amount);
      throw error;
    }
    const now = BigInt(Math.floor(Date.now() / 1000));
    const authorization = {
      from: payer,
      to: getAddress(requirement.payTo),
      value: amount,
      validAfter: 0n,
      validBefore: now + BigInt(requirement.maxTimeoutSeconds),
      nonce: mandate?.nonce ?? randomNonce(),
    };
    const extra = requirement.extra as { name?: string; version?: string };
    let signature: string;
    try {
      signature = await this.options.signer.signTypedData(
        { name: extra.name, version: extra.version, chainId: chainIdOf(requirement.network)!, verifyingContract: getAddress(requirement.asset) },
        TYPES.TransferWithAuthorization,
        authorization,
      );
    } catch (error) {
      // Nothing was signed: give the reservation back.
      this.unreserve(host, amount);
      throw error;
    }
    const payment: PaymentPayload = {
      x402Version: 2,
      resource: required.resource,
      accepted: requirement,
      payload: {
        signature,
        authorization: {
          ...authorization,
          value: authorization.value.toString(),
          validAfter: authorization.validAfter.toString(),
          validBefore: authorization.validBefore.toString(),
        },
      },
      // The terms' own ap2-mandate extension is echoed, as x402 v2 clients echo what a server declares.
      ...(mandate
        ? {
            extensions: {
              [AP2_EXTENSION]: {
                ...(required.extensions?.[AP2_EXTENSION] as object | undefined),
                chain: mandate.chain,
                ...(mandate.checkout ? { checkout: mandate.checkout } : {}),
              },
            },
          }
        : {}),
    };
    return { payment, authorization, payer, amount };
  }

  /** The requirement this client would pay among `required.accepts`, or PaymentRefusedError saying why none. */
  chooseRequirement(required: PaymentRequired, host: string): PaymentRequirements {
    return this.choose(required, host);
  }

  /** Records a payment, whatever carried it (HTTP here, MCP, A2A): `settled` when the settlement says so. */
  recordPayment(
    where: URL,
    settlement: SettleResponse | undefined,
    refused: boolean,
    p: Pick<PaymentRecord, "network" | "amount" | "payer" | "nonce" | "ceiling" | "deposit"> & {
      asset: string;
      payTo: string;
      scheme?: PaymentRecord["scheme"];
    },
    answer: { errorReason?: string; httpStatus?: number } = { errorReason: settlement?.errorReason },
  ): PaymentRecord {
    const record: PaymentRecord = {
      url: where.toString(),
      host: where.host,
      ...p,
      scheme: p.scheme ?? "exact",
      asset: getAddress(p.asset),
      payTo: getAddress(p.payTo),
      status: settlement?.success ? "settled" : refused ? "refused" : "unconfirmed",
      transaction: settlement?.transaction || undefined,
      errorReason: answer.errorReason,
      httpStatus: answer.httpStatus ?? 0,
      at: new Date(),
    };
    this.payments.push(record);
    this.options.onPayment?.(record);
    return record;
  }

  /**
   * Sends a paid request, and the same again while its answer is lost (the connection failed, or 502/503 without a
   * PAYMENT-RESPONSE: the outcome is not known), with backoff, at most `resend` more times and not past `deadline`
   * (ms since the epoch). A server that settled or charged it before serves it then without charging again.
   */
  private async resend(input: string | URL, init: RequestInit, deadline = Infinity): Promise<Response> {
    const attempts = 1 + (this.options.resend ?? 3);
    for (let attempt = 1; ; attempt++) {
      const last = attempt === attempts || Date.now() + 100 * 2 ** attempt > deadline;
      try {
        const res = await this.baseFetch(input, init);
        const lost = (res.status === 502 || res.status === 503) && !res.headers.get("PAYMENT-RESPONSE");
        if (!lost || last) return res;
        await res.arrayBuffer().catch(() => undefined);
      } catch (error) {
        if (last) throw error;
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)));
    }
  }

  /** An HTTP payment's record: refused when the paid request was answered 402. */
  private record(
    url: URL,
    res: Response,
    settlement: SettleResponse | undefined,
    errorReason: string | undefined,
    p: Pick<PaymentRecord, "network" | "amount" | "payer" | "scheme" | "nonce" | "ceiling" | "deposit"> & { asset: string; payTo: string },
  ): void {
    this.recordPayment(url, settlement, res.status === 402, p, { errorReason, httpStatus: res.status });
  }

  private reserve(host: string, amount: bigint): void {
    this.spentTotal += amount;
    this.spentByHost.set(host, (this.spentByHost.get(host) ?? 0n) + amount);
  }

  private unreserve(host: string, amount: bigint): void {
    this.spentTotal -= amount;
    this.spentByHost.set(host, (this.spentByHost.get(host) ?? 0n) - amount);
  }

  /** One HTTP call paid by voucher (see {@link payByVoucher}): the voucher in PAYMENT-SIGNATURE, resent while lost. */
  private payByChannel(input: string | URL, init: RequestInit, offer: PaymentRequirements, routeKey: string): Promise<Response> {
    const url = new URL(String(input));
    return this.payByVoucher(offer, {
      where: url,
      host: url.host,
      routeKey,
      send: async (payment) => {
        const headers = new Headers(init.headers);
        headers.set("PAYMENT-SIGNATURE", encodePaymentSignatureHeader(payment));
        const res = await this.resend(input, { ...init, headers });
        const settlement = settlementOf(res);
        let required: PaymentRequired | undefined;
        if (res.status === 402) {
          try {
            required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "");
          } catch {
            required = undefined;
          }
        }
        return { result: res, settlement, refused: res.status === 402, required, httpStatus: res.status };
      },
    });
  }

  /** The batch-settlement offer of a route paid before (its `routeKey`), when this client pays channels. */
  knownOffer(routeKey: string): PaymentRequirements | undefined {
    return this.channels ? this.offers.get(routeKey) : undefined;
  }

  /**
   * One call paid by voucher over any transport (HTTP here, MCP in ./mcp.ts), with a deposit when the channel needs
   * one, within the spend controls: `call.send` carries the payment and says what the server answered. The corrective
   * 402 is followed once (the server's count adopted, the call paid again), and so is "the channel holds too little"
   * (a top-up). Once paid, the route's offer is remembered: its next call pays without asking first.
   */
  async payByVoucher<T>(offer: PaymentRequirements, call: VoucherCall<T>, retries = 2): Promise<T> {
    const wallet = this.channels;
    if (!wallet) throw new PaymentRefusedError(`not paying ${call.host}: batch-settlement needs a channel deposit (channels.deposit)`);
    const amount = BigInt(offer.amount);
    this.checkLimits(amount, call.host);
    this.reserve(call.host, amount);
    let payment: ChannelPayment;
    try {
      payment = await wallet.pay(offer);
    } catch (error) {
      this.unreserve(call.host, amount);
      throw error;
    }
    const c = this.options.controls ?? {};
    if (payment.deposit !== undefined && c.maxDeposit !== undefined && payment.deposit > c.maxDeposit) {
      wallet.failed(payment);
      this.unreserve(call.host, amount);
      throw new PaymentRefusedError(
        `not paying ${call.host}: the channel needs a deposit of ${formatAmount(payment.deposit)}, above the maximum deposit ${formatAmount(c.maxDeposit)}`,
      );
    }
    let answer: VoucherAnswer<T>;
    try {
      answer = await call.send({ x402Version: 2, accepted: offer, payload: payment.payload } as PaymentPayload);
    } catch (error) {
      wallet.failed(payment);
      throw error;
    }
    const { settlement, required } = answer;
    let errorReason = settlement?.success ? undefined : settlement?.errorReason;
    let retry: "resync" | "top-up" | undefined;
    if (settlement?.success) {
      this.offers.set(call.routeKey, offer);
      wallet.settled(payment, settlement.extra as never);
    } else if (answer.refused) {
      this.unreserve(call.host, amount);
      errorReason ??= required?.error;
      const fresh = required?.accepts?.find((a) => a.scheme === BATCH_SETTLEMENT_SCHEME);
      if (errorReason === BATCH_REASON.cumulativeAmountMismatch && fresh && wallet.resync(payment, fresh)) retry = "resync";
      else {
        wallet.failed(payment, errorReason === BATCH_REASON.cumulativeExceedsBalance);
        if (errorReason === BATCH_REASON.cumulativeExceedsBalance) retry = "top-up";
        else this.offers.delete(call.routeKey);
      }
    } else {
      wallet.failed(payment);
    }
    this.recordPayment(
      call.where,
      settlement,
      answer.refused,
      {
        network: offer.network,
        asset: offer.asset,
        payTo: offer.payTo,
        amount,
        payer: getAddress(this.options.payer ?? (await this.options.signer.getAddress())),
        scheme: BATCH_SETTLEMENT_SCHEME,
        nonce: payment.channelId,
        ceiling: payment.ceiling,
        deposit: payment.deposit,
      },
      { errorReason, httpStatus: answer.httpStatus },
    );
    // The server's count adopted, or a top-up due: pay the call again (a refused voucher was not charged).
    if (retry && retries > 0) return this.payByVoucher(offer, call, retries - 1);
    return answer.result;
  }

  /** Refuses a price the per-payment, per-host or total limit does not allow. */
  private checkLimits(amount: bigint, host: string): void {
    const why = this.overLimit(amount, host);
    if (why) throw new PaymentRefusedError(`not paying ${host}: ${why}`);
  }

  /** Which limit (per payment, per host, total) paying `amount` to `host` now would break, in words. */
  private overLimit(amount: bigint, host: string): string | undefined {
    const c = this.options.controls ?? {};
    if (c.maxPerPayment !== undefined && amount > c.maxPerPayment)
      return `the price ${formatAmount(amount)} is above the maximum per payment ${formatAmount(c.maxPerPayment)}`;
    if (c.maxPerHost !== undefined && this.spent(host) + amount > c.maxPerHost)
      return `paying ${formatAmount(amount)} would take ${host} to ${formatAmount(this.spent(host) + amount)}, above its maximum ${formatAmount(c.maxPerHost)}`;
    if (c.maxTotal !== undefined && this.spentTotal + amount > c.maxTotal)
      return `paying ${formatAmount(amount)} would take the total to ${formatAmount(this.spentTotal + amount)}, above the maximum ${formatAmount(c.maxTotal)}`;
    return undefined;
  }

  /**
   * Asks the server of `url` for a cooperative refund of the channel its offer pays into (all that is unspent, or
   * `amount`): the server claims what it charged and the rest comes back to the payer, in one transaction.
   */
  async refundChannel(url: string | URL, amount?: bigint): Promise<{ channelId: string; settlement: SettleResponse & { extra?: Record<string, unknown> } }> {
    if (!this.channels) throw new PaymentRefusedError("this client pays no channels (give it `channels`)");
    const probe = await this.baseFetch(url);
    const header = probe.headers.get("PAYMENT-REQUIRED");
    if (probe.status !== 402 || !header) throw new PaymentRefusedError(`${String(url)} did not answer 402 with an offer (HTTP ${probe.status})`);
    const offer = decodePaymentRequiredHeader(header).accepts.find((a) => a.scheme === BATCH_SETTLEMENT_SCHEME);
    if (!offer) throw new PaymentRefusedError(`${String(url)} offers no batch-settlement channel`);
    const { payload, channelId } = await this.channels.refundPayload(offer, amount);
    const res = await this.baseFetch(url, {
      headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader({ x402Version: 2, accepted: offer, payload } as PaymentPayload) },
    });
    const settlement = settlementOf(res);
    if (!res.ok || !settlement?.success) {
      let reason = settlement?.errorReason;
      let message = settlement?.errorMessage;
      try {
        const body = (await res.json()) as { reason?: string; message?: string; error?: string };
        reason ??= body.reason ?? body.error;
        message ??= body.message;
      } catch {
        // not JSON
      }
      throw new PaymentRefusedError(`the refund was refused (HTTP ${res.status}${reason ? `, ${reason}` : ""})${message ? `: ${message}` : ""}`);
    }
    this.channels.refunded(channelId, settlement.extra as never);
    return { channelId, settlement };
  }

  /** The first requirement the controls allow, or a refusal that says which limit stopped it. */
  private choose(required: PaymentRequired, host: string): PaymentRequirements {
    const c = this.options.controls ?? {};
    // Signing would only hand the merchant an authorization it refuses (and could still settle until it expires).
    if (!this.options.mandate && mandateRequiredBy(required))
      throw new PaymentRefusedError(
        `not paying ${host}: it takes only payments under an AP2 mandate (its terms' extensions["${AP2_EXTENSION}"]${
          required.extensions?.[AP2_CHECKOUT_EXTENSION] !== undefined ? ", by checkout" : ""
        }), and this client pays under none`,
      );
    const reasons: string[] = [];
    // A mandate closes for one payment of a known amount: exact only.
    const preference = this.options.mandate ? ["exact"] : (this.options.schemes ?? (this.channels ? ["batch-settlement", "exact"] : ["exact"]));
    const offered = [...(required.accepts ?? [])].sort((a, b) => rank(a.scheme) - rank(b.scheme));
    function rank(scheme: string): number {
      const i = preference.indexOf(scheme as never);
      return i < 0 ? preference.length : i;
    }
    for (const r of offered) {
      if (!preference.includes(r.scheme as never)) {
        reasons.push(`scheme ${r.scheme} is not one this client pays with (${preference.join(", ")})`);
        continue;
      }
      if (r.scheme !== "exact" && !(r.scheme === BATCH_SETTLEMENT_SCHEME && this.channels)) {
        reasons.push(
          r.scheme === BATCH_SETTLEMENT_SCHEME ? "batch-settlement needs a channel deposit (channels.deposit)" : `scheme ${r.scheme} is not supported`,
        );
        continue;
      }
      if (chainIdOf(r.network) === undefined || (c.allowedNetworks && !c.allowedNetworks.includes(r.network))) {
        reasons.push(`network ${r.network} is not allowed`);
        continue;
      }
      if (c.allowedAssets && !c.allowedAssets.some((a) => a.network === r.network && a.asset.toLowerCase() === r.asset.toLowerCase())) {
        reasons.push(`asset ${r.asset} on ${r.network} is not allowed`);
        continue;
      }
      if (!/^\d+$/.test(r.amount) || !(r.extra as { name?: unknown })?.name || !(r.extra as { version?: unknown })?.version) {
        reasons.push("the requirements are malformed (amount or EIP-712 domain)");
        continue;
      }
      const over = this.overLimit(BigInt(r.amount), host);
      if (over) {
        reasons.push(over);
        continue;
      }
      return r;
    }
    throw new PaymentRefusedError(`not paying ${host}: ${reasons.join("; ") || "it offers no way to pay"}`);
  }
}

/** The server's PAYMENT-RESPONSE, decoded; undefined when absent or not valid. */
function settlementOf(res: Response): (SettleResponse & { extra?: Record<string, unknown> }) | undefined {
  const header = res.headers.get("PAYMENT-RESPONSE");
  if (!header) return undefined;
  try {
    return decodePaymentResponseHeader(header);
  } catch {
    return undefined;
  }
}
