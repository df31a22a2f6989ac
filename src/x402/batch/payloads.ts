/**
 * zod schemas of the `batch-settlement` payloads (as the reference client and server send them): every field is
 * checked at the boundary, amounts are decimal strings of base units, addresses 20 bytes of hex, ids 32.
 */
import { z } from "zod";
import type { ChannelConfig, VoucherClaim } from "./channel";

const hex = (bytes: number, what: string) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `not ${what}`);
const address = hex(20, "an address");
const bytes32 = hex(32, "32 bytes of hex");
const signature = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "not a hex signature");
/** A non-negative whole number of base units below 2^128, as a decimal string. */
const uint128 = z
  .string()
  .regex(/^\d{1,39}$/, "not a whole number of base units")
  .refine((v) => !/^\d{1,39}$/.test(v) || BigInt(v) < 2n ** 128n, "above 2^128 - 1");

export const ChannelConfigSchema = z.object({
  payer: address,
  payerAuthorizer: address,
  receiver: address,
  receiverAuthorizer: address,
  token: address,
  withdrawDelay: z
    .number()
    .int()
    .nonnegative()
    .lt(2 ** 40),
  salt: bytes32,
});

export const VoucherSchema = z.object({ channelId: bytes32, maxClaimableAmount: uint128, signature });

export const DepositPayloadSchema = z.object({
  type: z.literal("deposit"),
  channelConfig: ChannelConfigSchema,
  voucher: VoucherSchema,
  deposit: z.object({
    amount: uint128.refine((v) => !/^\d+$/.test(v) || BigInt(v) > 0n, "a deposit must be more than zero"),
    authorization: z.object({
      erc3009Authorization: z
        .object({
          validAfter: z.string().regex(/^\d+$/, "not a whole number"),
          validBefore: z.string().regex(/^\d+$/, "not a whole number"),
          salt: bytes32,
          signature,
        })
        .optional(),
      permit2Authorization: z.unknown().optional(),
    }),
  }),
});

export const VoucherPayloadSchema = z.object({ type: z.literal("voucher"), channelConfig: ChannelConfigSchema, voucher: VoucherSchema });

const ClaimRowSchema = z.object({
  voucher: z.object({ channel: ChannelConfigSchema, maxClaimableAmount: uint128 }),
  signature,
  totalClaimed: uint128,
});

export const ClaimPayloadSchema = z.object({
  type: z.literal("claim"),
  claims: z.array(ClaimRowSchema).min(1, "a claim needs at least one row"),
  claimAuthorizerSignature: signature.optional(),
});

export const SettlePayloadSchema = z.object({ type: z.literal("settle"), receiver: address, token: address });

/** A refund request as the client sends it (`amount` absent: refund everything unclaimed). */
export const RefundPayloadSchema = z.object({
  type: z.literal("refund"),
  channelConfig: ChannelConfigSchema,
  voucher: VoucherSchema,
  amount: uint128.optional(),
});

/** A refund as the server completes it for settlement: nonce, the claims to land first, the authorizer's signatures. */
export const EnrichedRefundPayloadSchema = RefundPayloadSchema.extend({
  amount: uint128,
  refundNonce: z.string().regex(/^\d+$/, "not a whole number"),
  claims: z.array(ClaimRowSchema),
  refundAuthorizerSignature: signature.optional(),
  claimAuthorizerSignature: signature.optional(),
});

export type DepositPayload = z.infer<typeof DepositPayloadSchema>;
export type VoucherPayload = z.infer<typeof VoucherPayloadSchema>;
export type RefundPayload = z.infer<typeof RefundPayloadSchema>;
export type EnrichedRefundPayload = z.infer<typeof EnrichedRefundPayloadSchema>;
export type ClaimPayload = z.infer<typeof ClaimPayloadSchema>;
export type SettlePayload = z.infer<typeof SettlePayloadSchema>;
export type ClaimRow = z.infer<typeof ClaimRowSchema>;

/** A {@link VoucherClaim} as a claim row of a payload (amounts as decimal strings). */
export function toClaimRow(c: VoucherClaim): ClaimRow {
  return {
    voucher: { channel: c.channel, maxClaimableAmount: c.maxClaimableAmount.toString() },
    signature: c.signature,
    totalClaimed: c.totalClaimed.toString(),
  };
}

/** A claim row of a payload as the library's {@link VoucherClaim}. */
export function toVoucherClaim(row: ClaimRow): VoucherClaim {
  return {
    channel: row.voucher.channel as ChannelConfig,
    maxClaimableAmount: BigInt(row.voucher.maxClaimableAmount),
    signature: row.signature,
    totalClaimed: BigInt(row.totalClaimed),
  };
}

/**
 * The requirements of a batch-settlement request. Looser than the core schema in one place: the reference channel
 * manager sends its claim, settle and refund requests with `maxTimeoutSeconds: 0` and an empty `extra`.
 */
export const BatchRequirementsSchema = z.object({
  scheme: z.string(),
  network: z.string().regex(/^eip155:\d+$/, "not an eip155 network"),
  asset: address,
  amount: z.string().regex(/^\d+$/, "not a whole number of base units"),
  payTo: address,
  maxTimeoutSeconds: z.number().int().nonnegative(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

/** The x402 v2 envelope of a batch-settlement request. */
export const BatchPaymentSchema = z.object({
  x402Version: z.literal(2),
  resource: z.unknown().optional(),
  accepted: BatchRequirementsSchema,
  payload: z.record(z.string(), z.unknown()),
  extensions: z.unknown().optional(),
});
