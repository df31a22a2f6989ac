import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PaymentPayloadV2Schema } from "@x402/core/schemas";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { getAddress } from "ethers";
import type { ZodRawShape } from "zod";
import type { PaymentRecord, PayingClient } from "./client";
import type { FacilitatorAsset } from "./facilitator";
import { parsePrice } from "./money";
import { compareRequirements, type FacilitatorLike } from "./paywall";
import { MANDATE_REASON, REASON } from "./reasons";
import { mandateProblem, type MandatePolicy } from "../ap2/mandates";

/** The `_meta` keys of x402's MCP transport (specs/transports-v2/mcp.md). */
export const MCP_PAYMENT_META = "x402/payment";
export const MCP_PAYMENT_RESPONSE_META = "x402/payment-response";

/** How a paid tool is priced and paid. */
export interface PaidToolPricing {
  /** In dollars: "$0.01" is 10,000 base units of NET Dollar. */
  price: string;
  payTo: string;
  /** CAIP-2, e.g. "eip155:31337". */
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  facilitator: FacilitatorLike;
  /** Seconds a payment authorization must stay valid (default 60). */
  maxTimeoutSeconds?: number;
  /** AP2 mandates (see {@link MandatePolicy}): one carried is always checked. */
  mandates?: MandatePolicy;
}

/** The `exact` offer for a price (a paid tool's, a paid A2A skill's). */
export function exactRequirements(pricing: PaidToolPricing): PaymentRequirements {
  return {
    scheme: "exact",
    network: pricing.network,
    asset: getAddress(pricing.asset.address),
    amount: parsePrice(pricing.price).toString(),
    payTo: getAddress(pricing.payTo),
    maxTimeoutSeconds: pricing.maxTimeoutSeconds ?? 60,
    extra: { name: pricing.asset.name, version: pricing.asset.version },
  };
}

/** A tool answer asking for payment: `isError`, the PaymentRequired in `structuredContent` and as JSON text. */
function paymentRequiredResult(required: PaymentRequired): CallToolResult {
  return { isError: true, structuredContent: required as unknown as Record<string, unknown>, content: [{ type: "text", text: JSON.stringify(required) }] };
}

/**
 * Registers an MCP tool that costs `pricing.price` per call in NET Dollar, over x402's MCP transport: called without
 * `_meta["x402/payment"]` it answers `isError: true` with the PaymentRequired (in `structuredContent` and
 * `content[0].text`); called with a payment it checks it against its requirements, has the facilitator verify and
 * settle it, and only then runs `handler` (nothing is served unpaid), returning its result with the settlement in
 * `_meta["x402/payment-response"]`. A refused payment answers the PaymentRequired again with `error` saying why.
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
  const requirements = exactRequirements(pricing);
  const resource = `mcp://tool/${name}`;
  const required = (error?: string): PaymentRequired => ({
    x402Version: 2,
    ...(error ? { error } : {}),
    resource: { url: resource, description: config.description ?? name, mimeType: "application/json" },
    accepts: [requirements],
  });
  const callback = (async (args: unknown, extra: { _meta?: Record<string, unknown> }) => {
    const raw = extra._meta?.[MCP_PAYMENT_META];
    if (raw === undefined) return paymentRequiredResult(required("payment required"));
    const parsed = PaymentPayloadV2Schema.safeParse(raw);
    if (!parsed.success) return paymentRequiredResult(required(`${REASON.invalidPayload}: _meta["${MCP_PAYMENT_META}"] is not an x402 v2 PaymentPayload`));
    const payment = parsed.data as PaymentPayload;
    const mismatch = compareRequirements(payment.accepted, requirements);
    if (mismatch) return paymentRequiredResult(required(`${mismatch.reason}: ${mismatch.message}`));
    const mandate = await mandateProblem(payment, requirements, resource, pricing.mandates);
    if (mandate) return paymentRequiredResult(required(`${MANDATE_REASON}: ${mandate}`));
    const verified = await pricing.facilitator.verify(payment, requirements);
    if (!verified.isValid) return paymentRequiredResult(required(`${verified.invalidReason}${verified.invalidMessage ? `: ${verified.invalidMessage}` : ""}`));
    const settlement = await pricing.facilitator.settle(payment, requirements);
    if (!settlement.success)
      return paymentRequiredResult(required(`${settlement.errorReason}${settlement.errorMessage ? `: ${settlement.errorMessage}` : ""}`));
    // Paid: the tool runs, and its answer (an error too) carries the settlement.
    let result: CallToolResult;
    try {
      result = await (handler as (a: unknown, e: unknown) => CallToolResult | Promise<CallToolResult>)(args, extra);
    } catch (error) {
      result = { isError: true, content: [{ type: "text", text: `the tool failed after payment: ${error instanceof Error ? error.message : String(error)}` }] };
    }
    return { ...result, _meta: { ...result._meta, [MCP_PAYMENT_RESPONSE_META]: settlement } };
  }) as unknown as ToolCallback<Shape>;
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
    const first = (await this.client.callTool(params)) as CallToolResult;
    const required = paymentRequiredOf(first);
    if (!required) return first;
    // Spend controls count per server: its name, as it introduced itself.
    const host = this.client.getServerVersion()?.name ?? "mcp-server";
    const requirement = this.paying.chooseRequirement(required, host);
    const { payment, authorization, payer, amount } = await this.paying.signExact(required, requirement, host);
    const paid = (await this.client.callTool({ ...params, _meta: { [MCP_PAYMENT_META]: payment } })) as CallToolResult;
    const settlement = paid._meta?.[MCP_PAYMENT_RESPONSE_META] as SettleResponse | undefined;
    this.paying.recordPayment(
      new URL(`mcp://${encodeURIComponent(host)}/${encodeURIComponent(params.name)}`),
      settlement,
      paymentRequiredOf(paid) !== undefined,
      {
        network: requirement.network,
        asset: requirement.asset,
        payTo: authorization.to,
        amount,
        payer,
        nonce: authorization.nonce,
      },
    );
    return paid;
  }
}
