import { z } from "zod";

/**
 * The AP2 v0.2 mandates as zod schemas, written field by field from the JSON schemas in the AP2 repository
 * (`code/sdk/schemas/ap2/{checkout_mandate,open_checkout_mandate,payment_mandate,open_payment_mandate}.json` and
 * `types/payment_instrument.json`). Objects the JSON schemas leave open (`additionalProperties` unset) stay open
 * here (`passthrough`), so a document another implementation wrote with more fields still parses.
 *
 * `types/merchant.json` and `types/amount.json` are referenced but not published beside them; Merchant follows the
 * examples of `docs/ap2/payment_mandate.md` (`id`, `name`, `website`) and Amount the descriptions in the payment
 * mandate schema (`amount`: integer minor units per ISO 4217, `currency`: ISO 4217 code).
 */

/** A Unix time in whole seconds. */
const unixSeconds = z.number().int().nonnegative();
const currency = z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 alpha-3 code, e.g. USD");

export const MerchantSchema = z
  .object({
    id: z.string().min(1).optional(),
    name: z.string().min(1),
    website: z.string().url().optional(),
  })
  .passthrough();
export type Merchant = z.infer<typeof MerchantSchema>;

export const AmountSchema = z.object({ amount: z.number().int().nonnegative(), currency }).passthrough();
export type Amount = z.infer<typeof AmountSchema>;

export const PaymentInstrumentSchema = z.object({ id: z.string().min(1), type: z.string().min(1), description: z.string().optional() }).passthrough();
export type PaymentInstrument = z.infer<typeof PaymentInstrumentSchema>;

export const PispSchema = z.object({ legal_name: z.string().optional(), brand_name: z.string().optional(), domain_name: z.string().optional() }).passthrough();

/** RFC 7800 `cnf`: AP2 binds the next hop's key as `cnf.jwk` (an EC P-256 key for ES256). */
export const CnfSchema = z
  .object({ jwk: z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string().min(1), y: z.string().min(1) }).passthrough() })
  .passthrough();

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO 8601 date, e.g. 2026-12-31T23:59:59Z");

// --- payment constraints (open_payment_mandate.json $defs) ---
export const AgentRecurrenceSchema = z
  .object({
    type: z.literal("payment.agent_recurrence"),
    frequency: z.enum(["ON_DEMAND", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "ANNUALLY"]),
    max_occurrences: z.number().int().positive().optional(),
  })
  .passthrough();
export const AllowedPayeesSchema = z.object({ type: z.literal("payment.allowed_payees"), allowed: z.array(MerchantSchema) }).passthrough();
export const AllowedPaymentInstrumentsSchema = z
  .object({ type: z.literal("payment.allowed_payment_instruments"), allowed: z.array(PaymentInstrumentSchema) })
  .passthrough();
export const AllowedPispsSchema = z.object({ type: z.literal("payment.allowed_pisps"), allowed: z.array(PispSchema) }).passthrough();
export const AmountRangeSchema = z
  .object({
    type: z.literal("payment.amount_range"),
    currency,
    /** Minor units (cents for USD). */
    max: z.number().int().nonnegative(),
    min: z.number().int().nonnegative().optional(),
  })
  .passthrough();
export const BudgetSchema = z
  .object({
    type: z.literal("payment.budget"),
    /** MAJOR units (5.5 is $5.50), unlike amount_range. */
    max: z.number().nonnegative(),
    currency,
  })
  .passthrough();
export const ExecutionDateSchema = z
  .object({ type: z.literal("payment.execution_date"), not_before: isoDate.optional(), not_after: isoDate.optional() })
  .passthrough();
export const PaymentReferenceSchema = z.object({ type: z.literal("payment.reference"), conditional_transaction_id: z.string().min(1) }).passthrough();

export const PaymentConstraintSchema = z.discriminatedUnion("type", [
  AgentRecurrenceSchema,
  AllowedPayeesSchema,
  AllowedPaymentInstrumentsSchema,
  AllowedPispsSchema,
  AmountRangeSchema,
  BudgetSchema,
  ExecutionDateSchema,
  PaymentReferenceSchema,
]);
export type PaymentConstraint = z.infer<typeof PaymentConstraintSchema>;

// --- checkout constraints (open_checkout_mandate.json $defs) ---
export const ItemSchema = z.object({ id: z.string().min(1), title: z.string().min(1) }).passthrough();
export const LineItemRequirementSchema = z
  .object({ id: z.string().min(1), acceptable_items: z.array(ItemSchema), quantity: z.number().int().positive() })
  .passthrough();
export const AllowedMerchantsSchema = z.object({ type: z.literal("checkout.allowed_merchants"), allowed: z.array(MerchantSchema) }).passthrough();
export const LineItemsSchema = z.object({ type: z.literal("checkout.line_items"), items: z.array(LineItemRequirementSchema).min(1) }).passthrough();
export const CheckoutConstraintSchema = z.discriminatedUnion("type", [AllowedMerchantsSchema, LineItemsSchema]);
export type CheckoutConstraint = z.infer<typeof CheckoutConstraintSchema>;

// --- the four mandates ---
export const CheckoutMandateSchema = z
  .object({
    vct: z.literal("mandate.checkout.1"),
    checkout_jwt: z.string().min(1),
    checkout_hash: z.string().min(1),
    iat: unixSeconds.optional(),
    exp: unixSeconds.optional(),
  })
  .passthrough();
export type CheckoutMandate = z.infer<typeof CheckoutMandateSchema>;

export const OpenCheckoutMandateSchema = z
  .object({
    vct: z.literal("mandate.checkout.open.1"),
    constraints: z
      .array(CheckoutConstraintSchema)
      .refine((c) => c.some((x) => x.type === "checkout.line_items"), "must contain a checkout.line_items constraint"),
    cnf: CnfSchema,
    iat: unixSeconds.optional(),
    exp: unixSeconds.optional(),
  })
  .passthrough();
export type OpenCheckoutMandate = z.infer<typeof OpenCheckoutMandateSchema>;

const paymentFields = {
  payee: MerchantSchema,
  pisp: PispSchema.optional(),
  payment_amount: AmountSchema,
  payment_instrument: PaymentInstrumentSchema,
  execution_date: isoDate.optional(),
  risk_data: z.record(z.unknown()).optional(),
  iat: unixSeconds.optional(),
  exp: unixSeconds.optional(),
};

export const PaymentMandateSchema = z.object({ vct: z.literal("mandate.payment.1"), transaction_id: z.string().min(1), ...paymentFields }).passthrough();
export type PaymentMandate = z.infer<typeof PaymentMandateSchema>;

export const OpenPaymentMandateSchema = z
  .object({
    vct: z.literal("mandate.payment.open.1"),
    // The JSON schema's `contains` asks for a payment.reference (to an open checkout mandate); a payment mandate for
    // x402, where the 402 offer is the checkout, has none to point to, so it is optional here (see docs/agents.md).
    constraints: z.array(PaymentConstraintSchema),
    cnf: CnfSchema,
    payee: MerchantSchema.optional(),
    payment_amount: AmountSchema.optional(),
    payment_instrument: PaymentInstrumentSchema.optional(),
    pisp: PispSchema.optional(),
    execution_date: isoDate.optional(),
    risk_data: z.record(z.unknown()).optional(),
    iat: unixSeconds.optional(),
    exp: unixSeconds.optional(),
  })
  .passthrough();
export type OpenPaymentMandate = z.infer<typeof OpenPaymentMandateSchema>;

export const MANDATE_SCHEMAS = {
  "mandate.checkout.1": CheckoutMandateSchema,
  "mandate.checkout.open.1": OpenCheckoutMandateSchema,
  "mandate.payment.1": PaymentMandateSchema,
  "mandate.payment.open.1": OpenPaymentMandateSchema,
} as const;
export type MandateType = keyof typeof MANDATE_SCHEMAS;
export type AnyMandate = CheckoutMandate | OpenCheckoutMandate | PaymentMandate | OpenPaymentMandate;
