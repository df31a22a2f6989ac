import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PaymentPayloadV2Schema } from "@x402/core/schemas";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { ZodRawShape } from "zod";
import type { PaymentRecord, PayingClient, VoucherAnswer } from "./client";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { offersFor, paymentRequiredFor, type Corrective, type OfferTerms } from "./offers";
import { compareRequirements, type FacilitatorLike } from "./paywall";
import { MANDATE_REASON, REASON } from "./reasons";
import { mandateBinding, mandateTermsFor, type MandatePolicy } from "../ap2/mandates";
import { NetDollarError } from "../errors";
import { ServedPayments } from "./served";
import { settleExactOnce } from "./exactOnce";
import { CheckoutDesk, type CheckoutSale } from "./checkouts";

/** The `_meta` keys of x402's MCP transport (specs/transports-v2/mcp.md). */
export const MCP_PAYMENT_META = "x402/payment";
export const MCP_PAYMENT_RESPONSE_META = "x402/payment-response";

/**
 * How a paid tool is priced and paid: its offers (`exact` by default, `batch-settlement` with `schemes` and a batch
 * server, see {@link OfferTerms}) and the facilitator that verifies and settles exact payments and channel deposits.
 */
export interface PaidToolPricing extends OfferTerms {
  facilitator: FacilitatorLike;
  /** AP2 mandates (see {@link MandatePolicy}): one carried is always checked. */
  mandates?: MandatePolicy;
  /**
   * Which exact payments did their work (./served.ts). In a database, a payment settled whose answer was lost does its
   * work once when presented again, also after a restart; default this process's memory.
   */
  served?: ServedPayments;
  /**
   * Sell by AP2 checkout (exact only, whole cents): every PaymentRequired offers a new checkout signed with this key
   * (the line item: the tool, or `item`), and a payment is taken only under a checkout mandate closed for one, each
   * checkout paid once. The record of paid checkouts is `served`: give a server that makes its tools per request
   * (stateless streamable HTTP) one on a database, or its memory forgets them between requests.
   */
  checkout?: CheckoutSale;
}

/** A tool answer asking for payment: `isError`, the PaymentRequired in `structuredContent` and as JSON text. */
function paymentRequiredResult(required: PaymentRequired, settlement?: SettleResponse): CallToolResult {
  return {
    isError: true,
    structuredContent: required as unknown as Record<string, unknown>,
    content: [{ type: "text", text: JSON.stringify(required) }],
    ...(settlement ? { _meta: { [MCP_PAYMENT_RESPONSE_META]: settlement } } : {}),
  };
}

/** The tool's handler, run once paid; a throw becomes an error result (the payment stands, the answer says so). */
async function runPaid(handler: unknown, args: unknown, extra: unknown): Promise<CallToolResult> {
  try {
    return await (handler as (a: unknown, e: unknown) => CallToolResult | Promise<CallToolResult>)(args, extra);
  } catch (error) {
    return { isError: true, content: [{ type: "text", text: `the tool failed after payment: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

/**
 * Registers an MCP tool that costs `pricing.price` per call in NET Dollar, over x402's MCP transport: called without
 * `_meta["x402/payment"]` it answers `isError: true` with the PaymentRequired (in `structuredContent` and
 * `content[0].text`); called with a payment it checks it against its requirements, has the facilitator verify and
 * settle it, and only then runs `handler` (nothing is served unpaid), returning its result with the settlement in
 * `_meta["x402/payment-response"]`. A refused payment answers the PaymentRequired again with `error` saying why.
 * With `schemes: ["batch-settlement", "exact"]` and a `batch` server it also takes a channel: a deposit once, then a
 * voucher per call, charged in the channel store before the tool runs and claimed later, many in one transaction.
 *
 * @example
 * paidTool(server, "forecast", { description: "tomorrow's weather", inputSchema: { city: z.string() } },
 *   { price: "$0.01", payTo, network: "eip155:31337", asset, facilitator },
 *   async ({ city }) => ({ content: [{ type: "text", text: `sunny in ${city}` }] }));
 */
export function paidTool<Shape extends ZodRawShape>(
  server: McpServer,
  name: string,
  config: { title?: string; description?: string; inputSchema: Shape },
  pricing: PaidToolPricing,
  handler: ToolCallback<Shape>,
): void {
  const offers = offersFor(`tool "${name}"`, pricing);
  const served = pricing.served ?? new ServedPayments();
  const resource = `mcp://tool/${name}`;
  const info = { url: resource, description: config.description ?? name, mimeType: "application/json" };
  const extensions = mandateTermsFor(`tool "${name}"`, offers, pricing.mandates, pricing.checkout !== undefined);
  const desk = pricing.checkout && new CheckoutDesk(`tool "${name}"`, pricing.checkout, offers, { id: name, title: config.description ?? name });
  const required = async (error?: string, corrective?: Corrective) => {
    const terms = paymentRequiredFor(info, offers, error, corrective, extensions);
    return desk ? desk.offer(terms) : terms;
  };
  const callback = (async (args: unknown, extra: { _meta?: Record<string, unknown> }) => {
    const raw = extra._meta?.[MCP_PAYMENT_META];
    if (raw === undefined) return paymentRequiredResult(await required("payment required"));
    const parsed = PaymentPayloadV2Schema.safeParse(raw);
    if (!parsed.success)
      return paymentRequiredResult(await required(`${REASON.invalidPayload}: _meta["${MCP_PAYMENT_META}"] is not an x402 v2 PaymentPayload`));
    const payment = parsed.data as PaymentPayload;
    const requirements = offers.find((o) => o.scheme === payment.accepted.scheme);
    if (!requirements)
      return paymentRequiredResult(
        await required(
          `${REASON.unsupportedScheme}: scheme "${payment.accepted.scheme}" is not accepted (${offers.map((o) => `"${o.scheme}"`).join(", ")} is)`,
        ),
      );
    const mismatch = compareRequirements(payment.accepted, requirements);
    if (mismatch) return paymentRequiredResult(await required(`${mismatch.reason}: ${mismatch.message}`));
    if (requirements.scheme === BATCH_SETTLEMENT_SCHEME) return payByVoucher(payment, requirements, args, extra);
    const binding = await mandateBinding(payment, requirements, resource, pricing.mandates, desk?.expected);
    if (binding.problem) return paymentRequiredResult(await required(`${MANDATE_REASON}: ${binding.problem}`));
    if (binding.checkout) {
      // Claimed before it is settled: another payment for the same checkout is refused with nothing moved.
      const taken = await desk!.claim(served, binding.checkout, payment, requirements.network).catch((error: Error) => error);
      if (taken instanceof Error)
        return {
          isError: true,
          content: [
            {
              type: "text",
              text: `what was paid could not be recorded (${taken.message.split("\n")[0]}); nothing was charged; present the same payment again`,
            },
          ],
        };
      if (taken) return paymentRequiredResult(await required(`${MANDATE_REASON}: ${taken}`));
    }
    const outcome = await settleExactOnce({ facilitator: pricing.facilitator, served, payment, requirements, route: resource });
    if (outcome.kind === "refused") return paymentRequiredResult(await required(outcome.reason));
    if (outcome.kind === "failed") return paymentRequiredResult(await required(outcome.reason), outcome.settlement);
    if (outcome.kind === "unknown") return { isError: true, content: [{ type: "text", text: outcome.message }] };
    // Paid: the tool runs, and its answer (an error too) carries the settlement; handed back, the payment is a replay.
    const result = await runPaid(handler, args, extra);
    await outcome.served();
    return { ...result, _meta: { ...result._meta, [MCP_PAYMENT_RESPONSE_META]: outcome.settlement } };
  }) as unknown as ToolCallback<Shape>;

  /**
   * A deposit or a voucher: charged (durably, in the channel store) before the tool runs, claimed on chain later in
   * batches. A refusal's `error` is the reference reason exactly, and its offer carries the corrective state.
   */
  async function payByVoucher(payment: PaymentPayload, requirements: PaymentRequirements, args: unknown, extra: unknown): Promise<CallToolResult> {
    const batch = pricing.batch!;
    const outcome = await batch.handle(payment, requirements, resource);
    if (outcome.kind === "unavailable")
      return { isError: true, content: [{ type: "text", text: `the payment could not be processed now; nothing was charged: ${outcome.message}` }] };
    if (outcome.kind === "refused")
      return paymentRequiredResult(await required(outcome.reason, { extra: outcome.extra, message: outcome.message }), outcome.settlement);
    if (outcome.kind === "refunded")
      return {
        structuredContent: outcome.body,
        content: [{ type: "text", text: JSON.stringify(outcome.body) }],
        _meta: { [MCP_PAYMENT_RESPONSE_META]: outcome.settlement },
      };
    const result = await runPaid(handler, args, extra);
    // Served once the answer is handed back: until then (the process died first), the same voucher presented again
    // runs the tool again, never charges again; after, it is a replay.
    batch.served(outcome);
    return { ...result, _meta: { ...result._meta, [MCP_PAYMENT_RESPONSE_META]: outcome.settlement } };
  }
  server.registerTool(name, { title: config.title, description: config.description, inputSchema: config.inputSchema }, callback);
}

/** The PaymentRequired in a tool's answer, when it asks for payment (x402's MCP transport); undefined otherwise. */
export function paymentRequiredOf(result: { isError?: boolean; structuredContent?: unknown; content?: unknown }): PaymentRequired | undefined {
  if (!result.isError) return undefined;
  const candidates: unknown[] = [result.structuredContent];
  const first = Array.isArray(result.content) ? (result.content[0] as { type?: string; text?: string } | undefined) : undefined;
  if (first?.type === "text" && typeof first.text === "string") {
    try {
      candidates.push(JSON.parse(first.text));
    } catch {
      // not JSON: not a PaymentRequired
    }
  }
  for (const c of candidates) {
    const r = c as Partial<PaymentRequired> | undefined;
    if (r && r.x402Version === 2 && Array.isArray(r.accepts) && r.accepts.length > 0) return r as PaymentRequired;
  }
  return undefined;
}

/**
 * An MCP client that pays for tools in NET Dollar: `callTool` calls, and when the tool asks for payment, pays it
 * with the PayingClient's key within its spend controls (a price above them is refused before anything is signed),
 * then calls again with the payment in `_meta["x402/payment"]`. Each payment is recorded in `paying.payments`.
 *
 * @example
 * const agent = new PayingMcpClient(client, new PayingClient({ signer, controls: { maxPerPayment: 10_000n } }));
 * const result = await agent.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
 */
export class PayingMcpClient {
  constructor(
    readonly client: Client,
    readonly paying: PayingClient,
  ) {}

  /** The last payment made, if any. */
  get lastPayment(): PaymentRecord | undefined {
    return this.paying.payments.at(-1);
  }

  async callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<CallToolResult> {
    // Spend controls count per server: its name, as it introduced itself.
    const host = this.client.getServerVersion()?.name ?? "mcp-server";
    const where = new URL(`mcp://${encodeURIComponent(host)}/${encodeURIComponent(params.name)}`);
    // A tool paid by voucher before: this call is one request, the voucher in it.
    const known = this.paying.knownOffer(where.toString());
    if (known) return this.payByVoucher(params, known, where, host);
    const first = (await this.client.callTool(params)) as CallToolResult;
    const required = paymentRequiredOf(first);
    if (!required) return first;
    const requirement = this.paying.chooseRequirement(required, host);
    if (requirement.scheme === BATCH_SETTLEMENT_SCHEME) return this.payByVoucher(params, requirement, where, host);
    const { payment, authorization, payer, amount } = await this.paying.signExact(required, requirement, host);
    const paid = (await this.client.callTool({ ...params, _meta: { [MCP_PAYMENT_META]: payment } })) as CallToolResult;
    const settlement = paid._meta?.[MCP_PAYMENT_RESPONSE_META] as SettleResponse | undefined;
    this.paying.recordPayment(where, settlement, paymentRequiredOf(paid) !== undefined, {
      network: requirement.network,
      asset: requirement.asset,
      payTo: authorization.to,
      amount,
      payer,
      nonce: authorization.nonce,
    });
    return paid;
  }

  /** One call paid by voucher over the tool's channel (see PayingClient.payByVoucher). */
  private payByVoucher(params: { name: string; arguments?: Record<string, unknown> }, offer: PaymentRequirements, where: URL, host: string) {
    return this.paying.payByVoucher(offer, {
      where,
      host,
      routeKey: where.toString(),
      send: async (payment) => {
        const result = (await this.client.callTool({ ...params, _meta: { [MCP_PAYMENT_META]: payment } })) as CallToolResult;
        const required = paymentRequiredOf(result);
        const settlement = result._meta?.[MCP_PAYMENT_RESPONSE_META] as VoucherAnswer<CallToolResult>["settlement"];
        return { result, settlement, refused: required !== undefined, required };
      },
    });
  }
}

/**
 * An MCP client connected to the server at `url` over streamable HTTP (the transport `netd x402 serve-mcp` speaks);
 * a server that cannot be reached, or does not speak MCP there, is a NetDollarError saying so.
 *
 * @example
 * const client = await connectMcpClient(new URL("http://127.0.0.1:4071/mcp"));
 * const agent = new PayingMcpClient(client, paying);
 */
export async function connectMcpClient(url: URL, name = "netd"): Promise<Client> {
  // Loaded here: only MCP clients need them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Client: McpClient } = require("@modelcontextprotocol/sdk/client/index.js") as typeof import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } =
    require("@modelcontextprotocol/sdk/client/streamableHttp.js") as typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const client = new McpClient({ name, version: "1.0.0" });
  try {
    await client.connect(new StreamableHTTPClientTransport(url));
  } catch (error) {
    await client.close().catch(() => undefined);
    const why = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new NetDollarError(`could not reach an MCP server at ${url}: ${why}`, { details: "nothing was paid" });
  }
  return client;
}
