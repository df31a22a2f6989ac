/**
 * The paywall's side of x402 `batch-settlement` (the reference server scheme's role, wire-compatible with its client):
 * announces channel offers, takes deposits through the facilitator, verifies vouchers locally and charges them in the
 * channel store before the request is served, and completes cooperative refunds. Claims run in ./claimer.ts.
 */
import { getAddress, Interface, type Provider, type Signer } from "ethers";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { describeIssues } from "../../errors";
import { BATCH_REASON, type BatchReason } from "../reasons";
import type { FacilitatorAsset } from "../facilitator";
import type { FacilitatorLike } from "../paywall";
import {
  BATCH_SETTLEMENT_ADDRESS,
  BATCH_SETTLEMENT_SCHEME,
  MIN_WITHDRAW_DELAY,
  normalizeConfig,
  signClaimBatch,
  signRefund,
  type ChannelConfig,
  type ChannelContract,
} from "./channel";
import { DepositPayloadSchema, RefundPayloadSchema, VoucherPayloadSchema, toClaimRow } from "./payloads";
import { checkChannelConfig, voucherSigned, type RuleFailure } from "./rules";
import { channelStateJson, readChannelState, type ChannelState } from "./state";
import type { ChannelStore, StoredChannel } from "./store";

const TOKEN = new Interface(["function isBlocklisted(address account) view returns (bool)"]);

export interface BatchServerOptions {
  store: ChannelStore;
  /** Deposits, claims, settles and refunds go on chain through it. */
  facilitator: FacilitatorLike;
  /** Reads channel state, ERC-1271 signatures, the blocklist and withdrawals. */
  provider: Provider;
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  /** The receiver of every channel (the routes' `payTo`). */
  payTo: string;
  /** Signs claim batches and refunds (the channels' receiver authorizer). */
  receiverAuthorizer: Signer;
  /** The channel contract (default the canonical address). */
  channels?: string;
  /** Seconds a payer must wait to withdraw without us (default 900, the minimum). */
  withdrawDelay?: number;
  /**
   * Channel state read from chain (balance, withdrawal, the payer's blocklist status) is trusted this long; a voucher
   * on older state reads it again first (default 15 s). Withdrawals are also watched as they happen (./claimer.ts).
   */
  stateTtlMs?: number;
}

/** What the paywall does with a batch-settlement payment. */
export type BatchOutcome =
  /**
   * Charged (durably): serve the request, with this settlement in PAYMENT-RESPONSE, then call
   * {@link BatchSettlementServer.served} once the response is out. `redelivery`: charged before, never answered
   * (the server died first): served now without a second charge.
   */
  | { kind: "paid"; settlement: SettleResponse; payer: string; amount: bigint; voucher: { channelId: string; ceiling: bigint }; redelivery: boolean }
  /** A cooperative refund went through: answer this body instead of the handler's. */
  | { kind: "refunded"; settlement: SettleResponse; body: { message: string; channelId: string } }
  /** Refused: 402 with this reason; `extra` joins the batch-settlement offer (the corrective state). */
  | { kind: "refused"; reason: string; message: string; extra?: Record<string, unknown>; settlement?: SettleResponse }
  /** The facilitator, chain or database could not be reached: nothing was charged. */
  | { kind: "unavailable"; message: string };

type Voucher = { channelId: string; maxClaimableAmount: string; signature: string };

/**
 * The server side of batch-settlement.
 *
 * A voucher is accepted when its ceiling was never served before, it is within the channel's balance, no withdrawal
 * is pending, the payer is not blocklisted, and the highest voucher held afterwards covers everything charged plus
 * this price (see {@link ChannelStore.charge}): the reference client's sequential vouchers (charged + price each) pass,
 * and so do an agent's parallel ones (distinct ceilings, any arrival order). Anything else is a 402 with the
 * reference reason; a count that is behind gets the corrective 402 (`channelState` and `voucherState` in the offer).
 *
 * @example
 * const server = await BatchSettlementServer.create({ store, facilitator, provider, network, asset, payTo, receiverAuthorizer });
 * const requirements = server.requirements(100n, 20_000n);
 */
export class BatchSettlementServer {
  readonly contract: ChannelContract;
  readonly withdrawDelay: number;
  readonly network: `eip155:${string}`;
  readonly payTo: string;
  private readonly ttl: number;
  private readonly refreshing = new Map<string, Promise<void>>();
  /** When each channel's state was last read from chain, as this process last saw it. */
  private readonly synced = new Map<string, number>();

  private constructor(
    readonly options: BatchServerOptions,
    readonly authorizerAddress: string,
    chainId: bigint,
  ) {
    this.contract = { address: getAddress(options.channels ?? BATCH_SETTLEMENT_ADDRESS), chainId };
    this.withdrawDelay = options.withdrawDelay ?? MIN_WITHDRAW_DELAY;
    this.network = options.network;
    this.payTo = getAddress(options.payTo);
    this.ttl = options.stateTtlMs ?? 15_000;
  }

  static async create(options: BatchServerOptions): Promise<BatchSettlementServer> {
    const authorizer = getAddress(await options.receiverAuthorizer.getAddress());
    const chainId = BigInt(options.network.slice("eip155:".length));
    return new BatchSettlementServer(options, authorizer, chainId);
  }

  get store(): ChannelStore {
    return this.options.store;
  }

  /** The offer of a route priced `amount` (base units), with the minimum deposit it accepts. */
  requirements(amount: bigint, minDeposit: bigint, maxTimeoutSeconds = 60): PaymentRequirements {
    return {
      scheme: BATCH_SETTLEMENT_SCHEME,
      network: this.network,
      asset: getAddress(this.options.asset.address),
      amount: amount.toString(),
      payTo: this.payTo,
      maxTimeoutSeconds,
      extra: {
        name: this.options.asset.name,
        version: this.options.asset.version,
        receiverAuthorizer: this.authorizerAddress,
        withdrawDelay: this.withdrawDelay,
        minDeposit: (minDeposit > amount ? minDeposit : amount).toString(),
      },
    };
  }

  /** Handles a payment whose `accepted` is this route's batch-settlement offer. */
  async handle(payment: PaymentPayload, requirements: PaymentRequirements, route: string): Promise<BatchOutcome> {
    const type = (payment.payload as { type?: unknown })?.type;
    try {
      if (type === "voucher") {
        const parsed = VoucherPayloadSchema.safeParse(payment.payload);
        if (!parsed.success) return refused(BATCH_REASON.voucherPayload, `payload: ${describeIssues(parsed.error)}`);
        return await this.voucher(normalizeConfig(parsed.data.channelConfig), parsed.data.voucher, requirements, route);
      }
      if (type === "deposit") {
        const parsed = DepositPayloadSchema.safeParse(payment.payload);
        if (!parsed.success) return refused(BATCH_REASON.depositPayload, `payload: ${describeIssues(parsed.error)}`);
        return await this.deposit(
          payment,
          normalizeConfig(parsed.data.channelConfig),
          parsed.data.voucher,
          BigInt(parsed.data.deposit.amount),
          requirements,
          route,
        );
      }
      if (type === "refund") {
        const parsed = RefundPayloadSchema.safeParse(payment.payload);
        if (!parsed.success) return refused(BATCH_REASON.refundPayload, `payload: ${describeIssues(parsed.error)}`);
        return await this.refund(payment, normalizeConfig(parsed.data.channelConfig), parsed.data.voucher, parsed.data.amount, requirements);
      }
      return refused(BATCH_REASON.payloadType, `payload type ${JSON.stringify(type)} cannot pay for a request (deposit, voucher or refund can)`);
    } catch (error) {
      return { kind: "unavailable", message: `the channel state could not be read or written: ${(error as Error).message.split("\n")[0]}` };
    }
  }

  /** Records that a paid request's response was handed to the network: presenting its voucher again is a replay. */
  served(outcome: Extract<BatchOutcome, { kind: "paid" }>): void {
    if (!outcome.redelivery) this.store.markServed(outcome.voucher.channelId, outcome.voucher.ceiling);
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Config, then signature: the checks that need no state. */
  private async check(config: ChannelConfig, voucher: Voucher, requirements: PaymentRequirements): Promise<RuleFailure | undefined> {
    const bad = checkChannelConfig(this.contract, config, voucher.channelId, requirements);
    if (bad) return bad;
    if (!(await voucherSigned(this.options.provider, this.contract, config, voucher))) {
      return { reason: BATCH_REASON.voucherSignature, message: "the voucher is not signed by the channel's payer authorizer (or the payer)" };
    }
    return undefined;
  }

  /** One background re-read per channel at a time. */
  private refreshSoon(config: ChannelConfig, id: string): void {
    if (this.refreshing.has(id)) return;
    const done = this.refresh(config, id)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(id));
    this.refreshing.set(id, done);
  }

  /** Reads the channel from chain (state and the payer's blocklist status) and records it. */
  private async refresh(config: ChannelConfig, id: string): Promise<StoredChannel> {
    const [state, blocked] = await Promise.all([
      readChannelState(this.options.provider, this.contract.address, id),
      this.options.provider.call({ to: config.token, data: TOKEN.encodeFunctionData("isBlocklisted", [config.payer]) }).then(
        (r) => BigInt(r) !== 0n,
        () => false, // a token without a blocklist
      ),
    ]);
    const channel = await this.store.sync(this.network, config, state, blocked);
    if (this.synced.size > 100_000) this.synced.clear();
    this.synced.set(id, channel.syncedAt.getTime());
    return channel;
  }

  private async voucher(config: ChannelConfig, voucher: Voucher, requirements: PaymentRequirements, route: string): Promise<BatchOutcome> {
    const bad = await this.check(config, voucher, requirements);
    if (bad) return refused(bad.reason, bad.message);
    return this.charge(config, voucher, BigInt(requirements.amount), route, requirements, "", true);
  }

  /**
   * Charges a voucher (one statement). With `mayRead`: a channel unknown here (opened through another server, or
   * before a database was lost) or short of a top-up made elsewhere is read from chain and charged again; a channel
   * whose state is older than the TTL is re-read in the background (balance, withdrawal, blocklist).
   */
  private async charge(
    config: ChannelConfig,
    voucher: Voucher,
    price: bigint,
    route: string,
    requirements: PaymentRequirements,
    transaction = "",
    mayRead = false,
  ): Promise<BatchOutcome> {
    const id = voucher.channelId.toLowerCase();
    const attempt = () => this.store.charge({ channelId: id, ceiling: BigInt(voucher.maxClaimableAmount), signature: voucher.signature, price, route });
    // State older than the TTL is read again first (balance, withdrawal, blocklist). Known from this process's last
    // charge, so the common case costs no extra query; a channel first seen since start is re-read just after.
    const syncedAt = this.synced.get(id);
    if (mayRead && syncedAt !== undefined && Date.now() - syncedAt > this.ttl) await this.refresh(config, id);
    let outcome = await attempt();
    if (outcome.ok) this.synced.set(id, outcome.channel.syncedAt.getTime());
    if (mayRead && !outcome.ok && (outcome.refusal === "unknown" || outcome.refusal === "exceeds-balance")) {
      const channel = await this.refresh(config, id);
      if (channel.balance === 0n) return refused(BATCH_REASON.channelNotFound, `channel ${id} holds nothing: open it with a deposit`);
      outcome = await attempt();
    } else if (mayRead && outcome.ok && Date.now() - outcome.channel.syncedAt.getTime() > this.ttl) {
      this.refreshSoon(config, id);
    }
    if (outcome.ok) {
      const c = outcome.channel;
      return {
        kind: "paid",
        payer: config.payer,
        amount: price,
        voucher: { channelId: voucher.channelId.toLowerCase(), ceiling: BigInt(voucher.maxClaimableAmount) },
        redelivery: outcome.redelivery === true,
        settlement: {
          success: true,
          payer: config.payer,
          transaction,
          network: requirements.network,
          amount: "",
          extra: { channelState: stateExtra(c), chargedAmount: price.toString() },
        } as SettleResponse,
      };
    }
    const c = outcome.channel;
    switch (outcome.refusal) {
      case "unknown":
        return refused(BATCH_REASON.missingChannel, `channel ${voucher.channelId} is not known: open it with a deposit`);
      case "withdrawing":
        return refused(
          BATCH_REASON.withdrawalPending,
          `the payer started a withdrawal from channel ${voucher.channelId} at ${c!.withdrawRequestedAt}; no voucher is accepted on it`,
        );
      case "blocklisted":
        return refused(BATCH_REASON.payerBlocklisted, `the channel's payer ${config.payer} is blocklisted by the token`);
      case "exceeds-balance":
        return refused(
          BATCH_REASON.cumulativeExceedsBalance,
          `the voucher's ceiling ${voucher.maxClaimableAmount} is above the channel's balance ${c!.balance}: top it up with a deposit`,
        );
      case "replayed":
      case "mismatch":
        return {
          kind: "refused",
          reason: BATCH_REASON.cumulativeAmountMismatch,
          message:
            outcome.refusal === "replayed"
              ? `this voucher (ceiling ${voucher.maxClaimableAmount}) was already used for a request`
              : `the voucher's ceiling ${voucher.maxClaimableAmount} does not cover the ${c!.charged} already charged plus the price ${price}`,
          extra: corrective(c!),
        };
    }
  }

  private async deposit(
    payment: PaymentPayload,
    config: ChannelConfig,
    voucher: Voucher,
    amount: bigint,
    requirements: PaymentRequirements,
    route: string,
  ): Promise<BatchOutcome> {
    const bad = await this.check(config, voucher, requirements);
    if (bad) return refused(bad.reason, bad.message);
    const minDeposit = BigInt(String((requirements.extra as { minDeposit?: string }).minDeposit ?? requirements.amount));
    const id = voucher.channelId.toLowerCase();
    const known = await this.store.get(id);
    // A top-up of a known channel is not held to the minimum; a first deposit is.
    if (!known?.balance && amount < minDeposit)
      return refused(BATCH_REASON.depositBelowMinDeposit, `a first deposit of ${amount} is below this route's minimum ${minDeposit}`);
    const price = BigInt(requirements.amount);
    const ceiling = BigInt(voucher.maxClaimableAmount);
    // This deposit went through before and its answer was lost (the process died): serve it, deposit nothing more.
    const before = known ? await this.store.voucher(id, ceiling) : undefined;
    if (before?.signature === voucher.signature) return this.charge(config, voucher, price, route, requirements);
    const charged = known?.charged ?? 0n;
    if (charged + price > (known && known.signedMax > ceiling ? known.signedMax : ceiling)) {
      return {
        kind: "refused",
        reason: BATCH_REASON.cumulativeAmountMismatch,
        message: `the voucher's ceiling ${ceiling} does not cover the ${charged} already charged plus the price ${price}`,
        extra: known ? corrective(known) : undefined,
      };
    }
    let settlement: SettleResponse;
    try {
      // No separate verify: settle verifies, and it is idempotent (the same deposit presented again, before or after
      // a restart of either side, answers the transaction that made it, where a verify would call it used).
      settlement = await this.options.facilitator.settle(payment, requirements);
    } catch (error) {
      return { kind: "unavailable", message: `the facilitator could not be reached: ${(error as Error).message.split("\n")[0]}` };
    }
    if (!settlement.success)
      return {
        kind: "refused",
        reason: settlement.errorReason ?? BATCH_REASON.depositTransactionFailed,
        message: settlement.errorMessage ?? "the deposit failed",
        settlement,
      };
    const state = channelStateOf(settlement, id);
    if (state) await this.store.sync(this.network, config, state);
    else await this.refresh(config, id);
    return this.charge(config, voucher, price, route, requirements, settlement.transaction);
  }

  private async refund(
    payment: PaymentPayload,
    config: ChannelConfig,
    voucher: Voucher,
    requested: string | undefined,
    requirements: PaymentRequirements,
  ): Promise<BatchOutcome> {
    const bad = await this.check(config, voucher, requirements);
    if (bad) return refused(bad.reason, bad.message);
    const id = voucher.channelId.toLowerCase();
    await this.refresh(config, id);
    const held = await this.store.holdForRefund(id);
    if (!held) return refused(BATCH_REASON.missingChannel, `channel ${id} is not known here`);
    const restore = () => this.refresh(config, id);
    const remainder = held.balance - held.charged;
    if (remainder <= 0n) {
      await restore();
      return refused(BATCH_REASON.refundNoBalance, `channel ${id} has nothing left to refund (balance ${held.balance}, charged ${held.charged})`);
    }
    const amount = requested === undefined ? remainder : BigInt(requested);
    if (amount === 0n || amount > remainder) {
      await restore();
      return refused(BATCH_REASON.refundAmountInvalid, `a refund of ${amount} is not between 1 and the ${remainder} unspent`);
    }
    const claims =
      held.charged > held.totalClaimed
        ? [{ channel: held.config, maxClaimableAmount: held.signedMax, signature: held.signature, totalClaimed: held.charged }]
        : [];
    const authorizer = this.options.receiverAuthorizer;
    const enriched = {
      ...(payment.payload as Record<string, unknown>),
      amount: amount.toString(),
      refundNonce: held.refundNonce.toString(),
      claims: claims.map(toClaimRow),
      refundAuthorizerSignature: await signRefund(authorizer, this.contract, id, held.refundNonce, amount),
      ...(claims.length > 0 ? { claimAuthorizerSignature: await signClaimBatch(authorizer, this.contract, claims) } : {}),
    };
    let settlement: SettleResponse;
    try {
      settlement = await this.options.facilitator.settle({ ...payment, payload: enriched }, requirements);
    } catch (error) {
      await restore().catch(() => undefined);
      return { kind: "unavailable", message: `the facilitator could not be reached: ${(error as Error).message.split("\n")[0]}` };
    }
    const after = await restore();
    if (!settlement.success)
      return {
        kind: "refused",
        reason: settlement.errorReason ?? BATCH_REASON.refundTransactionFailed,
        message: settlement.errorMessage ?? "the refund failed",
        settlement,
      };
    if (claims.length > 0) await this.store.markClaimed([{ channelId: id, totalClaimed: held.charged }]);
    return {
      kind: "refunded",
      body: { message: "Refund acknowledged", channelId: id },
      settlement: {
        ...settlement,
        extra: { ...(settlement.extra ?? {}), channelState: { ...stateExtra(after), chargedCumulativeAmount: held.charged.toString() } },
      } as SettleResponse,
    };
  }
}

function refused(reason: BatchReason | string, message: string): BatchOutcome {
  return { kind: "refused", reason, message };
}

/** A channel's state as the reference server reports it (PAYMENT-RESPONSE `extra.channelState`). */
function stateExtra(c: StoredChannel) {
  return { ...channelStateJson(c), chargedCumulativeAmount: c.charged.toString() };
}

/** The corrective 402's additions to the offer: the server's count and the voucher it holds, so the client can resync. */
function corrective(c: StoredChannel): Record<string, unknown> {
  return { channelState: stateExtra(c), voucherState: { signedMaxClaimable: c.signedMax.toString(), signature: c.signature } };
}

/** The channel state a facilitator's settlement reports (`extra.channelState`, or `extra` itself), if it does. */
function channelStateOf(s: SettleResponse, id: string): ChannelState | undefined {
  const extra = (s.extra ?? {}) as Record<string, unknown>;
  const cs = (extra.channelState ?? extra) as Record<string, unknown>;
  if (typeof cs.balance !== "string" || !/^\d+$/.test(cs.balance)) return undefined;
  const num = (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? BigInt(v) : typeof v === "number" ? BigInt(v) : 0n);
  return {
    channelId: id,
    balance: BigInt(cs.balance),
    totalClaimed: num(cs.totalClaimed),
    withdrawRequestedAt: Number(num(cs.withdrawRequestedAt)),
    withdrawAmount: 0n,
    refundNonce: num(cs.refundNonce),
  };
}
