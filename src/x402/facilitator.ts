import { getAddress, id as topicOf, isError, zeroPadValue, type Provider, type Signer, type TransactionResponse } from "ethers";
import { PaymentPayloadV2Schema, PaymentRequirementsV2Schema } from "@x402/core/schemas";
import type { PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from "@x402/core/types";
import { z } from "zod";
import { NetDollarV2__factory } from "../../typechain-types";
import { toNetDollarError, walkError } from "../decode";
import { ChainRefusedError, ChainUnreachableError, describeIssues } from "../errors";
import { scanLogs } from "../logs";
import { FacilitatorMetrics } from "./metrics";
import { RelayerQueue } from "./relayer";
import { chainIdOf } from "./money";
import { mandateProblem } from "../ap2/mandates";
import { MANDATE_REASON, REASON, type Reason } from "./reasons";
import { BatchSettlementFacilitator, CANONICAL_CHANNELS, type BatchNetwork, type SettleContext } from "./batch/facilitator";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { BatchPaymentSchema, BatchRequirementsSchema } from "./batch/payloads";

/** A token the facilitator settles, with its EIP-712 domain (what `extra: { name, version }` must say). */
export interface FacilitatorAsset {
  address: string;
  name: string;
  version: string;
}

/** One chain the facilitator serves. */
export interface FacilitatorNetwork {
  /** CAIP-2, e.g. "eip155:31337". */
  network: `eip155:${string}`;
  provider: Provider;
  /** The relayer key that submits settlements and pays their gas. Its nonces are managed here. */
  relayer: Signer;
  assets: FacilitatorAsset[];
  /** The batch-settlement channel contract and its EIP-3009 collector (default: the canonical addresses). */
  channels?: { address: string; collector: string };
}

export interface NetDollarFacilitatorOptions {
  networks: FacilitatorNetwork[];
  /** Milliseconds to wait for a settlement's receipt (default 120 s). */
  receiptTimeoutMs?: number;
  /** How far back (blocks) to look for a settlement done before a restart (default 50,000). */
  lookbackBlocks?: number;
  /** Unix seconds now (default: the local clock). */
  clock?: () => number;
  /**
   * A receiver-authorizer key for `batch-settlement`: /supported then advertises its address, and servers may leave
   * claim and refund signatures to this facilitator, which signs only for authenticated callers.
   */
  receiverAuthorizer?: Signer;
}

/** The exact EVM payload: an EIP-3009 authorization and its signature. */
const ExactPayloadSchema = z.object({
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "not hex"),
  authorization: z.object({
    from: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address"),
    to: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address"),
    value: z.string().regex(/^\d+$/, "not a whole number"),
    validAfter: z.string().regex(/^\d+$/, "not a whole number"),
    validBefore: z.string().regex(/^\d+$/, "not a whole number"),
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not 32 bytes of hex"),
  }),
});
type ExactPayload = z.infer<typeof ExactPayloadSchema>;

const TOKEN = NetDollarV2__factory.createInterface();
const TRANSFER_TOPIC = topicOf("Transfer(address,address,uint256)");
const AUTHORIZATION_USED_TOPIC = topicOf("AuthorizationUsed(address,bytes32)");

interface Checked {
  net: ResolvedNetwork;
  asset: FacilitatorAsset;
  payload: ExactPayload;
  payer: string;
  calldata: string;
}

interface ResolvedNetwork extends FacilitatorNetwork {
  chainId: bigint;
  queue: RelayerQueue;
  relayerAddress?: string;
}

type Check = { ok: true; value: Checked } | { ok: false; reason: Reason | typeof MANDATE_REASON; message: string; payer?: string; network?: string };

/**
 * An x402 facilitator for NET Dollar (and any token with EIP-3009's `bytes` signature form): verifies and settles
 * `exact` payments on EVM chains. Speaks the x402 v2 facilitator protocol with the reference SDK's reason strings.
 *
 * Verification needs one RPC round trip: every static check is local, then one `eth_call` simulates the transfer
 * itself, in which the token checks the signature (ECDSA, or ERC-1271 for a smart-contract wallet), the nonce, the
 * balance, pause and blocklist; a refusal is explained from the token's custom error, without further calls. Settlement re-verifies, submits through one nonce-managed relayer, waits for the receipt and requires the
 * token's `Transfer(from, to, value)` log. Settling the same payment again (concurrently or later, even after a
 * restart) never moves money twice and answers with the same transaction.
 *
 * @example
 * const facilitator = new NetDollarFacilitator({ networks: [{ network: "eip155:31337", provider, relayer, assets: [{ address, name: "NET Dollar", version: "1" }] }] });
 * const result = await facilitator.verify(paymentPayload, paymentRequirements);
 */
export class NetDollarFacilitator {
  readonly metrics = new FacilitatorMetrics();
  private readonly networks = new Map<string, ResolvedNetwork>();
  private readonly inFlight = new Map<string, Promise<SettleResponse>>();
  private readonly settled = new Map<string, SettleResponse>();
  private readonly clock: () => number;
  /** The `batch-settlement` scheme, on the same networks and relayers. */
  readonly batch: BatchSettlementFacilitator;

  constructor(private readonly options: NetDollarFacilitatorOptions) {
    const batchNetworks = new Map<string, BatchNetwork>();
    for (const n of options.networks) {
      const chainId = chainIdOf(n.network);
      if (chainId === undefined) throw new Error(`network ${n.network} is not an eip155 network`);
      const resolved: ResolvedNetwork = { ...n, chainId, queue: new RelayerQueue(n.relayer, n.provider) };
      this.networks.set(n.network, resolved);
      batchNetworks.set(n.network, {
        network: n.network,
        chainId,
        provider: n.provider,
        queue: resolved.queue,
        relayerAddress: async () => (resolved.relayerAddress ??= await n.relayer.getAddress()),
        channels: n.channels ?? CANONICAL_CHANNELS,
      });
    }
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.batch = new BatchSettlementFacilitator({
      networks: batchNetworks,
      receiverAuthorizer: options.receiverAuthorizer,
      receiptTimeoutMs: options.receiptTimeoutMs,
      lookbackBlocks: options.lookbackBlocks,
      clock: this.clock,
    });
  }

  /** GET /supported */
  async supported(): Promise<SupportedResponse> {
    const signers: string[] = [];
    for (const n of this.networks.values()) {
      n.relayerAddress ??= await n.relayer.getAddress();
      if (!signers.includes(n.relayerAddress)) signers.push(n.relayerAddress);
    }
    const batchExtra = await this.batch.supportedExtra();
    return {
      kinds: [...this.networks.keys()].flatMap((network) => [
        { x402Version: 2, scheme: "exact", network: network as `${string}:${string}` },
        { x402Version: 2, scheme: BATCH_SETTLEMENT_SCHEME, network: network as `${string}:${string}`, ...(batchExtra ? { extra: batchExtra } : {}) },
      ]),
      extensions: [],
      signers: { "eip155:*": signers },
    };
  }

  /** The relayers' gas balances, for /health. */
  async relayers(): Promise<{ network: string; address: string; balance: bigint }[]> {
    const out = [];
    for (const n of this.networks.values()) {
      n.relayerAddress ??= await n.relayer.getAddress();
      out.push({ network: n.network, address: n.relayerAddress, balance: await n.provider.getBalance(n.relayerAddress) });
    }
    return out;
  }

  /** POST /verify */
  async verify(paymentPayload: unknown, paymentRequirements: unknown): Promise<VerifyResponse> {
    const started = performance.now();
    const result = await this.verifyInner(paymentPayload, paymentRequirements).catch((error: unknown) => ({
      isValid: false,
      invalidReason: REASON.unexpectedVerifyError,
      invalidMessage: error instanceof Error ? error.message.split("\n")[0] : String(error),
    }));
    this.metrics.verified(result.isValid ? "valid" : (result.invalidReason ?? "invalid"), (performance.now() - started) / 1000);
    return result;
  }

  private async verifyInner(paymentPayload: unknown, paymentRequirements: unknown): Promise<VerifyResponse> {
    const batch = this.batchRequest(paymentPayload, paymentRequirements);
    if (batch && "reason" in batch) return { isValid: false, invalidReason: batch.reason, invalidMessage: batch.message };
    if (batch) return this.batch.verify(batch.payload, batch.requirements);
    const check = await this.check(paymentPayload, paymentRequirements);
    if (!check.ok) return { isValid: false, invalidReason: check.reason, invalidMessage: check.message, payer: check.payer };
    const refusal = await this.simulate(check.value);
    if (refusal) return { isValid: false, invalidReason: refusal.reason, invalidMessage: refusal.message, payer: check.value.payer };
    return { isValid: true, payer: check.value.payer };
  }

  /** POST /settle. `context.authenticated`: the caller presented this facilitator's credentials (see {@link SettleContext}). */
  async settle(paymentPayload: unknown, paymentRequirements: unknown, context: SettleContext = {}): Promise<SettleResponse> {
    const ended = this.metrics.settling();
    const result = await this.settleInner(paymentPayload, paymentRequirements, context).catch((error: unknown): SettleResponse => ({
      success: false,
      errorReason: REASON.unexpectedSettleError,
      errorMessage: error instanceof Error ? error.message.split("\n")[0] : String(error),
      transaction: "",
      network: networkOf(paymentRequirements),
    }));
    ended(result.success ? "success" : (result.errorReason ?? "failure"));
    return result;
  }

  private async settleInner(paymentPayload: unknown, paymentRequirements: unknown, context: SettleContext): Promise<SettleResponse> {
    const batch = this.batchRequest(paymentPayload, paymentRequirements);
    if (batch && "reason" in batch)
      return { success: false, errorReason: batch.reason, errorMessage: batch.message, transaction: "", network: networkOf(paymentRequirements) };
    if (batch) return this.batch.settle(batch.payload, batch.requirements, context);
    const check = await this.check(paymentPayload, paymentRequirements);
    if (!check.ok) {
      return {
        success: false,
        errorReason: check.reason,
        errorMessage: check.message,
        payer: check.payer,
        transaction: "",
        network: (check.network ?? networkOf(paymentRequirements)) as `${string}:${string}`,
      };
    }
    const c = check.value;
    // One key per payment: an EIP-3009 nonce is unique per payer and token.
    const key = `${c.net.network}:${c.asset.address}:${c.payer}:${c.payload.authorization.nonce}`.toLowerCase();
    const done = this.settled.get(key);
    if (done) {
      this.metrics.duplicateSettle();
      return done;
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.metrics.duplicateSettle();
      return pending;
    }
    const promise = this.settleChecked(c);
    this.inFlight.set(key, promise);
    try {
      const result = await promise;
      // Remember answers that cannot change: a success, or a refusal that no retry can fix.
      if (result.success || result.errorReason === REASON.nonceAlreadyUsed || result.errorReason === REASON.transferEventMismatch) {
        this.settled.set(key, result);
        if (this.settled.size > 100_000) this.settled.delete(this.settled.keys().next().value!);
      }
      return result;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async settleChecked(c: Checked): Promise<SettleResponse> {
    const base = { payer: c.payer, network: c.net.network };
    const fail = (errorReason: string, errorMessage: string, transaction = ""): SettleResponse => ({
      success: false,
      errorReason,
      errorMessage,
      transaction,
      ...base,
    });

    const refusal = await this.simulate(c);
    if (refusal) {
      if (refusal.reason === REASON.nonceAlreadyUsed) {
        // Settled before (by us before a restart, or by anyone): answer with that transaction if it paid this payee.
        const previous = await this.findPreviousSettlement(c);
        if (previous) return { success: true, transaction: previous, ...base };
      }
      return fail(refusal.reason, refusal.message);
    }

    let gasLimit: bigint;
    c.net.relayerAddress ??= await c.net.relayer.getAddress();
    try {
      gasLimit = await c.net.provider.estimateGas({ from: c.net.relayerAddress, to: c.asset.address, data: c.calldata });
    } catch (error) {
      const mapped = this.mapRevert(error);
      return fail(mapped.reason, mapped.message);
    }
    let tx: TransactionResponse;
    try {
      tx = await c.net.queue.send({ to: c.asset.address, data: c.calldata, gasLimit: (gasLimit * 12n) / 10n });
    } catch (error) {
      if (
        isError(error, "INSUFFICIENT_FUNDS") ||
        walkError(error, (l) => /insufficient funds|enough funds/i.test(String((l as { message?: unknown }).message ?? ""))) !== undefined
      ) {
        return fail(REASON.invalidTransactionState, `the facilitator's relayer ${c.net.relayerAddress} has too little ETH to pay for gas`);
      }
      // A node that executes on submission (or a race with another relayer) refuses a transfer that would revert:
      // say why, from a fresh simulation, in the reference reason strings.
      const now = await this.simulate(c).catch(() => undefined);
      if (now) return fail(now.reason, now.message);
      return fail(REASON.invalidTransactionState, `the settlement could not be submitted: ${toNetDollarError(error).shortMessage}`);
    }
    let receipt;
    try {
      receipt = await tx.wait(1, this.options.receiptTimeoutMs ?? 120_000);
    } catch (error) {
      if (isError(error, "CALL_EXCEPTION")) return fail(REASON.transactionFailed, "the settlement transaction reverted", tx.hash);
      return fail(REASON.invalidTransactionState, `no receipt for ${tx.hash}: ${toNetDollarError(error).shortMessage}`, tx.hash);
    }
    if (!receipt || receipt.status !== 1) return fail(REASON.transactionFailed, "the settlement transaction reverted", tx.hash);
    if (!paysAuthorization(receipt.logs, c.asset.address, c.payload.authorization))
      return fail(REASON.transferEventMismatch, "the transaction has no Transfer of the authorized value to the payee", tx.hash);
    return { success: true, transaction: tx.hash, ...base };
  }

  /** The transaction that used this authorization, if it paid the expected payee and value. */
  private async findPreviousSettlement(c: Checked): Promise<string | undefined> {
    const a = c.payload.authorization;
    const head = await c.net.provider.getBlockNumber();
    const fromBlock = Math.max(0, head - (this.options.lookbackBlocks ?? 50_000));
    const indexed = [zeroPadValue(a.from, 32), a.nonce.toLowerCase()]; // AuthorizationUsed(authorizer, nonce)
    for await (const logs of scanLogs({
      provider: c.net.provider,
      address: c.asset.address,
      topics: [AUTHORIZATION_USED_TOPIC],
      indexed,
      fromBlock,
      toBlock: head,
      chunkSize: 50_000,
    })) {
      if (logs.length === 0) continue;
      const receipt = await c.net.provider.getTransactionReceipt(logs[0].transactionHash);
      return receipt && paysAuthorization(receipt.logs, c.asset.address, a) ? receipt.hash : undefined;
    }
    return undefined;
  }

  /**
   * A `batch-settlement` request, validated as x402 v2 (undefined for any other scheme, which `check` handles), or
   * why it is malformed.
   */
  private batchRequest(
    paymentPayload: unknown,
    paymentRequirements: unknown,
  ): { payload: PaymentPayload; requirements: PaymentRequirements } | { reason: Reason; message: string } | undefined {
    if ((paymentRequirements as { scheme?: unknown } | null)?.scheme !== BATCH_SETTLEMENT_SCHEME) return undefined;
    const version = (paymentPayload as { x402Version?: unknown } | null)?.x402Version;
    if (version !== 2) return { reason: REASON.invalidX402Version, message: `x402Version ${JSON.stringify(version)} is not supported (2 is)` };
    const payload = BatchPaymentSchema.safeParse(paymentPayload);
    if (!payload.success) return { reason: REASON.invalidPayload, message: describeIssues(payload.error) };
    const requirements = BatchRequirementsSchema.safeParse(paymentRequirements);
    if (!requirements.success) return { reason: REASON.invalidPaymentRequirements, message: describeIssues(requirements.error) };
    return { payload: payload.data as unknown as PaymentPayload, requirements: requirements.data as PaymentRequirements };
  }

  /** Every check that needs no chain access, in the reference facilitator's order. */
  private async check(paymentPayload: unknown, paymentRequirements: unknown): Promise<Check> {
    const version = (paymentPayload as { x402Version?: unknown } | null)?.x402Version;
    if (version !== 2) return { ok: false, reason: REASON.invalidX402Version, message: `x402Version ${JSON.stringify(version)} is not supported (2 is)` };
    const payload = PaymentPayloadV2Schema.safeParse(paymentPayload);
    if (!payload.success) return { ok: false, reason: REASON.invalidPayload, message: describeIssues(payload.error) };
    const requirements = PaymentRequirementsV2Schema.safeParse(paymentRequirements);
    if (!requirements.success) return { ok: false, reason: REASON.invalidPaymentRequirements, message: describeIssues(requirements.error) };
    const p = payload.data as PaymentPayload;
    const r = requirements.data as PaymentRequirements;
    const exact = ExactPayloadSchema.safeParse(p.payload);
    if (!exact.success) return { ok: false, reason: REASON.invalidPayload, message: `payload: ${describeIssues(exact.error)}` };
    const payer = getAddress(exact.data.authorization.from);
    const fail = (reason: Reason | typeof MANDATE_REASON, message: string): Check => ({ ok: false, reason, message, payer, network: r.network });

    if (p.accepted.scheme !== "exact" || r.scheme !== "exact") {
      return fail(r.scheme === "exact" ? REASON.scheme : REASON.unsupportedScheme, `scheme "${r.scheme}" is not supported ("exact" is)`);
    }
    if (!r.extra?.name || !r.extra?.version) return fail(REASON.missingEip712Domain, "requirements.extra must carry the token's EIP-712 name and version");
    const net = this.networks.get(r.network);
    if (!net) return fail(REASON.invalidNetwork, `network ${r.network} is not served by this facilitator`);
    if (p.accepted.network !== r.network) return fail(REASON.networkMismatch, `the payment is for ${p.accepted.network}, the requirements for ${r.network}`);
    const asset = net.assets.find((x) => x.address.toLowerCase() === r.asset.toLowerCase());
    if (!asset) return fail(REASON.eip3009NotSupported, `asset ${r.asset} is not a token this facilitator settles on ${r.network}`);
    if (r.extra.name !== asset.name) return fail(REASON.tokenNameMismatch, `the token's EIP-712 name is "${asset.name}", not "${String(r.extra.name)}"`);
    if (r.extra.version !== asset.version)
      return fail(REASON.tokenVersionMismatch, `the token's EIP-712 version is "${asset.version}", not "${String(r.extra.version)}"`);
    if (
      p.accepted.asset.toLowerCase() !== r.asset.toLowerCase() ||
      p.accepted.payTo.toLowerCase() !== r.payTo.toLowerCase() ||
      p.accepted.amount !== r.amount
    ) {
      return fail(REASON.invalidPayload, "the payment's accepted requirements are not the ones being verified");
    }
    // A payment that carries an AP2 mandate is the payment its mandate closes, or it is refused (the resource is the
    // one the payment names: the paywall in front checks it against its own).
    if (p.resource?.url) {
      const mandate = await mandateProblem(p, r, p.resource.url);
      if (mandate) return fail(MANDATE_REASON, mandate);
    }

    const a = exact.data.authorization;
    const message = { value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore) };
    // The signature itself is checked by the token, in the simulation below: ECDSA for an EOA, ERC-1271 for a
    // smart-contract wallet. Recovering it here too would cost more CPU than the whole rest of the verification.
    const sigHex = exact.data.signature;
    if (sigHex.length % 2 !== 0) return fail(REASON.failedToParseSignature, "the signature is not whole bytes of hex");
    const sigBytes = (sigHex.length - 2) / 2;
    if (sigBytes !== 65 && (await net.provider.getCode(payer)) === "0x") {
      return fail(
        REASON.failedToParseSignature,
        `the signature is ${sigBytes} bytes, not an ECDSA signature's 65, and ${payer} is not a smart-contract wallet`,
      );
    }
    if (getAddress(a.to) !== getAddress(r.payTo))
      return fail(REASON.recipientMismatch, `the authorization pays ${getAddress(a.to)}, not ${getAddress(r.payTo)}`);
    const now = BigInt(this.clock());
    if (message.validBefore < now + 6n) return fail(REASON.validBefore, `the authorization expires at ${a.validBefore}, too soon to settle (now ${now})`);
    if (message.validAfter > now) return fail(REASON.validAfter, `the authorization is valid only after ${a.validAfter} (now ${now})`);
    if (message.value !== BigInt(r.amount)) return fail(REASON.valueMismatch, `the authorization is for ${a.value}, the price is ${r.amount}`);

    const calldata = TOKEN.encodeFunctionData("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", [
      a.from,
      a.to,
      message.value,
      message.validAfter,
      message.validBefore,
      a.nonce,
      sigHex,
    ]);
    return { ok: true, value: { net, asset, payload: exact.data, payer, calldata } };
  }

  /** One eth_call of the settlement itself; a revert is explained from the token's custom error. */
  private async simulate(c: Checked): Promise<{ reason: Reason; message: string } | undefined> {
    c.net.relayerAddress ??= await c.net.relayer.getAddress();
    try {
      await c.net.provider.call({ from: c.net.relayerAddress, to: c.asset.address, data: c.calldata });
      return undefined;
    } catch (error) {
      return this.mapRevert(error);
    }
  }

  private mapRevert(error: unknown): { reason: Reason; message: string } {
    const refused = toNetDollarError(error);
    if (refused instanceof ChainUnreachableError) throw error; // the chain could not be read: not a refusal
    const message = refused.shortMessage;
    const decoded = refused instanceof ChainRefusedError ? refused.errorName : undefined;
    switch (decoded) {
      case "NetDollarAuthorizationAlreadyUsed":
        return { reason: REASON.nonceAlreadyUsed, message };
      case "ERC20InsufficientBalance":
        return { reason: REASON.insufficientBalance, message };
      case "NetDollarInvalidSignature":
        return {
          reason: REASON.signature,
          message: `the signature is not ${String((refused as ChainRefusedError).errorArgs![0])}'s (nor accepted by it as a smart-contract wallet)`,
        };
      case "NetDollarAuthorizationNotYetValid":
        return { reason: REASON.validAfter, message };
      case "NetDollarAuthorizationExpired":
        return { reason: REASON.validBefore, message };
      default:
        if (decoded === undefined && walkError(error, (l) => isError(l, "CALL_EXCEPTION")) === undefined) throw error; // not a revert: the chain could not be read
        return { reason: REASON.simulationFailed, message };
    }
  }
}

/** Whether the logs hold the token's `Transfer` of the authorized value from the payer to the payee. */
function paysAuthorization(
  logs: readonly { address: string; topics: readonly string[]; data: string }[],
  token: string,
  a: ExactPayload["authorization"],
): boolean {
  const from = zeroPadValue(a.from, 32).toLowerCase();
  const to = zeroPadValue(a.to, 32).toLowerCase();
  return logs.some(
    (log) =>
      log.address.toLowerCase() === token.toLowerCase() &&
      log.topics[0] === TRANSFER_TOPIC &&
      log.topics[1] === from &&
      log.topics[2] === to &&
      BigInt(log.data) === BigInt(a.value),
  );
}

function networkOf(requirements: unknown): `${string}:${string}` {
  const n = (requirements as { network?: unknown } | null)?.network;
  return (typeof n === "string" ? n : "") as `${string}:${string}`;
}
