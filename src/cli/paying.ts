import { formatDollars, parseAmount } from "../amounts";
import type { PayingClient, PaymentRecord } from "../x402";
import type { CliContext } from "./context";
import { payingSchemeOf, type PayingSchemeOptions } from "./channels";
import { mandateFromOptions } from "./commands/mandate";
import { parseAddress } from "./parse";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require("../x402") as typeof import("../x402");

/** What a paying command (pay, x402 buy, x402 call) is told: the most per payment, its scheme and its mandate. */
export interface PayingOptions extends PayingSchemeOptions {
  max: string;
  asset?: string[];
  mandate?: string;
  checkoutMandate?: string;
  agentKey?: string;
  ledger?: string;
}

/** The agent's mandate wallet, when the command pays under one. */
export type CommandMandate = NonNullable<Awaited<ReturnType<typeof mandateFromOptions>>>;

/**
 * The paying client of a paying command, with the configured key: its spend controls (`--max` per payment, at most
 * `--deposit` into a channel, this deployment's network and NET Dollar or the `--asset`s), its scheme and its mandate.
 * Everything is checked before anything is signed.
 */
export async function payingClientOf(
  ctx: CliContext,
  options: PayingOptions,
): Promise<{ client: PayingClient; mandate?: CommandMandate; scheme: "exact" | "batch-settlement"; max: bigint }> {
  const max = parseAmount(options.max, "--max");
  const { scheme, maxDeposit, channels } = await payingSchemeOf(ctx, options);
  const network = lib().caip2(await ctx.chainId());
  const assets = options.asset?.length ? options.asset.map((a) => parseAddress(a, "--asset")) : [(await ctx.deployment()).contracts.NetDollar.address];
  const mandate = await mandateFromOptions(options);
  const client = new (lib().PayingClient)({
    signer: await ctx.signer(),
    mandate,
    schemes: [scheme],
    channels,
    controls: { maxPerPayment: max, maxDeposit, allowedNetworks: [network], allowedAssets: assets.map((asset) => ({ network, asset })) },
  });
  return { client, mandate, scheme, max };
}

/** A payment's receipt, as the paying commands print it: what was paid how, its status and its transaction. */
export function receiptRows(p: PaymentRecord): [string, string][] {
  const voucher = p.scheme === "batch-settlement";
  return [
    [
      p.status === "settled" ? "paid" : "signed (not paid)",
      `${formatDollars(p.amount)} to ${p.payTo}${voucher ? ` by voucher (ceiling ${formatDollars(p.ceiling ?? 0n)})` : ""}`,
    ],
    ...(p.deposit !== undefined ? ([["deposited", `${formatDollars(p.deposit)} into channel ${p.nonce}`]] as [string, string][]) : []),
    ["status", p.status + (p.errorReason ? ` (${p.errorReason})` : "")],
    ["transaction", p.transaction ?? (voucher ? "(none: claimed later, with others)" : "(none)")],
  ];
}

/**
 * What was spent under the mandate so far, as a receipt row (none without a mandate); with the payment, also that its
 * nonce is the mandate chain's hash (the binding an auditor checks on chain).
 */
export function mandateRows(mandate: CommandMandate | undefined, payment?: PaymentRecord): [string, string][] {
  if (!mandate) return [];
  const spent = `spent $${(mandate.usage.spentMinor / 100).toFixed(2)} under it (${mandate.payments.length} payment(s))`;
  return [["mandate", payment ? `nonce ${payment.nonce} is its chain's hash; ${spent}` : spent]];
}
