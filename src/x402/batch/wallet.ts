/**
 * The payer's side of x402 `batch-settlement`: one channel per (server offer: receiver, token, receiver authorizer,
 * withdraw delay), opened with a deposit the caller sizes, then a voucher per call. Ceilings are handed out in order
 * before anything is awaited, so parallel calls on one channel carry distinct ceilings (base + p, base + 2p, …) and the
 * server may serve them in any order. The state (what the server has charged, the highest ceiling signed, the
 * balance) is kept in memory and, given a directory, in one JSON file per channel, written atomically.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZeroHash, getAddress, type Signer } from "ethers";
import type { PaymentRequirements } from "@x402/core/types";
import { z } from "zod";
import { describeIssues } from "../../errors";
import {
  BATCH_SETTLEMENT_ADDRESS,
  ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  MIN_WITHDRAW_DELAY,
  channelId,
  fastVoucherDigest,
  normalizeConfig,
  type ChannelConfig,
  type ChannelContract,
} from "./channel";
import { recoverSigner } from "./rules";
import { createDepositPayload, createVoucherPayload } from "./wire";
import { readChannelState } from "./state";
import type { DepositPayload, RefundPayload, VoucherPayload } from "./payloads";

/** What the payer remembers of a channel. */
export interface ChannelRecord {
  channelId: string;
  network: string;
  config: ChannelConfig;
  /** Deposited, as far as this client knows (balance on chain). */
  balance: bigint;
  /** What the server reported as charged in total. */
  charged: bigint;
  /** The highest ceiling this client signed. */
  signed: bigint;
  updatedAt: string;
  /** The server said the channel holds too little: the next call deposits (in memory only). */
  topUp?: boolean;
}

const RecordSchema = z.object({
  channelId: z.string().regex(/^0x[0-9a-f]{64}$/),
  network: z.string(),
  config: z.object({
    payer: z.string(),
    payerAuthorizer: z.string(),
    receiver: z.string(),
    receiverAuthorizer: z.string(),
    token: z.string(),
    withdrawDelay: z.number(),
    salt: z.string(),
  }),
  balance: z.string().regex(/^\d+$/),
  charged: z.string().regex(/^\d+$/),
  signed: z.string().regex(/^\d+$/),
  updatedAt: z.string(),
});

export interface ChannelWalletOptions {
  /** Signs deposits (EIP-3009) and vouchers; the channel's payer and payer authorizer. */
  signer: Signer;
  /** A first deposit (and each top-up), base units. The offer's `minDeposit` is used when larger. */
  deposit: bigint;
  /** Keep channel state here (one JSON file per channel); memory only when absent. */
  stateDir?: string;
  /** The channel salt (default zero: the same channel for the same offer, found again from chain). */
  salt?: string;
  /** The channel contract and collector (default the canonical addresses). */
  channels?: { address: string; collector: string };
}

/** A payment payload to send, and what to do with the server's answer. */
export interface ChannelPayment {
  payload: DepositPayload | VoucherPayload;
  channelId: string;
  ceiling: bigint;
  /** A deposit of this much is part of the payment. */
  deposit?: bigint;
  /** The highest ceiling signed before this payment's. */
  previous?: bigint;
}

/**
 * @example
 * const wallet = new ChannelWallet({ signer, deposit: 20_000n, stateDir: ".netd/channels" });
 * const payment = await wallet.pay(offer);            // a deposit the first time, a voucher after
 * wallet.onPaid(payment, settlement);                  // after a 200 with PAYMENT-RESPONSE
 */
export class ChannelWallet {
  private readonly records = new Map<string, ChannelRecord>();
  /** A deposit in flight per channel: other calls wait for it. */
  private readonly opening = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private payerAddress?: string;

  constructor(private readonly options: ChannelWalletOptions) {
    if (options.deposit <= 0n) throw new Error("a channel deposit must be more than zero");
  }

  private async payer(): Promise<string> {
    this.payerAddress ??= getAddress(await this.options.signer.getAddress());
    return this.payerAddress;
  }

  private contractOf(offer: PaymentRequirements): ChannelContract {
    return { address: this.options.channels?.address ?? BATCH_SETTLEMENT_ADDRESS, chainId: BigInt(offer.network.split(":")[1]) };
  }

  /** The channel config an offer implies for this payer. */
  async configFor(offer: PaymentRequirements): Promise<ChannelConfig> {
    const extra = (offer.extra ?? {}) as { receiverAuthorizer?: unknown; withdrawDelay?: unknown };
    if (typeof extra.receiverAuthorizer !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(extra.receiverAuthorizer) || BigInt(extra.receiverAuthorizer) === 0n) {
      throw new Error("the batch-settlement offer names no receiver authorizer (extra.receiverAuthorizer)");
    }
    const payer = await this.payer();
    return normalizeConfig({
      payer,
      payerAuthorizer: payer,
      receiver: offer.payTo,
      receiverAuthorizer: extra.receiverAuthorizer,
      token: offer.asset,
      withdrawDelay: typeof extra.withdrawDelay === "number" ? extra.withdrawDelay : MIN_WITHDRAW_DELAY,
      salt: this.options.salt ?? ZeroHash,
    });
  }

  /** The record of the channel an offer pays into, if this client has one. */
  async channelFor(offer: PaymentRequirements): Promise<ChannelRecord | undefined> {
    const config = await this.configFor(offer);
    return this.load(channelId(this.contractOf(offer), config), offer.network, config);
  }

  /**
   * The payment for one call priced by `offer`: a voucher for the next ceiling when the channel holds enough, else a
   * deposit (the first, or a top-up) with that voucher. Parallel calls wait for one deposit, then take their ceilings.
   */
  async pay(offer: PaymentRequirements): Promise<ChannelPayment> {
    const config = await this.configFor(offer);
    const contract = this.contractOf(offer);
    const id = channelId(contract, config);
    const price = BigInt(offer.amount);
    for (;;) {
      const pending = this.opening.get(id);
      if (pending) {
        await pending.done;
        continue;
      }
      const record = this.load(id, offer.network, config) ?? (await this.recover(id, offer.network, config));
      if (this.opening.has(id)) continue;
      if (record && !record.topUp && record.balance > 0n && record.signed + price <= record.balance) {
        // Synchronous up to here: the ceiling is this call's alone.
        const ceiling = record.signed + price;
        record.signed = ceiling;
        this.save(record);
        return { payload: await createVoucherPayload(this.options.signer, contract, config, ceiling), channelId: id, ceiling };
      }
      // A deposit: only one at a time per channel; the others wait for it, then pay by voucher.
      const base = record?.signed ?? 0n;
      const minDeposit = BigInt(String((offer.extra as { minDeposit?: unknown })?.minDeposit ?? "0").replace(/\D/g, "") || "0");
      const needed = base + price - (record?.balance ?? 0n);
      let amount = this.options.deposit > minDeposit ? this.options.deposit : minDeposit;
      if (amount < needed) amount = needed;
      const ceiling = base + price;
      const fresh: ChannelRecord = record ?? { channelId: id, network: offer.network, config, balance: 0n, charged: 0n, signed: 0n, updatedAt: "" };
      fresh.signed = ceiling;
      this.records.set(id, fresh);
      this.save(fresh);
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.opening.set(id, { done, resolve });
      const validBefore = BigInt(Math.floor(Date.now() / 1000) + Math.max(offer.maxTimeoutSeconds, 60));
      try {
        const payload = await createDepositPayload({
          payer: this.options.signer,
          contract,
          collector: this.options.channels?.collector ?? ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
          token: {
            name: String((offer.extra as { name?: unknown }).name),
            version: String((offer.extra as { version?: unknown }).version),
            chainId: contract.chainId,
            verifyingContract: getAddress(offer.asset),
          },
          config,
          amount,
          maxClaimableAmount: ceiling,
          validBefore,
        });
        return { payload, channelId: id, ceiling, deposit: amount, previous: base };
      } catch (error) {
        this.failed({ payload: undefined as never, channelId: id, ceiling, deposit: amount, previous: base });
        throw error;
      }
    }
  }

  /**
   * A channel this client has no state for, found on chain (same offer, same salt): its balance, and what was claimed
   * as a first guess at what was charged (the server's corrective 402 gives the rest).
   */
  private async recover(id: string, network: string, config: ChannelConfig): Promise<ChannelRecord | undefined> {
    const provider = this.options.signer.provider;
    if (!provider) return undefined;
    const state = await readChannelState(provider, this.options.channels?.address ?? BATCH_SETTLEMENT_ADDRESS, id).catch(() => undefined);
    if (!state || state.balance === 0n || this.records.has(id)) return this.records.get(id);
    const record: ChannelRecord = {
      channelId: id,
      network,
      config,
      balance: state.balance,
      charged: state.totalClaimed,
      signed: state.totalClaimed,
      updatedAt: "",
    };
    this.records.set(id, record);
    this.save(record);
    return record;
  }

  /** After a paid answer (PAYMENT-RESPONSE success): take the server's charged total and balance. */
  settled(payment: ChannelPayment, extra: { channelState?: { chargedCumulativeAmount?: unknown; balance?: unknown } } | undefined): void {
    const record = this.records.get(payment.channelId);
    if (!record) return;
    const state = extra?.channelState ?? {};
    if (typeof state.chargedCumulativeAmount === "string" && /^\d+$/.test(state.chargedCumulativeAmount)) {
      const charged = BigInt(state.chargedCumulativeAmount);
      if (charged > record.charged) record.charged = charged;
    }
    if (typeof state.balance === "string" && /^\d+$/.test(state.balance)) record.balance = BigInt(state.balance);
    else if (payment.deposit) record.balance += payment.deposit;
    if (payment.deposit !== undefined) record.topUp = false;
    this.save(record);
    this.finishDeposit(payment);
  }

  /**
   * After a refused or failed payment. A refused deposit's ceiling is given back (nothing was charged under it; if
   * it was, the next voucher gets the corrective 402 and resyncs). `exceedsBalance`: the server sees less money in
   * the channel than this client thought, so the next call tops up.
   */
  failed(payment: ChannelPayment, exceedsBalance = false): void {
    const record = this.records.get(payment.channelId);
    if (record && payment.deposit !== undefined && payment.previous !== undefined && record.signed === payment.ceiling) record.signed = payment.previous;
    if (record && exceedsBalance) record.topUp = true;
    if (record) this.save(record);
    this.finishDeposit(payment);
  }

  /**
   * After the corrective 402 (`cumulative_amount_mismatch`): adopt the server's count, so the next voucher is the one
   * it expects (the reference server takes exactly charged + price).
   */
  resync(payment: ChannelPayment, offer: PaymentRequirements): boolean {
    const record = this.records.get(payment.channelId);
    const extra = (offer.extra ?? {}) as { channelState?: Record<string, unknown>; voucherState?: Record<string, unknown> };
    const charged = extra.channelState?.chargedCumulativeAmount;
    if (!record || typeof charged !== "string" || !/^\d+$/.test(charged)) return false;
    record.charged = BigInt(charged);
    if (typeof extra.channelState?.balance === "string" && /^\d+$/.test(extra.channelState.balance)) record.balance = BigInt(extra.channelState.balance);
    // Go on from the server's count: its highest voucher when it carries our signature, else what it charged. (Any
    // higher ceiling we signed and it refused is simply signed again: exposure stays bounded by the highest.)
    const signedMax = extra.voucherState?.signedMaxClaimable;
    const signature = extra.voucherState?.signature;
    let base = record.charged;
    if (typeof signedMax === "string" && /^\d+$/.test(signedMax) && typeof signature === "string" && BigInt(signedMax) > base) {
      const ours = recoverSigner(fastVoucherDigest(this.contractOf(offer), payment.channelId, BigInt(signedMax)), signature) === record.config.payerAuthorizer;
      if (ours) base = BigInt(signedMax);
    }
    record.signed = base;
    this.save(record);
    this.finishDeposit(payment);
    return true;
  }

  /**
   * A cooperative refund request for the channel an offer pays into: a voucher for what this client has signed (the
   * server claims what it charged, then returns the rest in the same transaction); `amount` to take back only part.
   */
  async refundPayload(offer: PaymentRequirements, amount?: bigint): Promise<{ payload: RefundPayload; channelId: string }> {
    const config = await this.configFor(offer);
    const contract = this.contractOf(offer);
    const id = channelId(contract, config);
    const record = this.load(id, offer.network, config) ?? (await this.recover(id, offer.network, config));
    if (!record) throw new Error(`there is no channel with ${getAddress(offer.payTo)} for this offer (channel ${id})`);
    const ceiling = record.signed > record.charged ? record.signed : record.charged;
    const voucher = await createVoucherPayload(this.options.signer, contract, config, ceiling);
    return { payload: { ...voucher, type: "refund", ...(amount !== undefined ? { amount: amount.toString() } : {}) }, channelId: id };
  }

  /** After a refund went through: the channel holds what was charged (or less, when a part was taken back). */
  refunded(id: string, extra: { channelState?: { balance?: unknown; chargedCumulativeAmount?: unknown } } | undefined): void {
    const record = this.records.get(id);
    if (!record) return;
    const s = extra?.channelState ?? {};
    if (typeof s.balance === "string" && /^\d+$/.test(s.balance)) record.balance = BigInt(s.balance);
    if (typeof s.chargedCumulativeAmount === "string" && /^\d+$/.test(s.chargedCumulativeAmount)) record.charged = BigInt(s.chargedCumulativeAmount);
    record.signed = record.charged;
    this.save(record);
  }

  /** Every channel this client knows: the state files in `stateDir`, or those in memory without one. */
  stored(): ChannelRecord[] {
    const dir = this.options.stateDir;
    if (!dir) return [...this.records.values()];
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /^0x[0-9a-f]{64}\.json$/.test(f));
    } catch {
      return [];
    }
    return files.map((f) => {
      const id = f.slice(0, -5);
      const raw = JSON.parse(readFileSync(join(dir, f), "utf8")) as { network?: string; config?: ChannelConfig };
      return this.load(id, String(raw.network), normalizeConfig(raw.config!))!;
    });
  }

  private finishDeposit(payment: ChannelPayment): void {
    if (payment.deposit === undefined) return;
    const pending = this.opening.get(payment.channelId);
    this.opening.delete(payment.channelId);
    pending?.resolve();
  }

  private file(id: string): string | undefined {
    return this.options.stateDir ? join(this.options.stateDir, `${id}.json`) : undefined;
  }

  private load(id: string, network: string, config: ChannelConfig): ChannelRecord | undefined {
    const known = this.records.get(id);
    if (known) return known;
    const file = this.file(id);
    if (!file) return undefined;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    const parsed = RecordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`the channel state ${file} is not valid: ${describeIssues(parsed.error)}`);
    const r = parsed.data;
    const record: ChannelRecord = {
      channelId: r.channelId,
      network,
      config,
      balance: BigInt(r.balance),
      charged: BigInt(r.charged),
      signed: BigInt(r.signed),
      updatedAt: r.updatedAt,
    };
    this.records.set(id, record);
    return record;
  }

  private save(record: ChannelRecord): void {
    record.updatedAt = new Date().toISOString();
    const file = this.file(record.channelId);
    if (!file) return;
    mkdirSync(this.options.stateDir!, { recursive: true });
    const { topUp: _inMemory, ...kept } = record;
    void _inMemory;
    const json = JSON.stringify({ ...kept, balance: record.balance.toString(), charged: record.charged.toString(), signed: record.signed.toString() }, null, 2);
    writeFileSync(`${file}.tmp`, `${json}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
