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
  let verified: VerifyResponse;
  let settlement: SettleResponse;
  try {
    verified = await o.facilitator.verify(o.payment, o.requirements);
    const recovering = !verified.isValid && verified.invalidReason === REASON.nonceAlreadyUsed && o.served.durable;
    if (!verified.isValid && !recovering)
      return { kind: "refused", reason: `${verified.invalidReason}${verified.invalidMessage ? `: ${verified.invalidMessage}` : ""}` };
    settlement = await o.facilitator.settle(o.payment, o.requirements);
    if (!settlement.success && recovering)
      return { kind: "refused", reason: `${REASON.nonceAlreadyUsed}${verified.invalidMessage ? `: ${verified.invalidMessage}` : ""}` };
  } catch (error) {
    return {
      kind: "unknown",
      message: `the payment facilitator could not be reached (${why(error)}); the payment may have been settled: present the same payment again, it is never charged twice`,
    };
  }
  if (!settlement.success)
    return { kind: "failed", reason: `${settlement.errorReason}${settlement.errorMessage ? `: ${settlement.errorMessage}` : ""}`, settlement };
  try {
    if (!(await o.served.take({ ...id, route: o.route, transaction: settlement.transaction }))) return usedAlready;
  } catch (error) {
    return { kind: "unknown", message: `the payment was settled but could not be recorded (${why(error)}); present the same payment again` };
  }
  return { kind: "settled", settlement, served: () => o.served.served(id).catch(() => undefined) };
}
