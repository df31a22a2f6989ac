import { getAddress, id as topicOf, isError, zeroPadValue, type Provider, type Signer, type TransactionReceipt } from "ethers";
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import type { z } from "zod";
import { BatchSettlement__factory } from "../../../typechain-types";
import { decodeRevert, toNetDollarError, walkError } from "../../decode";
import { describeIssues } from "../../errors";
import { scanLogs } from "../../logs";
import { BATCH_REASON, type BatchReason } from "../reasons";
import {
  BATCH_SETTLEMENT_ADDRESS,
  BATCH_SETTLEMENT_SCHEME,
  ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  channelId as computeChannelId,
  depositNonce,
  encodeCollectorData,
  normalizeConfig,
  signClaimBatch,
  signRefund,
  toVoucherClaimArgs,
  type ChannelConfig,
  type ChannelContract,
} from "./channel";
import {
  ClaimPayloadSchema,
  DepositPayloadSchema,
  EnrichedRefundPayloadSchema,
  RefundPayloadSchema,
  SettlePayloadSchema,
  VoucherPayloadSchema,
  toVoucherClaim,
  type DepositPayload,
} from "./payloads";
import { channelStateJson, readChannelState, type ChannelState } from "./state";
import { checkChannelConfig, voucherSigned } from "./rules";
import type { RelayerQueue } from "../relayer";

/** One chain as the batch-settlement facilitator sees it (resolved by {@link NetDollarFacilitator}). */
export interface BatchNetwork {
  network: `eip155:${string}`;
  chainId: bigint;
  provider: Provider;
  queue: RelayerQueue;
  relayerAddress(): Promise<string>;
  /** The channel contract and its EIP-3009 collector on this chain. */
  channels: { address: string; collector: string };
}

export interface BatchFacilitatorOptions {
  networks: Map<string, BatchNetwork>;
  /** The facilitator's receiver-authorizer key: servers may delegate claim and refund signatures to it. */
  receiverAuthorizer?: Signer;
  receiptTimeoutMs?: number;
  lookbackBlocks?: number;
  clock: () => number;
}

/** What the HTTP layer knows of the caller. */
export interface SettleContext {
  /** The caller presented this facilitator's credentials (required before it signs as receiver authorizer). */
  authenticated?: boolean;
}

type Fail = { ok: false; reason: BatchReason | string; message: string; payer?: string };
type Ok<T> = { ok: true; value: T };

const CHANNELS = BatchSettlement__factory.createInterface();
const AUTHORIZATION_USED_TOPIC = topicOf("AuthorizationUsed(address,bytes32)");

interface Context {
  net: BatchNetwork;
  contract: ChannelContract;
  requirements: PaymentRequirements;
}

/**
 * The facilitator side of x402 `batch-settlement` (see docs/x402.md): verifies deposits, vouchers and refunds, and
 * settles deposits (through the nonce-managed relayer, so concurrent deposits never collide), claim batches,
 * settles and cooperative refunds, answering with the reference SDK's reason strings and channel snapshots.
 *
 * Verification is local where it can be (config, channel id, ECDSA voucher signature) and reads the channel's state
 * in one round of parallel calls; a deposit is simulated in full (the token checks the payer's EIP-3009 signature,
 * balance, pause and blocklist). Settling the same deposit again, concurrently or after a restart, answers with the
 * transaction that made it.
 */
export class BatchSettlementFacilitator {
  private readonly inFlight = new Map<string, Promise<SettleResponse>>();
  private readonly settled = new Map<string, SettleResponse>();
  private authorizerAddress?: string;

  constructor(private readonly options: BatchFacilitatorOptions) {}

  /** `extra` of this scheme's /supported entry: the receiver authorizer, when this facilitator has one. */
  async supportedExtra(): Promise<Record<string, string> | undefined> {
    const authorizer = await this.authorizer();
    return authorizer ? { receiverAuthorizer: authorizer } : undefined;
  }

  async verify(p: PaymentPayload, r: PaymentRequirements): Promise<VerifyResponse> {
    const ctx = this.context(p, r);
    if (!ctx.ok) return { isValid: false, invalidReason: ctx.reason, invalidMessage: ctx.message };
    const raw = p.payload as { type?: unknown };
    let result: Fail | Ok<ChannelState>;
    if (raw?.type === "deposit") {
      const parsed = parse(DepositPayloadSchema, p.payload, BATCH_REASON.depositPayload);
      result = parsed.ok ? await this.verifyDeposit(ctx.value, parsed.value) : parsed;
    } else if (raw?.type === "voucher" || raw?.type === "refund") {
      const parsed =
        raw.type === "voucher"
          ? parse(VoucherPayloadSchema, p.payload, BATCH_REASON.voucherPayload)
          : parse(RefundPayloadSchema, p.payload, BATCH_REASON.refundPayload);
      result = parsed.ok ? await this.verifyVoucher(ctx.value, parsed.value.channelConfig, parsed.value.voucher, raw.type === "refund") : parsed;
    } else {
      return {
        isValid: false,
        invalidReason: BATCH_REASON.payloadType,
        invalidMessage: `payload type ${JSON.stringify(raw?.type)} cannot be verified (deposit, voucher or refund can)`,
      };
    }
    if (!result.ok) return { isValid: false, invalidReason: result.reason, invalidMessage: result.message, payer: result.payer };
    return {
      isValid: true,
      payer: (p.payload as { channelConfig: ChannelConfig }).channelConfig.payer,
      extra: channelStateJson(result.value),
    } as VerifyResponse;
  }

  async settle(p: PaymentPayload, r: PaymentRequirements, context: SettleContext = {}): Promise<SettleResponse> {
    const ctx = this.context(p, r);
    const network = r.network;
    const failure = (f: Fail): SettleResponse => ({ success: false, errorReason: f.reason, errorMessage: f.message, payer: f.payer, transaction: "", network });
    if (!ctx.ok) return failure(ctx);
    const type = (p.payload as { type?: unknown })?.type;
    if (type === "deposit") {
      const parsed = parse(DepositPayloadSchema, p.payload, BATCH_REASON.depositPayload);
      if (!parsed.ok) return failure(parsed);
      return this.once(`${network}:deposit:${parsed.value.deposit.authorization.erc3009Authorization?.signature ?? ""}`.toLowerCase(), () =>
        this.settleDeposit(ctx.value, parsed.value),
      );
    }
    if (type === "claim") {
      const parsed = parse(ClaimPayloadSchema, p.payload, BATCH_REASON.claimPayload);
      return parsed.ok ? this.settleClaim(ctx.value, parsed.value, context) : failure(parsed);
    }
    if (type === "settle") {
      const parsed = parse(SettlePayloadSchema, p.payload, BATCH_REASON.settlePayload);
      return parsed.ok ? this.settleReceiver(ctx.value, parsed.value.receiver, parsed.value.token) : failure(parsed);
    }
    if (type === "refund") {
      const parsed = parse(EnrichedRefundPayloadSchema, p.payload, BATCH_REASON.refundPayload);
      return parsed.ok ? this.settleRefund(ctx.value, parsed.value, context) : failure(parsed);
    }
    return failure({
      ok: false,
      reason: BATCH_REASON.payloadType,
      message: `payload type ${JSON.stringify(type)} cannot be settled (deposit, claim, settle or refund can)`,
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Verification
  // ---------------------------------------------------------------------------------------------------------------

  private context(p: PaymentPayload, r: PaymentRequirements): Fail | Ok<Context> {
    if (p.accepted?.scheme !== BATCH_SETTLEMENT_SCHEME || r.scheme !== BATCH_SETTLEMENT_SCHEME)
      return { ok: false, reason: BATCH_REASON.scheme, message: `scheme "${r.scheme}" is not "batch-settlement"` };
    if (p.accepted.network !== r.network)
      return { ok: false, reason: BATCH_REASON.networkMismatch, message: `the payment is for ${p.accepted.network}, the requirements for ${r.network}` };
    const net = this.options.networks.get(r.network);
    if (!net) return { ok: false, reason: BATCH_REASON.networkMismatch, message: `network ${r.network} is not served by this facilitator` };
    return { ok: true, value: { net, contract: { address: net.channels.address, chainId: net.chainId }, requirements: r } };
  }

  private checkConfig(ctx: Context, config: ChannelConfig, claimedId: string): Fail | undefined {
    const bad = checkChannelConfig(ctx.contract, config, claimedId, ctx.requirements);
    return bad ? { ok: false, ...bad, payer: getAddress(config.payer) } : undefined;
  }

  private voucherSigned(ctx: Context, config: ChannelConfig, voucher: { channelId: string; maxClaimableAmount: string; signature: string }): Promise<boolean> {
    return voucherSigned(ctx.net.provider, ctx.contract, config, voucher);
  }

  private async verifyVoucher(
    ctx: Context,
    rawConfig: ChannelConfig,
    voucher: { channelId: string; maxClaimableAmount: string; signature: string },
    refund: boolean,
  ): Promise<Fail | Ok<ChannelState>> {
    const config = normalizeConfig(rawConfig);
    const bad = this.checkConfig(ctx, config, voucher.channelId);
    if (bad) return bad;
    const payer = config.payer;
    if (!(await this.voucherSigned(ctx, config, voucher)))
      return { ok: false, reason: BATCH_REASON.voucherSignature, message: "the voucher is not signed by the channel's payer authorizer (or the payer)", payer };
    const state = await this.read(ctx, voucher.channelId);
    if (!state.ok) return { ...state, payer };
    const s = state.value;
    const ceiling = BigInt(voucher.maxClaimableAmount);
    if (s.balance === 0n) return { ok: false, reason: BATCH_REASON.channelNotFound, message: `channel ${voucher.channelId} holds nothing`, payer };
    if (ceiling > s.balance)
      return {
        ok: false,
        reason: BATCH_REASON.cumulativeExceedsBalance,
        message: `the voucher's ceiling ${ceiling} is above the channel's balance ${s.balance}`,
        payer,
      };
    if (refund ? ceiling < s.totalClaimed : ceiling <= s.totalClaimed) {
      return {
        ok: false,
        reason: BATCH_REASON.cumulativeBelowClaimed,
        message: `the voucher's ceiling ${ceiling} is not above the ${s.totalClaimed} already claimed`,
        payer,
      };
    }
    return state;
  }

  private async verifyDeposit(ctx: Context, payload: DepositPayload): Promise<Fail | Ok<ChannelState>> {
    const config = normalizeConfig(payload.channelConfig);
    const payer = config.payer;
    const bad = this.checkConfig(ctx, config, payload.voucher.channelId);
    if (bad) return bad;
    const auth = payload.deposit.authorization.erc3009Authorization;
    if (!auth)
      return {
        ok: false,
        reason: BATCH_REASON.erc3009AuthorizationRequired,
        message: "the deposit carries no erc3009Authorization (permit2 deposits are not supported)",
        payer,
      };
    const extra = (ctx.requirements.extra ?? {}) as { name?: unknown; version?: unknown };
    if (!extra.name || !extra.version)
      return { ok: false, reason: BATCH_REASON.missingEip712Domain, message: "requirements.extra must carry the token's EIP-712 name and version", payer };
    const now = BigInt(this.options.clock());
    if (BigInt(auth.validBefore) < now + 6n)
      return {
        ok: false,
        reason: BATCH_REASON.validBefore,
        message: `the deposit authorization expires at ${auth.validBefore}, too soon to settle (now ${now})`,
        payer,
      };
    if (BigInt(auth.validAfter) > now)
      return { ok: false, reason: BATCH_REASON.validAfter, message: `the deposit authorization is valid only after ${auth.validAfter} (now ${now})`, payer };
    if (!(await this.voucherSigned(ctx, config, payload.voucher)))
      return { ok: false, reason: BATCH_REASON.voucherSignature, message: "the voucher is not signed by the channel's payer authorizer (or the payer)", payer };
    const state = await this.read(ctx, payload.voucher.channelId);
    if (!state.ok) return { ...state, payer };
    const s = state.value;
    const amount = BigInt(payload.deposit.amount);
    const ceiling = BigInt(payload.voucher.maxClaimableAmount);
    if (ceiling > s.balance + amount)
      return {
        ok: false,
        reason: BATCH_REASON.cumulativeExceedsBalance,
        message: `the voucher's ceiling ${ceiling} is above the balance after the deposit (${s.balance + amount})`,
        payer,
      };
    if (ceiling <= s.totalClaimed)
      return {
        ok: false,
        reason: BATCH_REASON.cumulativeBelowClaimed,
        message: `the voucher's ceiling ${ceiling} is not above the ${s.totalClaimed} already claimed`,
        payer,
      };
    const refusal = await this.simulate(ctx, this.depositCalldata(ctx, config, payload), "deposit");
    if (refusal) return { ...refusal, payer };
    return state;
  }

  private depositCalldata(ctx: Context, config: ChannelConfig, payload: DepositPayload): string {
    const auth = payload.deposit.authorization.erc3009Authorization!;
    const data = encodeCollectorData({
      validAfter: BigInt(auth.validAfter),
      validBefore: BigInt(auth.validBefore),
      salt: auth.salt,
      signature: auth.signature,
    });
    return CHANNELS.encodeFunctionData("deposit", [config, BigInt(payload.deposit.amount), ctx.net.channels.collector, data]);
  }

  private async read(ctx: Context, id: string, blockTag?: number): Promise<Fail | Ok<ChannelState>> {
    try {
      return { ok: true, value: await readChannelState(ctx.net.provider, ctx.net.channels.address, id.toLowerCase(), blockTag) };
    } catch (error) {
      return { ok: false, reason: BATCH_REASON.rpcReadFailed, message: `the channel's state could not be read: ${toNetDollarError(error).shortMessage}` };
    }
  }

  /** One eth_call of a channel-contract call; a revert is explained in plain words with the scheme's reason. */
  private async simulate(ctx: Context, data: string, kind: "deposit" | "claim" | "settle" | "refund"): Promise<Fail | undefined> {
    try {
      await ctx.net.provider.call({ from: await ctx.net.relayerAddress(), to: ctx.net.channels.address, data });
      return undefined;
    } catch (error) {
      const decoded = decodeRevert(error);
      if (decoded === undefined && walkError(error, (l) => isError(l, "CALL_EXCEPTION")) === undefined)
        return { ok: false, reason: BATCH_REASON.rpcReadFailed, message: toNetDollarError(error).shortMessage };
      const message = toNetDollarError(error).shortMessage;
      if (kind === "deposit") {
        if (decoded?.name === "NetDollarInvalidSignature") return { ok: false, reason: BATCH_REASON.receiveAuthorizationSignature, message };
        if (decoded?.name === "ERC20InsufficientBalance") return { ok: false, reason: BATCH_REASON.insufficientBalance, message };
        if (decoded?.name === "NetDollarAuthorizationExpired") return { ok: false, reason: BATCH_REASON.validBefore, message };
        if (decoded?.name === "NetDollarAuthorizationNotYetValid") return { ok: false, reason: BATCH_REASON.validAfter, message };
      }
      const reason = {
        deposit: BATCH_REASON.depositSimulationFailed,
        claim: BATCH_REASON.claimSimulationFailed,
        settle: BATCH_REASON.settleSimulationFailed,
        refund: BATCH_REASON.refundSimulationFailed,
      }[kind];
      return { ok: false, reason, message: decoded?.name === "NetDollarAuthorizationAlreadyUsed" ? `${message} (this deposit was already made)` : message };
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Settlement
  // ---------------------------------------------------------------------------------------------------------------

  /** Runs `settle` once per key: a concurrent duplicate waits for the first; a success is remembered. */
  private async once(key: string, settle: () => Promise<SettleResponse>): Promise<SettleResponse> {
    const done = this.settled.get(key);
    if (done) return done;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = settle();
    this.inFlight.set(key, promise);
    try {
      const result = await promise;
      if (result.success) {
        this.settled.set(key, result);
        if (this.settled.size > 100_000) this.settled.delete(this.settled.keys().next().value!);
      }
      return result;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Sends a call to the channel contract through the relayer queue and waits for its receipt. */
  private async submit(ctx: Context, data: string, failReason: BatchReason): Promise<Fail | Ok<TransactionReceipt>> {
    const relayer = await ctx.net.relayerAddress();
    let gasLimit: bigint;
    try {
      gasLimit = await ctx.net.provider.estimateGas({ from: relayer, to: ctx.net.channels.address, data });
    } catch (error) {
      return { ok: false, reason: failReason, message: `the transaction would revert: ${toNetDollarError(error).shortMessage}` };
    }
    try {
      const tx = await ctx.net.queue.send({ to: ctx.net.channels.address, data, gasLimit: (gasLimit * 12n) / 10n });
      const receipt = await tx.wait(1, this.options.receiptTimeoutMs ?? 120_000);
      if (!receipt || receipt.status !== 1) return { ok: false, reason: failReason, message: `transaction ${tx.hash} reverted` };
      return { ok: true, value: receipt };
    } catch (error) {
      if (isError(error, "INSUFFICIENT_FUNDS"))
        return { ok: false, reason: failReason, message: `the facilitator's relayer ${relayer} has too little ETH to pay for gas` };
      return { ok: false, reason: failReason, message: toNetDollarError(error).shortMessage };
    }
  }

  private async settleDeposit(ctx: Context, payload: DepositPayload): Promise<SettleResponse> {
    const config = normalizeConfig(payload.channelConfig);
    const payer = config.payer;
    const base = { network: ctx.requirements.network, payer };
    const verified = await this.verifyDeposit(ctx, payload);
    if (!verified.ok) {
      const previous = verified.reason === BATCH_REASON.depositSimulationFailed ? await this.findPreviousDeposit(ctx, config, payload) : undefined;
      if (previous) return this.depositResponse(ctx, payload, previous);
      return { success: false, errorReason: verified.reason, errorMessage: verified.message, transaction: "", ...base };
    }
    const sent = await this.submit(ctx, this.depositCalldata(ctx, config, payload), BATCH_REASON.depositTransactionFailed);
    if (!sent.ok) return { success: false, errorReason: sent.reason, errorMessage: sent.message, transaction: "", ...base };
    return this.depositResponse(ctx, payload, sent.value);
  }

  private async depositResponse(ctx: Context, payload: DepositPayload, receipt: TransactionReceipt): Promise<SettleResponse> {
    const state = await this.read(ctx, payload.voucher.channelId, receipt.blockNumber);
    return {
      success: true,
      transaction: receipt.hash,
      network: ctx.requirements.network,
      payer: getAddress(payload.channelConfig.payer),
      amount: payload.deposit.amount,
      extra: state.ok ? { channelState: channelStateJson(state.value) } : undefined,
    } as SettleResponse;
  }

  /** The transaction that already used this deposit's authorization, if it deposited into this channel. */
  private async findPreviousDeposit(ctx: Context, config: ChannelConfig, payload: DepositPayload): Promise<TransactionReceipt | undefined> {
    const auth = payload.deposit.authorization.erc3009Authorization!;
    const nonce = depositNonce(payload.voucher.channelId, auth.salt);
    const head = await ctx.net.provider.getBlockNumber();
    const fromBlock = Math.max(0, head - (this.options.lookbackBlocks ?? 50_000));
    const indexed = [zeroPadValue(config.payer, 32), nonce.toLowerCase()];
    for await (const logs of scanLogs({
      provider: ctx.net.provider,
      address: config.token,
      topics: [AUTHORIZATION_USED_TOPIC],
      indexed,
      fromBlock,
      toBlock: head,
      chunkSize: 50_000,
    })) {
      if (logs.length === 0) continue;
      const receipt = await ctx.net.provider.getTransactionReceipt(logs[0].transactionHash);
      const deposited = receipt?.logs.some(
        (l) =>
          l.address.toLowerCase() === ctx.net.channels.address.toLowerCase() &&
          l.topics[0] === CHANNELS.getEvent("Deposited")!.topicHash &&
          l.topics[1] === payload.voucher.channelId.toLowerCase(),
      );
      return deposited ? receipt! : undefined;
    }
    return undefined;
  }

  /** The facilitator's receiver authorizer signs only for callers that presented its credentials. */
  private async authorizerFor(rows: ChannelConfig[], context: SettleContext): Promise<Fail | Ok<Signer>> {
    const signer = this.options.receiverAuthorizer;
    const address = await this.authorizer();
    if (!signer || !address)
      return {
        ok: false,
        reason: BATCH_REASON.authorizerNotConfigured,
        message: "no receiver-authorizer signature was given and this facilitator has no receiver-authorizer key",
      };
    if (rows.some((c) => getAddress(c.receiverAuthorizer) !== address))
      return { ok: false, reason: BATCH_REASON.authorizerAddressMismatch, message: `a channel's receiver authorizer is not this facilitator's ${address}` };
    if (!context.authenticated)
      return {
        ok: false,
        reason: BATCH_REASON.unauthenticated,
        message: "signing as receiver authorizer needs this facilitator's credentials (Authorization: Bearer <key>)",
      };
    return { ok: true, value: signer };
  }

  private async settleClaim(ctx: Context, payload: z.infer<typeof ClaimPayloadSchema>, context: SettleContext): Promise<SettleResponse> {
    const network = ctx.requirements.network;
    const claims = payload.claims.map(toVoucherClaim);
    let signature = payload.claimAuthorizerSignature;
    if (!signature) {
      const authorizer = await this.authorizerFor(
        claims.map((c) => c.channel),
        context,
      );
      if (!authorizer.ok) return { success: false, errorReason: authorizer.reason, errorMessage: authorizer.message, transaction: "", network };
      signature = await signClaimBatch(authorizer.value, ctx.contract, claims);
    }
    const data = CHANNELS.encodeFunctionData("claimWithSignature", [claims.map(toVoucherClaimArgs), signature]);
    const refusal = await this.simulate(ctx, data, "claim");
    if (refusal) return { success: false, errorReason: refusal.reason, errorMessage: refusal.message, transaction: "", network };
    const sent = await this.submit(ctx, data, BATCH_REASON.claimTransactionFailed);
    if (!sent.ok) return { success: false, errorReason: sent.reason, errorMessage: sent.message, transaction: "", network };
    return { success: true, transaction: sent.value.hash, network, amount: "" } as SettleResponse;
  }

  private async settleReceiver(ctx: Context, receiver: string, token: string): Promise<SettleResponse> {
    const network = ctx.requirements.network;
    const channels = BatchSettlement__factory.connect(ctx.net.channels.address, ctx.net.provider);
    let owed: bigint;
    try {
      const [claimed, settled] = await channels.receivers(receiver, token);
      owed = claimed - settled;
    } catch (error) {
      return { success: false, errorReason: BATCH_REASON.rpcReadFailed, errorMessage: toNetDollarError(error).shortMessage, transaction: "", network };
    }
    if (owed === 0n)
      return {
        success: false,
        errorReason: BATCH_REASON.nothingToSettle,
        errorMessage: `${getAddress(receiver)} has nothing claimed and unsettled in ${getAddress(token)}`,
        transaction: "",
        network,
      };
    const data = CHANNELS.encodeFunctionData("settle", [receiver, token]);
    const refusal = await this.simulate(ctx, data, "settle");
    if (refusal) return { success: false, errorReason: refusal.reason, errorMessage: refusal.message, transaction: "", network };
    const sent = await this.submit(ctx, data, BATCH_REASON.settleTransactionFailed);
    if (!sent.ok) return { success: false, errorReason: sent.reason, errorMessage: sent.message, transaction: "", network };
    const settledLog = sent.value.logs
      .map((l) => (l.address.toLowerCase() === ctx.net.channels.address.toLowerCase() ? CHANNELS.parseLog(l) : null))
      .find((l) => l?.name === "Settled");
    return { success: true, transaction: sent.value.hash, network, amount: settledLog ? (settledLog.args.amount as bigint).toString() : "0" } as SettleResponse;
  }

  private async settleRefund(ctx: Context, payload: z.infer<typeof EnrichedRefundPayloadSchema>, context: SettleContext): Promise<SettleResponse> {
    const network = ctx.requirements.network;
    const config = normalizeConfig(payload.channelConfig);
    const base = { network, payer: config.payer };
    const fail = (f: Fail): SettleResponse => ({ success: false, errorReason: f.reason, errorMessage: f.message, transaction: "", ...base });
    const id = computeChannelId(ctx.contract, config);
    const amount = BigInt(payload.amount);
    if (amount === 0n) return fail({ ok: false, reason: BATCH_REASON.refundAmountInvalid, message: "a refund must be more than zero" });
    const pre = await this.read(ctx, id);
    if (!pre.ok) return fail(pre);
    const claims = payload.claims.map(toVoucherClaim);
    const claimedAfter = claims
      .filter((c) => computeChannelId(ctx.contract, c.channel) === id)
      .reduce((max, c) => (c.totalClaimed > max ? c.totalClaimed : max), pre.value.totalClaimed);
    if (pre.value.balance - claimedAfter === 0n)
      return fail({ ok: false, reason: BATCH_REASON.refundNoBalance, message: `channel ${id} has nothing unclaimed to refund` });
    let refundSignature = payload.refundAuthorizerSignature;
    let claimSignature = payload.claimAuthorizerSignature;
    if (!refundSignature || (claims.length > 0 && !claimSignature)) {
      const authorizer = await this.authorizerFor([config, ...claims.map((c) => c.channel)], context);
      if (!authorizer.ok) return fail(authorizer);
      refundSignature ??= await signRefund(authorizer.value, ctx.contract, id, BigInt(payload.refundNonce), amount);
      if (claims.length > 0) claimSignature ??= await signClaimBatch(authorizer.value, ctx.contract, claims);
    }
    const refundCall = CHANNELS.encodeFunctionData("refundWithSignature", [config, amount, BigInt(payload.refundNonce), refundSignature]);
    const data =
      claims.length > 0
        ? CHANNELS.encodeFunctionData("multicall", [
            [CHANNELS.encodeFunctionData("claimWithSignature", [claims.map(toVoucherClaimArgs), claimSignature!]), refundCall],
          ])
        : refundCall;
    const refusal = await this.simulate(ctx, data, "refund");
    if (refusal) return fail(refusal);
    const sent = await this.submit(ctx, data, BATCH_REASON.refundTransactionFailed);
    if (!sent.ok) return fail(sent);
    const refunded = sent.value.logs
      .map((l) => (l.address.toLowerCase() === ctx.net.channels.address.toLowerCase() ? CHANNELS.parseLog(l) : null))
      .find((l) => l?.name === "Refunded");
    const post = await this.read(ctx, id, sent.value.blockNumber);
    return {
      success: true,
      transaction: sent.value.hash,
      ...base,
      amount: refunded ? (refunded.args.amount as bigint).toString() : "0",
      extra: post.ok ? { channelState: channelStateJson(post.value) } : undefined,
    } as SettleResponse;
  }

  private async authorizer(): Promise<string | undefined> {
    if (!this.options.receiverAuthorizer) return undefined;
    this.authorizerAddress ??= getAddress(await this.options.receiverAuthorizer.getAddress());
    return this.authorizerAddress;
  }
}

/** Where the channel contracts are when a network names none: the canonical addresses. */
export const CANONICAL_CHANNELS = { address: BATCH_SETTLEMENT_ADDRESS, collector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS };

function parse<T>(schema: z.ZodType<T>, value: unknown, reason: BatchReason): Fail | Ok<T> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason, message: `payload: ${describeIssues(result.error)}` };
}
