import { randomUUID } from "node:crypto";
import express, { type Express } from "express";
// @a2a-js/sdk is an ES module package with a CommonJS build: its types are read as the ES module's, its values
// required from the CommonJS build (the same API).
import type * as A2ACore from "@a2a-js/sdk" with { "resolution-mode": "import" };
import type * as A2AServer from "@a2a-js/sdk/server" with { "resolution-mode": "import" };
import type { AgentExecutor, ExecutionEventBus, RequestContext, TaskStore } from "@a2a-js/sdk/server" with { "resolution-mode": "import" };
import type { Message, Part, Task } from "@a2a-js/sdk" with { "resolution-mode": "import" };
import type { Client } from "@a2a-js/sdk/client" with { "resolution-mode": "import" };
import type * as A2AExpress from "@a2a-js/sdk/server/express" with { "resolution-mode": "import" };
import { PaymentPayloadV2Schema, PaymentRequiredV2Schema } from "@x402/core/schemas";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { mandateProblem, mandateTermsFor } from "../ap2/mandates";
import { AP2_CHECKOUT_EXTENSION, readCheckout } from "../ap2/checkout";
import { publicJwkOf } from "../ap2/sdjwt";
import { describeIssues, NetDollarError } from "../errors";
import type { PaymentRecord, PayingClient } from "./client";
import { compareRequirements } from "./paywall";
import type { PaidToolPricing } from "./mcp";
import { offersFor, paymentRequiredFor, type Corrective } from "./offers";
import { BATCH_SETTLEMENT_SCHEME } from "./batch/channel";
import { listen, type RunningServer } from "./facilitatorServer";
import { MANDATE_REASON, REASON } from "./reasons";
import { ServedPayments } from "./served";
import { settleExactOnce } from "./exactOnce";
import { checkoutOfferOf, signSaleCheckout, withCheckoutOffered, type CheckoutSale } from "./checkouts";

type TaskState = A2ACore.TaskState;
let loaded: { AgentEvent: typeof A2AServer.AgentEvent; Role: typeof A2ACore.Role; TaskState: typeof A2ACore.TaskState } | undefined;
/** The SDK's values, loaded on first use: commands and programs that never speak A2A do not load it. */
function sdk(): NonNullable<typeof loaded> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  loaded ??= {
    AgentEvent: (require("@a2a-js/sdk/server") as typeof A2AServer).AgentEvent,
    Role: (require("@a2a-js/sdk") as typeof A2ACore).Role,
    TaskState: (require("@a2a-js/sdk") as typeof A2ACore).TaskState,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return loaded;
}

/**
 * x402 over A2A (the a2a-x402 extension v0.2, standalone flow) on @a2a-js/sdk: a merchant agent sells a task; the
 * task waits in `input-required` with `x402.payment.status: "payment-required"` and the PaymentRequired in
 * `x402.payment.required` (status message metadata); the shopper answers in the same task with
 * `"payment-submitted"` and the PaymentPayload in `x402.payment.payload`; the merchant verifies, settles and only
 * then does the work, completing the task with `"payment-completed"` and the settlement in `x402.payment.receipts`
 * (or failing it with `"payment-failed"` and `x402.payment.error`).
 */
export const A2A_X402_EXTENSION = "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2";
export const A2A_X402 = {
  status: "x402.payment.status",
  required: "x402.payment.required",
  payload: "x402.payment.payload",
  receipts: "x402.payment.receipts",
  error: "x402.payment.error",
} as const;

/** A merchant agent that sells by checkout (AP2): its key signs each task's checkout (see {@link CheckoutSale}). */
export type SkillCheckout = CheckoutSale;

/** The checkout JWT offered in a task (the terms of its latest status), if any. */
function offeredCheckout(task: Task | undefined): string | undefined {
  const required = (task?.status?.message?.metadata as Record<string, unknown> | undefined)?.[A2A_X402.required] as
    { extensions?: Record<string, { checkout_jwt?: unknown } | undefined> } | undefined;
  const jwt = required?.extensions?.[AP2_CHECKOUT_EXTENSION]?.checkout_jwt;
  return typeof jwt === "string" ? jwt : undefined;
}

/** What a paid skill costs and who is paid; `run` does the work once paid. */
export interface PaidSkill extends PaidToolPricing {
  /** The resource the payment is for (the mandate's `aud` and offer), e.g. "a2a://report-shop/report". */
  resource: string;
  description: string;
  run(request: string): Promise<string>;
  /**
   * Sell by checkout: each task's terms carry a checkout signed with this key, and a payment is taken only under an
   * AP2 checkout mandate closed for it (with the payment mandate's transaction_id its checkout_hash).
   */
  checkout?: SkillCheckout;
}

const text = (value: string): Part => ({ content: { $case: "text", value }, metadata: undefined, filename: "", mediaType: "text/plain" });

/** A message of this extension: the merchant agent's ("agent") or the shopper's ("user"), in a task or starting one. */
function a2aMessage(from: "agent" | "user", words: string, metadata: Record<string, unknown>, taskId = "", contextId = ""): Message {
  return {
    messageId: randomUUID(),
    contextId,
    taskId,
    role: from === "agent" ? sdk().Role.ROLE_AGENT : sdk().Role.ROLE_USER,
    parts: [text(words)],
    metadata,
    extensions: [A2A_X402_EXTENSION],
    referenceTaskIds: [],
  };
}

function textOf(message: Message | undefined): string {
  return (message?.parts ?? []).map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
}

/** The a2a-x402 error code for an x402 reason (spec §9.1), for `x402.payment.error`. */
function errorCode(reason: string): string {
  if (/insufficient_balance/.test(reason)) return "INSUFFICIENT_FUNDS";
  if (/signature/.test(reason)) return "INVALID_SIGNATURE";
  if (/valid_before|valid_after|expired/.test(reason)) return "EXPIRED_PAYMENT";
  if (/nonce_already_used/.test(reason)) return "DUPLICATE_NONCE";
  if (/network/.test(reason)) return "NETWORK_MISMATCH";
  if (/value_mismatch|amount/.test(reason)) return "INVALID_AMOUNT";
  if (reason.startsWith(MANDATE_REASON)) return "INVALID_MANDATE";
  return "SETTLEMENT_FAILED";
}

/**
 * The merchant agent's executor: sells `skill` for a NET Dollar price, paid before it runs. Serve it with
 * @a2a-js/sdk's `DefaultRequestHandler` and transport handlers (see {@link a2aMerchantApp} in ./a2aDemo.ts).
 */
export class PaidSkillExecutor implements AgentExecutor {
  private readonly offers: PaymentRequirements[];

  private readonly extensions: PaymentRequired["extensions"];

  private readonly served: ServedPayments;

  constructor(private readonly skill: PaidSkill) {
    this.offers = offersFor(`skill "${skill.resource}"`, skill);
    this.extensions = mandateTermsFor(`skill ${skill.resource}`, this.offers, skill.mandates, skill.checkout !== undefined);
    this.served = skill.served ?? new ServedPayments();
    if (skill.checkout) checkoutOfferOf(`skill ${skill.resource}`, this.offers);
  }

  private required(error?: string, corrective?: Corrective): PaymentRequired {
    return paymentRequiredFor(
      { url: this.skill.resource, description: this.skill.description, mimeType: "text/plain" },
      this.offers,
      error,
      corrective,
      this.extensions,
    );
  }

  /**
   * With `skill.checkout`, the terms carry the merchant's signed checkout for this task
   * (`extensions["ap2-checkout"].checkout_jwt`): the one already offered in the task while it is valid, else a new one.
   */
  private async withCheckout(required: PaymentRequired, ctx: RequestContext): Promise<PaymentRequired> {
    const c = this.skill.checkout;
    if (!c) return required;
    const now = Math.floor(Date.now() / 1000);
    let jwt = offeredCheckout(ctx.task);
    if (jwt) {
      try {
        await readCheckout(jwt, { merchantKey: publicJwkOf(c.key), now });
      } catch {
        jwt = undefined; // expired: a new one
      }
    }
    jwt ??= await signSaleCheckout(c, this.offers[0], ctx.taskId, {
      id: new URL(this.skill.resource).pathname.replace(/^\//, "") || "item",
      title: this.skill.description,
    });
    return withCheckoutOffered(required, jwt);
  }

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const message = ctx.userMessage;
    const meta = (message.metadata ?? {}) as Record<string, unknown>;
    const publish = (state: TaskState, words: string, metadata: Record<string, unknown>, extra: Partial<Task> = {}) => {
      bus.publish(
        sdk().AgentEvent.task({
          id: ctx.taskId,
          contextId: ctx.contextId,
          status: { state, message: a2aMessage("agent", words, metadata, ctx.taskId, ctx.contextId), timestamp: new Date().toISOString() },
          artifacts: [],
          history: [...(ctx.task?.history ?? []), message],
          metadata: { ...(ctx.task?.metadata ?? {}), ...(extra.metadata ?? {}) },
          ...("artifacts" in extra ? { artifacts: extra.artifacts! } : {}),
        }),
      );
      bus.finished();
    };
    const askForPayment = async (error?: string, corrective?: Corrective) =>
      publish(sdk().TaskState.TASK_STATE_INPUT_REQUIRED, error ? `Payment refused: ${corrective?.message ?? error}` : "Payment is required.", {
        [A2A_X402.status]: "payment-required",
        [A2A_X402.required]: await this.withCheckout(this.required(error, corrective), ctx),
      });
    const failed = (reason: string, network: string, receipt?: SettleResponse) =>
      publish(sdk().TaskState.TASK_STATE_FAILED, `Payment failed: ${reason}`, {
        [A2A_X402.status]: "payment-failed",
        [A2A_X402.error]: errorCode(reason),
        [A2A_X402.receipts]: [receipt ?? { success: false, errorReason: reason, network, transaction: "" }],
      });
    /** Paid: the work is done now, and the task completes with the receipt (or fails, the payment standing). */
    const work = async (receipt: SettleResponse) => {
      const request = textOf(ctx.task!.history?.find((m) => m.role === sdk().Role.ROLE_USER));
      let result: string;
      try {
        result = await this.skill.run(request);
      } catch (error) {
        return publish(sdk().TaskState.TASK_STATE_FAILED, `The work failed after payment: ${(error as Error).message}`, {
          [A2A_X402.status]: "payment-completed",
          [A2A_X402.receipts]: [receipt],
        });
      }
      publish(
        sdk().TaskState.TASK_STATE_COMPLETED,
        "Payment successful.",
        { [A2A_X402.status]: "payment-completed", [A2A_X402.receipts]: [receipt] },
        {
          artifacts: [
            { artifactId: randomUUID(), name: "result", description: this.skill.description, parts: [text(result)], metadata: undefined, extensions: [] },
          ],
        },
      );
    };

    // A new purchase: remember what was asked for, and ask for payment.
    if (!ctx.task) return askForPayment();
    const state = ctx.task.status?.state;
    if (state !== sdk().TaskState.TASK_STATE_INPUT_REQUIRED) return failed("the task is not waiting for a payment", this.offers[0].network);
    if (meta[A2A_X402.status] === "payment-rejected")
      return publish(sdk().TaskState.TASK_STATE_CANCELED, "Payment rejected by the client.", { [A2A_X402.status]: "payment-rejected" });
    if (meta[A2A_X402.status] !== "payment-submitted") return askForPayment();
    const parsed = PaymentPayloadV2Schema.safeParse(meta[A2A_X402.payload]);
    if (!parsed.success) return askForPayment(`${REASON.invalidPayload}: ${A2A_X402.payload} is not an x402 v2 PaymentPayload`);
    const payment = parsed.data as PaymentPayload;
    const requirements = this.offers.find((o) => o.scheme === payment.accepted.scheme);
    if (!requirements)
      return askForPayment(
        `${REASON.unsupportedScheme}: scheme "${payment.accepted.scheme}" is not accepted (${this.offers.map((o) => `"${o.scheme}"`).join(", ")} is)`,
      );
    const mismatch = compareRequirements(payment.accepted, requirements);
    if (mismatch) return askForPayment(`${mismatch.reason}: ${mismatch.message}`);

    if (requirements.scheme === BATCH_SETTLEMENT_SCHEME) {
      // A deposit or a voucher: charged (durably, in the channel store) before the work, claimed on chain later.
      const batch = this.skill.batch!;
      const outcome = await batch.handle(payment, requirements, this.skill.resource);
      if (outcome.kind === "unavailable") return askForPayment(`the payment could not be processed now; nothing was charged: ${outcome.message}`);
      if (outcome.kind === "refused") return askForPayment(outcome.reason, { extra: outcome.extra, message: outcome.message });
      if (outcome.kind === "refunded")
        return publish(sdk().TaskState.TASK_STATE_COMPLETED, outcome.body.message, {
          [A2A_X402.status]: "payment-completed",
          [A2A_X402.receipts]: [outcome.settlement],
        });
      await work(outcome.settlement);
      // Answered: the same voucher again is a replay from now on (before, a redelivery: the work again, no charge).
      batch.served(outcome);
      return;
    }

    const checkout = this.skill.checkout ? { merchantKey: publicJwkOf(this.skill.checkout.key), jwt: offeredCheckout(ctx.task) } : undefined;
    const mandate = await mandateProblem(payment, requirements, this.skill.resource, this.skill.mandates, checkout);
    if (mandate) return askForPayment(`${MANDATE_REASON}: ${mandate}`);
    const outcome = await settleExactOnce({ facilitator: this.skill.facilitator, served: this.served, payment, requirements, route: this.skill.resource });
    if (outcome.kind === "refused") return askForPayment(outcome.reason);
    if (outcome.kind === "unknown") return askForPayment(outcome.message);
    if (outcome.kind === "failed") return failed(outcome.reason, requirements.network, outcome.settlement);
    await work(outcome.settlement);
    // The task is answered: the same payment again is a replay from now on.
    await outcome.served();
  }

  async cancelTask(): Promise<void> {
    // Nothing runs between turns: a task waiting for payment has nothing to stop.
  }
}

function taskOf(result: unknown): Task {
  const r = result as { payload?: { $case?: string; value?: Task } } & Partial<Task>;
  if (r.payload?.$case === "task" && r.payload.value) return r.payload.value;
  if (typeof r.id === "string" && r.status) return r as Task;
  throw new Error("the merchant agent answered with a message, not a task");
}

/** The outcome of {@link PayingA2AClient.buy}: the final task, its result text, and the payment. */
export interface A2APurchase {
  task: Task;
  result?: string;
  payment?: PaymentRecord;
}

/**
 * The shopper agent's side: asks a merchant agent for a task, pays the x402 payment it asks for with a
 * {@link PayingClient} (its spend controls and mandate apply: a refusal throws before anything is signed), and
 * returns the completed task.
 *
 * @example
 * const shopper = new PayingA2AClient(await new ClientFactory().createFromUrl(url), new PayingClient({ signer, mandate }));
 * const { result, payment } = await shopper.buy("a market report on stablecoins", "report-shop");
 */
export class PayingA2AClient {
  constructor(
    private readonly client: Client,
    private readonly paying: PayingClient,
  ) {}

  /** Sends a message with the a2a-x402 extension activated (the `A2A-Extensions` header), as a required extension must be. */
  private async send(message: Message): Promise<Task> {
    return taskOf(
      await this.client.sendMessage(
        { tenant: "", message, configuration: undefined, metadata: undefined },
        { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
      ),
    );
  }

  /** Asks `merchant` for `request`, then pays the task when it waits for payment (see {@link payTask}). */
  async buy(request: string, merchant: string): Promise<A2APurchase> {
    return this.payTask(await this.send(a2aMessage("user", request, {})), merchant);
  }

  /**
   * Pays a task that waits for payment (`input-required`, `payment-required`) within the paying client's controls and
   * mandate, in the same task, and returns it as the merchant answered; a task that does not wait for payment is
   * returned as it is. A task asked for earlier, even before the merchant restarted, is paid the same way.
   */
  async payTask(first: Task, merchant: string): Promise<A2APurchase> {
    const meta = (first.status?.message?.metadata ?? {}) as Record<string, unknown>;
    if (first.status?.state !== sdk().TaskState.TASK_STATE_INPUT_REQUIRED || meta[A2A_X402.status] !== "payment-required")
      return { task: first, result: resultOf(first) };
    let required: PaymentRequired;
    let requirement: PaymentRequirements;
    try {
      required = paymentRequiredIn(meta);
      requirement = this.paying.chooseRequirement(required, merchant);
    } catch (error) {
      // Tell the merchant, as the extension asks, then report the refusal.
      await this.send(a2aMessage("user", "I will not pay this.", { [A2A_X402.status]: "payment-rejected" }, first.id, first.contextId));
      throw error;
    }
    const where = new URL(required.resource?.url ?? `a2a://${merchant}`);
    const submit = async (payment: PaymentPayload) => {
      const task = await this.send(
        a2aMessage("user", "Here is the payment.", { [A2A_X402.status]: "payment-submitted", [A2A_X402.payload]: payment }, first.id, first.contextId),
      );
      const m = (task.status?.message?.metadata ?? {}) as Record<string, unknown>;
      const receipt = ((m[A2A_X402.receipts] as SettleResponse[] | undefined) ?? []).at(-1);
      const again = m[A2A_X402.status] === "payment-required" ? (m[A2A_X402.required] as PaymentRequired | undefined) : undefined;
      return { task, receipt, again, refused: again !== undefined || m[A2A_X402.status] === "payment-failed" };
    };
    if (requirement.scheme === BATCH_SETTLEMENT_SCHEME) {
      // A voucher (with a deposit the first time) in the same task; a refusal leaves it waiting, so a corrected voucher
      // or a top-up goes in the same task too.
      const task = await this.paying.payByVoucher(requirement, {
        where,
        host: merchant,
        routeKey: where.toString(),
        send: async (payment) => {
          const answer = await submit(payment);
          return { result: answer.task, settlement: answer.receipt, refused: answer.refused, required: answer.again, httpStatus: 200 };
        },
      });
      return { task, result: resultOf(task), payment: this.paying.payments.at(-1) };
    }
    const { payment, authorization, payer, amount } = await this.paying.signExact(required, requirement, merchant);
    const answer = await submit(payment);
    const record = this.paying.recordPayment(
      where,
      answer.receipt?.success ? answer.receipt : undefined,
      answer.refused,
      { network: requirement.network, asset: requirement.asset, payTo: authorization.to, amount, payer, scheme: "exact", nonce: authorization.nonce },
      { errorReason: answer.receipt?.errorReason ?? (answer.again?.error as string | undefined), httpStatus: 200 },
    );
    return { task: answer.task, result: resultOf(answer.task), payment: record };
  }
}

/**
 * The PaymentRequired of a task waiting for payment in the standalone flow (`x402.payment.required`). Without it the
 * merchant uses the embedded flow (spec §4.2: the terms inside a higher-level artifact, e.g. an AP2 cart), which this
 * client does not pay; a malformed one is refused. Either way nothing is signed.
 */
function paymentRequiredIn(meta: Record<string, unknown>): PaymentRequired {
  const raw = meta[A2A_X402.required];
  if (raw === undefined)
    throw new NetDollarError(
      `the merchant asks for payment in the a2a-x402 embedded flow (its terms inside an artifact, not in ${A2A_X402.required}), which this client does not pay`,
      { details: "nothing was signed" },
    );
  const parsed = PaymentRequiredV2Schema.safeParse(raw);
  if (!parsed.success)
    throw new NetDollarError(`the merchant's ${A2A_X402.required} is not an x402 v2 PaymentRequired: ${describeIssues(parsed.error)}`, {
      details: "nothing was signed",
    });
  return parsed.data as PaymentRequired;
}

function resultOf(task: Task): string | undefined {
  const parts = task.artifacts?.flatMap((a) => a.parts) ?? [];
  const words = parts.map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
  return words || undefined;
}

/** Where a merchant agent keeps its tasks: a {@link DatabaseTaskStore} to keep them across restarts; default memory. */
export interface A2AMerchantOptions {
  tasks?: TaskStore;
}

/**
 * An Express app that serves a merchant agent selling `skill` over A2A (JSON-RPC at `/`, the agent card at
 * `/.well-known/agent-card.json`, declaring the a2a-x402 extension as required); `url` is where it is reachable.
 * Its tasks are kept in `options.tasks` (default the SDK's memory: a restart forgets tasks waiting for payment).
 */
export function a2aMerchantApp(agent: { name: string; description: string; url: string }, skill: PaidSkill, options: A2AMerchantOptions = {}): Express {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { DefaultRequestHandler, InMemoryTaskStore } = require("@a2a-js/sdk/server") as typeof A2AServer;
  const { jsonRpcHandler, agentCardHandler, UserBuilder } = require("@a2a-js/sdk/server/express") as typeof A2AExpress;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const card: A2ACore.AgentCard = {
    name: agent.name,
    description: agent.description,
    supportedInterfaces: [{ url: agent.url, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "1.0" }],
    provider: undefined,
    version: "1.0.0",
    capabilities: {
      streaming: false,
      pushNotifications: false,
      extensions: [
        { uri: A2A_X402_EXTENSION, description: "Supports payments using the x402 protocol for on-chain settlement.", required: true, params: undefined },
      ],
    },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [
      {
        id: new URL(skill.resource).pathname.replace(/^\//, "") || "skill",
        name: skill.description,
        description: `${skill.description}: ${skill.price} in NET Dollar, paid over x402 before the work is done`,
        tags: ["x402", "paid"],
        examples: [],
        inputModes: ["text/plain"],
        outputModes: ["text/plain"],
        securityRequirements: [],
      },
    ],
    signatures: [],
  };
  const handler = new DefaultRequestHandler(card, options.tasks ?? new InMemoryTaskStore(), new PaidSkillExecutor(skill));
  const app = express();
  app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: handler }));
  app.use("/", express.json(), jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return app;
}

/** Serves {@link a2aMerchantApp} on loopback (port 0: any free one), its agent card naming the URL it listens on. */
export async function serveA2AMerchant(
  agent: { name: string; description: string },
  skill: PaidSkill,
  port = 0,
  host = "127.0.0.1",
  options: A2AMerchantOptions = {},
): Promise<RunningServer> {
  // The card names the URL, known once listening: the app is made then, and requests before it wait for none. A skill
  // that cannot be sold is refused before listening.
  new PaidSkillExecutor(skill);
  const inner: { app?: Express } = {};
  const front = express();
  front.use((req, res, next) => inner.app!(req, res, next));
  const server = await listen(front, port, host);
  inner.app = a2aMerchantApp({ ...agent, url: server.url }, skill, options);
  return server;
}
