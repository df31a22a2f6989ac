import { getAddress, id as id_, zeroPadValue, type Signer } from "ethers";
import { scanLogs } from "../logs";
import type { ConditionalEscrow } from "../../typechain-types";
import { signTransferAuthorization, type TokenDomain } from "../eip712";
import type { WriteMethod } from "../tx";
import { escrowDomain, paymentId, toStruct, RECEIPT_TYPES, PaymentStatus, Outcome, type Payment } from "./payment";

/**
 * The payer's signature that funds `payment` through the token's EIP-3009 `receiveWithAuthorization`: to the escrow,
 * for the amount, valid until `fundBy`, with the payment id as nonce, so it can fund this payment and nothing else.
 *
 * @example
 * const signature = await signFunding(payer, tokenDomain, payment, escrowAddress);
 * await simulateAndSend(fundWithAuthorizationCall(escrow.connect(relayer), payment, signature), [], ctx);
 */
export async function signFunding(payer: Signer, tokenDomain: TokenDomain, payment: Payment, escrow: string): Promise<string> {
  const auth = {
    from: payment.payer,
    to: escrow,
    value: payment.amount,
    validAfter: 0n,
    validBefore: payment.fundBy + 1n,
    nonce: paymentId(payment, escrow, tokenDomain.chainId),
  };
  return (await signTransferAuthorization(payer, tokenDomain, auth, "receive")).signature;
}

/** `fundWithAuthorization` as a write method (anyone may send it). */
export function fundWithAuthorizationCall(escrow: ConditionalEscrow, payment: Payment, signature: string): WriteMethod<[]> {
  const args = [toStruct(payment), 0n, payment.fundBy + 1n, signature] as const;
  return Object.assign(() => escrow.fundWithAuthorization(...args), { staticCall: () => escrow.fundWithAuthorization.staticCall(...args) });
}

/** The verifier's EIP-712 `DeliveryReceipt` for a payment: anyone can relay it with `confirmWithReceipt`. */
export async function signReceipt(verifier: Signer, payment: Payment, escrow: string, chainId: bigint): Promise<string> {
  return verifier.signTypedData(escrowDomain(escrow, chainId), RECEIPT_TYPES, { paymentId: paymentId(payment, escrow, chainId) });
}

/** A payment's state and what can be done with it at `now` (Unix seconds). */
export interface PaymentStatusReport {
  id: string;
  status: PaymentStatus;
  statusName: "none" | "funded" | "disputed" | "settled";
  held: bigint;
  refundable: bigint;
  /** The actions that the contract would accept now, by who may take them. */
  possible: string[];
}

/**
 * Reads a payment's state and explains what can happen next, from the same rules the contract applies.
 *
 * @example
 * const report = await getPaymentStatus(escrow, payment, BigInt((await provider.getBlock("latest"))!.timestamp));
 */
export async function getPaymentStatus(escrow: ConditionalEscrow, payment: Payment, now: bigint): Promise<PaymentStatusReport> {
  const chainId = (await escrow.runner!.provider!.getNetwork()).chainId;
  const id = paymentId(payment, await escrow.getAddress(), chainId);
  const s = await escrow.paymentState(id);
  const status = Number(s.status) as PaymentStatus;
  const statusName = (["none", "funded", "disputed", "settled"] as const)[status];
  const possible: string[] = [];
  const none = "0x0000000000000000000000000000000000000000";
  const deadline = payment.confirmBy + payment.disputeWindow;
  const defaultName = payment.defaultOutcome === Outcome.Release ? "release (anyone)" : "reclaim (anyone, to the payer)";
  if (status === PaymentStatus.None && now <= payment.fundBy) possible.push("fund (payer's signature or approval)");
  if (status === PaymentStatus.Funded && s.held > 0n) {
    if (now <= payment.confirmBy && payment.verifier !== none) possible.push("confirm (verifier, or its signed receipt)");
    if (now <= payment.confirmBy && payment.operator !== none) possible.push("capture (operator)");
    if (now <= deadline && payment.operator !== none) possible.push("void (operator)");
    if (now <= deadline && payment.arbiter !== none) possible.push("dispute (payer or payee)");
    if (now > deadline) possible.push(defaultName);
  }
  if (status === PaymentStatus.Disputed) {
    if (now <= payment.refundBy) possible.push("rule (arbiter)");
    else possible.push(defaultName);
  }
  if (status !== PaymentStatus.None && s.refundable > 0n && now <= payment.refundBy) possible.push("refund of released money (operator or payee)");
  return { id, status, statusName, held: s.held, refundable: s.refundable, possible };
}

/** One thing that happened to a payment, from the escrow's events; a release lists where each unit went. */
export interface PaymentEvent {
  name: "PaymentFunded" | "PaymentReleased" | "PaymentRefunded" | "PaymentDisputed" | "PaymentRuled" | "PayoutCredited";
  blockNumber: number;
  transactionHash: string;
  /** Who called (funded, released, refunded, disputed, ruled), when the event names it. */
  by?: string;
  amount?: bigint;
  /** PaymentReleased: the part of `amount` that went to the fee receiver. */
  fee?: bigint;
  /** PaymentRuled: the payer's share in basis points. */
  payerShareBps?: number;
  /** PayoutCredited: the account credited instead of paid (it withdraws later). */
  account?: string;
  /** The token transfers out of the escrow in this event's transaction (each payout), on its last release or refund event. */
  transfers?: { to: string; amount: bigint }[];
}

/**
 * A payment's history, oldest first: its escrow events since `fromBlock` (the escrow's deployment block), with the
 * token transfers out of the escrow in each release or refund transaction, read from its receipt: what each payee,
 * the fee receiver and the payer actually received, as the chain recorded it.
 */
export async function getPaymentHistory(escrow: ConditionalEscrow, payment: Payment, fromBlock: number): Promise<PaymentEvent[]> {
  const provider = escrow.runner!.provider!;
  const address = await escrow.getAddress();
  const id = paymentId(payment, address, (await provider.getNetwork()).chainId);
  const names = ["PaymentFunded", "PaymentReleased", "PaymentRefunded", "PaymentDisputed", "PaymentRuled", "PayoutCredited"] as const;
  const topics = names.map((n) => escrow.interface.getEvent(n).topicHash);
  const toBlock = await provider.getBlockNumber();
  const events: PaymentEvent[] = [];
  const transferTopic = id_("Transfer(address,address,uint256)");
  const escrowTopic = zeroPadValue(address, 32).toLowerCase();
  for await (const logs of scanLogs({ provider, address, topics, indexed: [id], fromBlock, toBlock })) {
    for (const log of logs) {
      const parsed = escrow.interface.parseLog(log);
      if (!parsed) continue;
      const e: PaymentEvent = { name: parsed.name as PaymentEvent["name"], blockNumber: log.blockNumber, transactionHash: log.transactionHash };
      const a = parsed.args as unknown as Record<string, unknown>;
      if (typeof a.by === "string") e.by = a.by;
      if (parsed.name === "PaymentFunded") e.by = a.payer as string;
      if (parsed.name === "PaymentRuled") {
        e.by = a.arbiter as string;
        e.payerShareBps = Number(a.payerShareBps);
      }
      if (typeof a.amount === "bigint") e.amount = a.amount;
      if (typeof a.fee === "bigint") e.fee = a.fee;
      if (parsed.name === "PayoutCredited") e.account = a.account as string;
      events.push(e);
    }
  }
  // A ruling releases and refunds in one transaction: its transfers are listed once, on its last such event.
  const moving = events.filter((e) => e.name === "PaymentReleased" || e.name === "PaymentRefunded");
  for (const [i, e] of moving.entries()) {
    if (moving[i + 1]?.transactionHash === e.transactionHash) continue;
    const receipt = await provider.getTransactionReceipt(e.transactionHash);
    e.transfers = (receipt?.logs ?? [])
      .filter((l) => l.address.toLowerCase() === payment.token.toLowerCase() && l.topics[0] === transferTopic && l.topics[1].toLowerCase() === escrowTopic)
      .map((l) => ({ to: getAddress("0x" + l.topics[2].slice(26)), amount: BigInt(l.data) }));
  }
  return events;
}
