/**
 * Selling by AP2 checkout, whatever carries the offer (an HTTP route, an MCP tool, an A2A skill): the merchant signs a
 * checkout for each order (its merchant, one line item, the total) and offers it beside its x402 terms
 * (`extensions["ap2-checkout"].checkout_jwt`); a payment is then taken only under a checkout mandate closed for a
 * checkout the merchant signed, for this item and amount, and each checkout is paid once
 * ({@link ServedPayments.claimCheckout}).
 */
import { randomUUID } from "node:crypto";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { formatAmount } from "../amounts";
import { InvalidInputError } from "../errors";
import { AP2_CHECKOUT_EXTENSION, signCheckout } from "../ap2/checkout";
import { payeeOf, toMinorUnits, type OfferedCheckout, type PaidCheckout } from "../ap2/mandates";
import { publicJwkOf, type PrivateJwk } from "../ap2/sdjwt";
import type { ServedPayments } from "./served";

/** A merchant that sells by checkout: its key signs each order's checkout; `item` the line item (default the offer's). */
export interface CheckoutSale {
  key: PrivateJwk;
  merchant: { name: string; website?: string };
  item?: { id: string; title: string };
  /** How long a checkout is valid (default 900 s). */
  ttlSeconds?: number;
}

/**
 * The exact offer a checkout is signed for. A checkout is paid by one exact payment of its total, in whole cents (AP2
 * amounts are minor units): throws, naming `what`, when `offers` has another scheme or the price is not whole cents.
 */
export function checkoutOfferOf(what: string, offers: PaymentRequirements[]): PaymentRequirements {
  const other = offers.find((o) => o.scheme !== "exact");
  if (other) throw new InvalidInputError(`${what}: a checkout is paid by exact payments only, so it cannot also offer ${other.scheme}`);
  const exact = offers[0];
  if (toMinorUnits(BigInt(exact.amount)) === undefined)
    throw new InvalidInputError(`${what}: its price $${formatAmount(BigInt(exact.amount))} is not whole cents, which a checkout prices in`);
  return exact;
}

/** Signs the checkout of one order (`orderId`) for the exact offer `exact` (see {@link checkoutOfferOf}). */
export async function signSaleCheckout(
  sale: CheckoutSale,
  exact: PaymentRequirements,
  orderId: string,
  item: { id: string; title: string },
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  const total = toMinorUnits(BigInt(exact.amount))! / 100;
  const product = sale.item ?? item;
  return signCheckout(
    {
      order_id: orderId,
      merchant: payeeOf(exact.network, exact.payTo, sale.merchant.name, sale.merchant.website),
      line_items: [{ id: "line_1", product: { ...product, price: total, currency: "USD" }, quantity: 1 }],
      total_price: total,
      currency: "USD",
      iat: now,
      exp: now + (sale.ttlSeconds ?? 900),
    },
    sale.key,
  );
}

/** The terms `required` with the checkout `jwt` offered beside them. */
export function withCheckoutOffered(required: PaymentRequired, jwt: string): PaymentRequired {
  return { ...required, extensions: { ...required.extensions, [AP2_CHECKOUT_EXTENSION]: { checkout_jwt: jwt } } };
}

/**
 * One offer sold by checkout where there is no task to tie an order to (an HTTP route, an MCP tool): every
 * PaymentRequired offers a new checkout (a new order), and each checkout is paid once.
 */
export class CheckoutDesk {
  readonly expected: OfferedCheckout;
  private readonly exact: PaymentRequirements;

  /** Throws, naming `what`, when the offers cannot be sold by checkout (see {@link checkoutOfferOf}). */
  constructor(
    what: string,
    private readonly sale: CheckoutSale,
    offers: PaymentRequirements[],
    private readonly item: { id: string; title: string },
  ) {
    this.exact = checkoutOfferOf(what, offers);
    this.expected = { merchantKey: publicJwkOf(sale.key), itemId: (sale.item ?? item).id };
  }

  /** `required` with a new checkout offered beside it. */
  async offer(required: PaymentRequired): Promise<PaymentRequired> {
    return withCheckoutOffered(required, await signSaleCheckout(this.sale, this.exact, randomUUID(), this.item));
  }

  /**
   * Claims the checkout `paid` for `payment` before it is settled (see {@link ServedPayments.claimCheckout}): undefined
   * when it may be settled, else why not. Throws when the record cannot be read or written.
   */
  async claim(served: ServedPayments, paid: PaidCheckout, payment: PaymentPayload, network: string): Promise<string | undefined> {
    const auth = (payment.payload as { authorization?: { from?: unknown; nonce?: unknown } }).authorization;
    const claimed = await served.claimCheckout(
      { hash: paid.hash, orderId: paid.checkout.order_id, exp: paid.checkout.exp },
      { network, payer: String(auth?.from ?? ""), nonce: String(auth?.nonce ?? "") },
    );
    return claimed ? undefined : `checkout ${paid.checkout.order_id} was already paid by another payment`;
  }
}
