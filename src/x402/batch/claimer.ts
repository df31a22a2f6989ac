/**
 * Claims what a paywall charged on its channels, in `claimWithSignature` batches through the facilitator, then settles
 * the receiver: on an interval, as soon as the unclaimed value reaches a threshold, and at once when a payer starts a
 * timed withdrawal (watched through `WithdrawInitiated`), long before the withdrawal can finalize. Processes sharing
 * one database take turns through a lease, so one batch is in flight at a time.
 */
import { randomUUID } from "node:crypto";
import { getAddress } from "ethers";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { BatchSettlement__factory } from "../../../typechain-types";
import { BATCH_REASON } from "../reasons";
import { signClaimBatch, type VoucherClaim } from "./channel";
import { toClaimRow } from "./payloads";
import type { BatchSettlementServer } from "./server";

const CHANNELS = BatchSettlement__factory.createInterface();
const WITHDRAW_INITIATED = CHANNELS.getEvent("WithdrawInitiated").topicHash;

export interface ClaimerOptions {
  /** Claim at least this often while anything is unclaimed (ms; default 60 s). */
  intervalMs?: number;
  /** Claim as soon as this much (base units) is charged and unclaimed (default: only on the interval). */
  threshold?: bigint;
  /** How often to look for withdrawals and the threshold (ms; default 2 s). */
  pollMs?: number;
  /** Channels per claim transaction (default 100). */
  batchSize?: number;
  /** Settle the receiver after claiming (default true). */
  settle?: boolean;
  /** Called after every claim or settle transaction, and on failures. */
  onEvent?: (event: ClaimerEvent) => void;
}

export type ClaimerEvent =
  | { kind: "claimed"; transaction: string; channels: number; amount: bigint }
  | { kind: "settled"; transaction: string; amount: bigint }
  | { kind: "withdrawal"; channelId: string; initiatedAt: number }
  | { kind: "failed"; what: "claim" | "settle" | "watch"; reason: string; message: string };

export interface ClaimReport {
  claims: { transaction: string; channels: number; amount: bigint }[];
  settle?: { transaction: string; amount: bigint };
}

/**
 * @example
 * const claimer = new ChannelClaimer(server, { intervalMs: 60_000, threshold: 1_000_000n });
 * claimer.start();
 * // … on shutdown:
 * await claimer.stop();
 */
export class ChannelClaimer {
  private readonly holder = randomUUID();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private lastClaimAt = Date.now();
  private lastBlock?: number;
  private stopped = false;

  constructor(
    private readonly server: BatchSettlementServer,
    private readonly options: ClaimerOptions = {},
  ) {}

  /** Starts polling (withdrawals, threshold, interval). */
  start(): void {
    this.stopped = false;
    const poll = this.options.pollMs ?? 2_000;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((error) => this.emit({ kind: "failed", what: "watch", reason: BATCH_REASON.rpcReadFailed, message: (error as Error).message.split("\n")[0] }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, poll);
        });
    };
    this.timer = setTimeout(tick, poll);
  }

  /** Stops polling and waits for a claim in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.server.store.release("claims", this.holder).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const withdrawals = await this.watchWithdrawals();
    const { amount } = await this.server.store.unclaimedTotal(this.server.network, this.server.payTo, this.server.options.asset.address);
    if (amount === 0n) return;
    const due = Date.now() - this.lastClaimAt >= (this.options.intervalMs ?? 60_000);
    const over = this.options.threshold !== undefined && amount >= this.options.threshold;
    if (withdrawals > 0 || due || over) await this.claimAndSettle();
  }

  /**
   * Records payers' withdrawals started since the last look (their channels then take no vouchers and are claimed
   * first); returns how many of our channels are affected.
   */
  async watchWithdrawals(): Promise<number> {
    const provider = this.server.options.provider;
    const latest = await provider.getBlockNumber();
    const from = this.lastBlock === undefined ? Math.max(0, latest - 1_000) : this.lastBlock + 1;
    if (from > latest) return 0;
    const logs = await provider.getLogs({ address: this.server.contract.address, topics: [WITHDRAW_INITIATED], fromBlock: from, toBlock: latest });
    this.lastBlock = latest;
    let ours = 0;
    for (const log of logs) {
      const event = CHANNELS.parseLog(log);
      if (!event) continue;
      const channelId = String(event.args.channelId).toLowerCase();
      const block = await provider.getBlock(log.blockNumber);
      const initiatedAt = block?.timestamp ?? Math.floor(Date.now() / 1000);
      if (await this.server.store.markWithdrawal(channelId, initiatedAt)) {
        ours++;
        this.emit({ kind: "withdrawal", channelId, initiatedAt });
      }
    }
    return ours;
  }

  /**
   * Claims everything charged and unclaimed (batches of `batchSize`), then settles the receiver. Returns what was sent;
   * does nothing while another process holds the claim lease.
   */
  async claimAndSettle(): Promise<ClaimReport> {
    const report: ClaimReport = { claims: [] };
    const store = this.server.store;
    if (!(await store.lease("claims", this.holder, 120_000))) return report;
    try {
      const { network, payTo } = this.server;
      const token = getAddress(this.server.options.asset.address);
      for (;;) {
        const rows = await store.unclaimed(network, payTo, token, this.options.batchSize ?? 100);
        if (rows.length === 0) break;
        const claims: VoucherClaim[] = rows.map((r) => ({
          channel: r.config,
          maxClaimableAmount: r.signedMax,
          signature: r.signature,
          totalClaimed: r.charged,
        }));
        const amount = rows.reduce((sum, r) => sum + (r.charged - r.totalClaimed), 0n);
        const signature = await signClaimBatch(this.server.options.receiverAuthorizer, this.server.contract, claims);
        const payload = {
          type: "claim",
          claims: claims.map(toClaimRow),
          claimAuthorizerSignature: signature,
        };
        const result = await this.send(payload);
        if (!result.success) {
          await store.recordClaim(network, {
            transaction: result.transaction ?? "",
            channels: rows.length,
            amount,
            status: "failed",
            error: `${result.errorReason}: ${result.errorMessage ?? ""}`,
          });
          this.emit({ kind: "failed", what: "claim", reason: result.errorReason ?? "", message: result.errorMessage ?? "" });
          break;
        }
        await store.markClaimed(rows.map((r) => ({ channelId: r.channelId, totalClaimed: r.charged })));
        await store.recordClaim(network, { transaction: result.transaction, channels: rows.length, amount, status: "confirmed" });
        report.claims.push({ transaction: result.transaction, channels: rows.length, amount });
        this.emit({ kind: "claimed", transaction: result.transaction, channels: rows.length, amount });
      }
      this.lastClaimAt = Date.now();
      if (this.options.settle !== false) {
        const result = await this.send({ type: "settle", receiver: payTo, token });
        if (result.success) {
          const amount = BigInt((result as { amount?: string }).amount || "0");
          report.settle = { transaction: result.transaction, amount };
          this.emit({ kind: "settled", transaction: result.transaction, amount });
        } else if (result.errorReason !== BATCH_REASON.nothingToSettle) {
          this.emit({ kind: "failed", what: "settle", reason: result.errorReason ?? "", message: result.errorMessage ?? "" });
        }
      }
      return report;
    } finally {
      await store.release("claims", this.holder).catch(() => undefined);
    }
  }

  /** One claim or settle request to the facilitator (the reference channel manager's envelope). */
  private async send(payload: Record<string, unknown>): Promise<SettleResponse> {
    const requirements: PaymentRequirements = {
      scheme: "batch-settlement",
      network: this.server.network,
      asset: getAddress(this.server.options.asset.address),
      amount: "0",
      payTo: this.server.payTo,
      maxTimeoutSeconds: 0,
      extra: {},
    };
    const payment = { x402Version: 2, accepted: requirements, payload } as PaymentPayload;
    try {
      return await this.server.options.facilitator.settle(payment, requirements);
    } catch (error) {
      return {
        success: false,
        errorReason: BATCH_REASON.rpcReadFailed,
        errorMessage: `the facilitator could not be reached: ${(error as Error).message.split("\n")[0]}`,
        transaction: "",
        network: this.server.network,
      };
    }
  }

  private emit(event: ClaimerEvent): void {
    this.options.onEvent?.(event);
  }
}
