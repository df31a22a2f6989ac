import { randomBytes } from "node:crypto";
import { TypedDataEncoder, getAddress, hexlify, isHexString, type TypedDataDomain, type TypedDataField } from "ethers";
import { z } from "zod";
import type { IConditionalEscrow } from "../../typechain-types";
import { InvalidInputError, describeIssues } from "../errors";

/** What happens to money still held when nobody acts before the deadline (the contract's `Outcome`). */
export enum Outcome {
  Refund = 0,
  Release = 1,
}

/** The contract's `Status`. */
export enum PaymentStatus {
  None = 0,
  Funded = 1,
  Disputed = 2,
  Settled = 3,
}

export interface Payee {
  account: string;
  shareBps: number;
}

/** The terms of an escrowed payment (see IConditionalEscrow.Payment); amounts in base units, times in Unix seconds. */
export interface Payment {
  payer: string;
  token: string;
  amount: bigint;
  payees: Payee[];
  operator: string;
  verifier: string;
  arbiter: string;
  minFeeBps: number;
  maxFeeBps: number;
  feeReceiver: string;
  fundBy: bigint;
  confirmBy: bigint;
  disputeWindow: bigint;
  refundBy: bigint;
  defaultOutcome: Outcome;
  salt: bigint;
}

export const MAX_PAYEES = 10;
const ZERO = "0x0000000000000000000000000000000000000000";

/** The escrow's EIP-712 types: the payment id is the typed-data hash of a `Payment`. */
export const PAYMENT_TYPES: Record<string, TypedDataField[]> = {
  Payment: [
    { name: "payer", type: "address" },
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "payees", type: "Payee[]" },
    { name: "operator", type: "address" },
    { name: "verifier", type: "address" },
    { name: "arbiter", type: "address" },
    { name: "minFeeBps", type: "uint16" },
    { name: "maxFeeBps", type: "uint16" },
    { name: "feeReceiver", type: "address" },
    { name: "fundBy", type: "uint48" },
    { name: "confirmBy", type: "uint48" },
    { name: "disputeWindow", type: "uint48" },
    { name: "refundBy", type: "uint48" },
    { name: "defaultOutcome", type: "uint8" },
    { name: "salt", type: "uint256" },
  ],
  Payee: [
    { name: "account", type: "address" },
    { name: "shareBps", type: "uint16" },
  ],
};

/** The verifier's signed confirmation of delivery. */
export const RECEIPT_TYPES: Record<string, TypedDataField[]> = {
  DeliveryReceipt: [{ name: "paymentId", type: "bytes32" }],
};

/** The escrow's EIP-712 domain. */
export function escrowDomain(escrow: string, chainId: bigint): TypedDataDomain {
  return { name: "NET Dollar Escrow", version: "1", chainId, verifyingContract: escrow };
}

/** The payment id, computed off-chain exactly as the contract does. */
export function paymentId(payment: Payment, escrow: string, chainId: bigint): string {
  return TypedDataEncoder.hash(escrowDomain(escrow, chainId), PAYMENT_TYPES, payment);
}

/** The struct as typechain's `IConditionalEscrow.PaymentStruct`. */
export function toStruct(payment: Payment): IConditionalEscrow.PaymentStruct {
  return { ...payment, payees: payment.payees.map((p) => ({ ...p })) };
}

/** A random 256-bit salt. */
export function randomSalt(): bigint {
  return BigInt(hexlify(randomBytes(32)));
}

/** Parameters of {@link buildPayment}: the terms, with defaults for everything optional. */
export interface BuildPaymentParameters {
  payer: string;
  token: string;
  amount: bigint;
  /** Payees with shares; shares may be omitted to split equally (dust to the first). */
  payees: (string | Payee)[];
  operator?: string;
  verifier?: string;
  arbiter?: string;
  minFeeBps?: number;
  maxFeeBps?: number;
  feeReceiver?: string;
  /** Unix seconds now (default: the local clock). */
  now?: bigint;
  /** Seconds from now: to fund (default 1 hour), to confirm (default 1 day), of the dispute window (default 1 day),
   * and until refunds close (default 30 days after the dispute window). */
  fundWithin?: bigint;
  confirmWithin?: bigint;
  disputeWindow?: bigint;
  refundWithin?: bigint;
  defaultOutcome?: Outcome;
  salt?: bigint;
}

/**
 * Builds payment terms with sensible defaults and checks them as the contract will (so mistakes are caught before
 * anyone signs).
 *
 * @example
 * const payment = buildPayment({ payer, token, amount: 100_000_000n, payees: [a, b, c], verifier });
 */
export function buildPayment(params: BuildPaymentParameters): Payment {
  const now = params.now ?? BigInt(Math.floor(Date.now() / 1000));
  const equal = params.payees.every((p) => typeof p === "string");
  const n = params.payees.length;
  const payees: Payee[] = params.payees.map((p, i) =>
    typeof p === "string"
      ? { account: p, shareBps: equal ? Math.floor(10_000 / n) + (i === 0 ? 10_000 % n : 0) : 0 }
      : { account: p.account, shareBps: p.shareBps },
  );
  const fundBy = now + (params.fundWithin ?? 3600n);
  const confirmBy = fundBy + (params.confirmWithin ?? 86_400n);
  const disputeWindow = params.disputeWindow ?? 86_400n;
  const refundBy = confirmBy + disputeWindow + (params.refundWithin ?? 30n * 86_400n);
  const payment: Payment = {
    payer: params.payer,
    token: params.token,
    amount: params.amount,
    payees,
    operator: params.operator ?? ZERO,
    verifier: params.verifier ?? ZERO,
    arbiter: params.arbiter ?? ZERO,
    minFeeBps: params.minFeeBps ?? 0,
    maxFeeBps: params.maxFeeBps ?? params.minFeeBps ?? 0,
    feeReceiver: params.feeReceiver ?? ZERO,
    fundBy,
    confirmBy,
    disputeWindow,
    refundBy,
    defaultOutcome: params.defaultOutcome ?? Outcome.Refund,
    salt: params.salt ?? randomSalt(),
  };
  validatePayment(payment);
  return payment;
}

/** Checks terms as the contract does at funding, with messages that name the field. */
export function validatePayment(p: Payment): void {
  if (p.payer === ZERO) throw new InvalidInputError("payer is the zero address");
  if (p.token === ZERO) throw new InvalidInputError("token is the zero address");
  if (p.amount <= 0n) throw new InvalidInputError("amount must be positive");
  if (p.amount >= 2n ** 120n) throw new InvalidInputError(`amount ${p.amount} is above 2^120 - 1 base units`);
  if (p.payees.length === 0 || p.payees.length > MAX_PAYEES) {
    throw new InvalidInputError(`${p.payees.length} payees; between 1 and ${MAX_PAYEES} are allowed`);
  }
  let total = 0;
  p.payees.forEach((payee, i) => {
    if (payee.account === ZERO) throw new InvalidInputError(`payee ${i + 1} is the zero address`);
    if (!Number.isInteger(payee.shareBps) || payee.shareBps <= 0) throw new InvalidInputError(`payee ${i + 1} has no share`);
    total += payee.shareBps;
  });
  if (total !== 10_000) throw new InvalidInputError(`payee shares sum to ${total} basis points, not 10,000`);
  if (p.minFeeBps > p.maxFeeBps || p.maxFeeBps > 10_000) {
    throw new InvalidInputError(`fee bounds ${p.minFeeBps}-${p.maxFeeBps} bps are not 0 <= min <= max <= 10,000`);
  }
  if (p.maxFeeBps > 0 && p.feeReceiver === ZERO) throw new InvalidInputError("a fee is possible but no fee receiver is named");
  if (p.fundBy > p.confirmBy || p.confirmBy + p.disputeWindow > p.refundBy) {
    throw new InvalidInputError("deadlines must be ordered: fundBy <= confirmBy and confirmBy + disputeWindow <= refundBy");
  }
}

const address = z
  .string()
  .refine((v): boolean => isHexString(v, 20), "not an address")
  .transform((v) => getAddress(v.toLowerCase()));
const uint = z.string().regex(/^\d+$/, "must be a whole number in a decimal string");

/** The JSON form of a payment, as `netd escrow create` writes it: bigints as decimal strings. */
export const PaymentDocumentSchema = z.object({
  type: z.literal("netd/escrow-payment"),
  version: z.literal(1),
  chainId: uint,
  escrow: address,
  id: z.string().refine((v): boolean => isHexString(v, 32), "not a 32-byte id"),
  payment: z.object({
    payer: address,
    token: address,
    amount: uint,
    payees: z.array(z.object({ account: address, shareBps: z.number().int() })),
    operator: address,
    verifier: address,
    arbiter: address,
    minFeeBps: z.number().int().min(0).max(10_000),
    maxFeeBps: z.number().int().min(0).max(10_000),
    feeReceiver: address,
    fundBy: uint,
    confirmBy: uint,
    disputeWindow: uint,
    refundBy: uint,
    defaultOutcome: z.enum(["refund", "release"]),
    salt: uint,
  }),
});
export type PaymentDocument = z.infer<typeof PaymentDocumentSchema>;

/** Writes a payment as a document that names its escrow, chain and id. */
export function toPaymentDocument(payment: Payment, escrow: string, chainId: bigint): PaymentDocument {
  const s = (v: bigint) => v.toString();
  return {
    type: "netd/escrow-payment",
    version: 1,
    chainId: s(chainId),
    escrow: getAddress(escrow),
    id: paymentId(payment, escrow, chainId),
    payment: {
      ...payment,
      amount: s(payment.amount),
      fundBy: s(payment.fundBy),
      confirmBy: s(payment.confirmBy),
      disputeWindow: s(payment.disputeWindow),
      refundBy: s(payment.refundBy),
      defaultOutcome: payment.defaultOutcome === Outcome.Release ? "release" : "refund",
      salt: s(payment.salt),
    },
  };
}

/** Reads a payment document, checks its terms and that its id matches them. */
export function fromPaymentDocument(json: unknown, source = "payment"): { payment: Payment; escrow: string; chainId: bigint; id: string } {
  const parsed = PaymentDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, "(document)");
    throw new InvalidInputError(`${source} is not a valid payment document`, { details: issues });
  }
  const d = parsed.data;
  const payment: Payment = {
    ...d.payment,
    amount: BigInt(d.payment.amount),
    fundBy: BigInt(d.payment.fundBy),
    confirmBy: BigInt(d.payment.confirmBy),
    disputeWindow: BigInt(d.payment.disputeWindow),
    refundBy: BigInt(d.payment.refundBy),
    defaultOutcome: d.payment.defaultOutcome === "release" ? Outcome.Release : Outcome.Refund,
    salt: BigInt(d.payment.salt),
  };
  validatePayment(payment);
  const chainId = BigInt(d.chainId);
  const id = paymentId(payment, d.escrow, chainId);
  if (id !== d.id) throw new InvalidInputError(`${source}: its id ${d.id} does not match its terms (${id}); was it edited?`);
  return { payment, escrow: d.escrow, chainId, id };
}

/** A signature over a payment, as `netd escrow sign-funding` and `sign-receipt` write it. */
export const SignedPaymentDocumentSchema = z.object({
  type: z.enum(["netd/escrow-funding", "netd/escrow-receipt"]),
  version: z.literal(1),
  id: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not a payment id (32 bytes of hex)"),
  signature: z.string().regex(/^0x([0-9a-fA-F]{2}){64,}$/, "not a hex signature"),
});
export type SignedPaymentDocument = z.infer<typeof SignedPaymentDocumentSchema>;

/**
 * Reads a signed funding authorization or delivery receipt from `text` (the file's contents), checked field by field
 * and against the payment it must be for; every problem is an {@link InvalidInputError} that names it.
 */
export function parseSignedPaymentDocument(
  text: string,
  expected: { type: SignedPaymentDocument["type"]; id: string },
  source = "document",
): SignedPaymentDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${source} is not JSON`, {
      details: `expected the output of netd escrow ${expected.type === "netd/escrow-funding" ? "sign-funding" : "sign-receipt"}`,
    });
  }
  const parsed = SignedPaymentDocumentSchema.safeParse(json);
  if (!parsed.success) throw new InvalidInputError(`${source} is not a signed escrow document: ${describeIssues(parsed.error, "(document)")}`);
  const doc = parsed.data;
  if (doc.type !== expected.type) throw new InvalidInputError(`${source} is a ${doc.type}, not a ${expected.type}`);
  if (doc.id.toLowerCase() !== expected.id.toLowerCase()) throw new InvalidInputError(`${source} is for payment ${doc.id}, not ${expected.id}`);
  return doc;
}
