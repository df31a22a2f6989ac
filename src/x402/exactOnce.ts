/**
 * An `exact` payment taken for one piece of work (an MCP tool call, an A2A task), whatever the transport: verified,
 * settled, and taken in {@link ServedPayments} so that the work is done once. A payment settled whose answer was lost
 * (the facilitator's reply dropped, the process stopped before the work) does its work when presented again: /verify
 * then says its nonce is used, the facilitator's settle answers the settlement it already made, and the payment is
 * taken if its work was never handed back. That recovery needs the record of what was served to be durable: with
 * ServedPayments in memory, a nonce used on chain stays refused (a restart would otherwise serve a replay again).
 */
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import type { FacilitatorLike } from "./paywall";
import { REASON } from "./reasons";
import type { ServedPayments } from "./served";

export type ExactOutcome =
  /** Nothing was taken: ask for payment again, with this reason (the reference's words first). */
  | { kind: "refused"; reason: string }
  /** The settlement failed: nothing moved. */
  | { kind: "failed"; reason: string; settlement: SettleResponse }
  /** Not known yet (the facilitator or the database could not be reached): present the same payment again. */
  | { kind: "unknown"; message: string }
  /** Paid and taken: do the work, hand it back, then call `served()` (from then on the payment is a replay). */
  | { kind: "settled"; settlement: SettleResponse; served(): Promise<void> };

const why = (error: unknown) => (error instanceof Error ? error.message.split("\n")[0] : String(error));

/** What the facilitator said of an exact payment: valid, refused (its reason first), or nothing (it could not be reached). */
export type ExactVerification =
  /** `reason` in words, its reference reason string first; `code` that string alone. */
  | { kind: "refused"; reason: string; code: string }
  | { kind: "down"; error: unknown }
  /**
   * Valid; or, with `recovering`, its nonce is already used on chain and it may be this payment's own earlier
   * settlement (whose answer was lost): the facilitator's idempotent settle then answers it, or refuses it.
   */
  | { kind: "valid"; recovering: boolean; message?: string };

/**
 * Verifies an exact payment with the facilitator. A facilitator that refuses by throwing (the reference HTTP client
 * throws `VerifyError` with `invalidReason` for a 4xx answer) is a refusal, not an outage. `recover` says whether a
 * used nonce may be recovered (see the module's comment).
 */
export async function verifyExact(
  facilitator: FacilitatorLike,
  payment: PaymentPayload,
  requirements: PaymentRequirements,
  recover: boolean,
): Promise<ExactVerification> {
  let verified: VerifyResponse;
  try {
    verified = await facilitator.verify(payment, requirements);
  } catch (error) {
    const { invalidReason, invalidMessage } = error as { invalidReason?: string; invalidMessage?: string };
    if (!invalidReason) return { kind: "down", error };
    verified = { isValid: false, invalidReason, invalidMessage };
  }
  const message = verified.invalidMessage ? `: ${verified.invalidMessage}` : "";
  if (verified.isValid) return { kind: "valid", recovering: false };
  if (verified.invalidReason === REASON.nonceAlreadyUsed && recover) return { kind: "valid", recovering: true, message: verified.invalidMessage };
  const code = verified.invalidReason ?? REASON.unexpectedVerifyError;
  return { kind: "refused", reason: `${code}${message}`, code };
}

/**
 * Settles an exact payment with the facilitator: its answer (a facilitator that refuses by throwing `SettleError` with
 * `errorReason` answers a failure: nothing moved), or `down` when it could not be reached (the payment may have been
 * settled).
 */
export async function settleExact(
  facilitator: FacilitatorLike,
  payment: PaymentPayload,
  requirements: PaymentRequirements,
): Promise<{ kind: "answer"; response: SettleResponse } | { kind: "down"; error: unknown }> {
  try {
    return { kind: "answer", response: await facilitator.settle(payment, requirements) };
  } catch (error) {
    const { errorReason, errorMessage } = error as { errorReason?: string; errorMessage?: string };
    if (errorReason) return { kind: "answer", response: { success: false, errorReason, errorMessage, transaction: "", network: requirements.network } };
    return { kind: "down", error };
  }
}

/** Verifies, settles and takes `payment` for the work at `route` (see the module's comment); never throws. */
export async function settleExactOnce(o: {
  facilitator: FacilitatorLike;
  served: ServedPayments;
  payment: PaymentPayload;
  requirements: PaymentRequirements;
  route: string;
}): Promise<ExactOutcome> {
  const auth = (o.payment.payload as { authorization?: { from?: unknown; nonce?: unknown; validBefore?: unknown } }).authorization;
  const id = {
    network: o.requirements.network,
    payer: String(auth?.from ?? ""),
    nonce: String(auth?.nonce ?? ""),
    validBefore: BigInt(/^\d+$/.test(String(auth?.validBefore ?? "")) ? String(auth!.validBefore) : "0"),
  };
  const usedAlready = { kind: "refused", reason: `${REASON.nonceAlreadyUsed}: this payment was already used` } as const;
  try {
    if (await o.served.wasServed(id)) return usedAlready;
  } catch (error) {
    return { kind: "unknown", message: `what was served could not be read (${why(error)}); nothing was charged; present the same payment again` };
  }
  const down = (error: unknown): ExactOutcome => ({
    kind: "unknown",
    message: `the payment facilitator could not be reached (${why(error)}); the payment may have been settled: present the same payment again, it is never charged twice`,
  });
  // In memory, a used nonce stays refused: a restart (or a stateless server) would otherwise serve a replay again.
  const verified = await verifyExact(o.facilitator, o.payment, o.requirements, o.served.durable);
  if (verified.kind === "refused") return { kind: "refused", reason: verified.reason };
  if (verified.kind === "down") return down(verified.error);
  const settled = await settleExact(o.facilitator, o.payment, o.requirements);
  if (settled.kind === "down") return down(settled.error);
  const settlement = settled.response;
  if (!settlement.success && verified.recovering)
    return { kind: "refused", reason: `${REASON.nonceAlreadyUsed}${verified.message ? `: ${verified.message}` : ""}` };
  if (!settlement.success)
    return { kind: "failed", reason: `${settlement.errorReason}${settlement.errorMessage ? `: ${settlement.errorMessage}` : ""}`, settlement };
  try {
    if (!(await o.served.take({ ...id, route: o.route, transaction: settlement.transaction }))) return usedAlready;
  } catch (error) {
    return { kind: "unknown", message: `the payment was settled but could not be recorded (${why(error)}); present the same payment again` };
  }
  return { kind: "settled", settlement, served: () => o.served.served(id).catch(() => undefined) };
}
