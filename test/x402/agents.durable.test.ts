import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Task } from "@a2a-js/sdk" with { "resolution-mode": "import" };
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { openDatabase, type Database } from "../../src/db";
import { devnetWallet } from "../../src/devnet";
import { InvalidInputError } from "../../src/errors";
import { z } from "zod";
import express from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  DatabaseTaskStore,
  MCP_PAYMENT_META,
  MCP_PAYMENT_RESPONSE_META,
  PayingClient,
  PayingMcpClient,
  REASON,
  ServedPayments,
  facilitatorByUrl,
  listen,
  paidTool,
  paymentRequiredOf,
  type FacilitatorLike,
} from "../../src/x402";
import { A2A_X402, A2A_X402_EXTENSION, PayingA2AClient, serveA2AMerchant } from "../../src/x402/a2a";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import { NetdProcess, freePort } from "../helpers/process";
import { freshDatabase, requirePostgres } from "../helpers/postgres";

/* eslint-disable @typescript-eslint/no-require-imports */
const sdk = () => require("@a2a-js/sdk") as typeof import("@a2a-js/sdk", { with: { "resolution-mode": "import" } });
const sdkServer = () => require("@a2a-js/sdk/server") as typeof import("@a2a-js/sdk/server", { with: { "resolution-mode": "import" } });
const sdkClient = () => require("@a2a-js/sdk/client") as typeof import("@a2a-js/sdk/client", { with: { "resolution-mode": "import" } });
/* eslint-enable @typescript-eslint/no-require-imports */

const as = (userName: string, tenant = "") =>
  new (sdkServer().ServerCallContext)({ tenant, user: { isAuthenticated: true, userName } as never }) as Parameters<DatabaseTaskStore["save"]>[1];

function task(id: string, contextId: string, state: number, at: string, report?: string): Task {
  return {
    id,
    contextId,
    status: { state, message: undefined, timestamp: at },
    artifacts: report
      ? [
          {
            artifactId: `a-${id}`,
            name: "result",
            description: "a report",
            parts: [{ content: { $case: "text", value: report }, metadata: undefined, filename: "", mediaType: "text/plain" }],
            metadata: undefined,
            extensions: [],
          },
        ]
      : [],
    history: [],
    metadata: { [A2A_X402.status]: "payment-required", amount: "10000" },
  };
}

/** The same task as the SDK's own JSON codec gives it back: what any store must return. */
const roundTrip = (t: Task) => sdk().Task.fromJSON(sdk().Task.toJSON(t) as never);

function storeSuite(kind: "pglite" | "postgres") {
  describe(`DatabaseTaskStore and ServedPayments on ${kind}`, function () {
    let db: Database;
    let drop: (() => Promise<void>) | undefined;
    before(async function () {
      if (kind === "pglite") db = await openDatabase("memory:");
      else {
        const fresh = await freshDatabase(requirePostgres(this));
        drop = fresh.drop;
        db = await openDatabase(fresh.url, { poolSize: 2 });
      }
    });
    after(async function () {
      await db?.close();
      await drop?.();
    });

    it("ServedPayments.claimCheckout: the first payment claims a checkout, the same payment again still holds it, another (even at once) is refused", async function () {
      const checkout = { hash: "a".repeat(64), orderId: "order-1", exp: Math.floor(Date.now() / 1000) + 900 };
      const payment = (nonce: string) => ({ network: NETWORK, payer: "0xAbC0000000000000000000000000000000000001", nonce });
      for (const served of [new ServedPayments(db), new ServedPayments()]) {
        expect(await served.claimCheckout(checkout, payment("0x01"))).to.equal(true);
        expect(await served.claimCheckout(checkout, { ...payment("0x01"), payer: payment("0x01").payer.toLowerCase() })).to.equal(true);
        expect(await served.claimCheckout(checkout, payment("0x02"))).to.equal(false);
        const racing = await Promise.all(["0x03", "0x04", "0x05"].map((n) => served.claimCheckout({ ...checkout, hash: "b".repeat(64) }, payment(n))));
        expect(racing.filter(Boolean)).to.have.length(1);
      }
      // Another process on the same database sees the claim.
      expect(await new ServedPayments(db).claimCheckout(checkout, payment("0x06"))).to.equal(false);
    });

    it("saves, overwrites and loads a task as the SDK's codec gives it; per tenant and owner, never another's", async function () {
      const store = new DatabaseTaskStore(db);
      const waiting = task("t-1", "c-1", sdk().TaskState.TASK_STATE_INPUT_REQUIRED, "2026-12-03T10:00:00.000Z");
      await store.save(waiting, as("alice"));
      expect(await store.load("t-1", as("alice"))).to.deep.equal(roundTrip(waiting));
      const done = task("t-1", "c-1", sdk().TaskState.TASK_STATE_COMPLETED, "2026-12-03T10:00:05.000Z", "volumes up 12%");
      await store.save(done, as("alice"));
      const loaded = (await store.load("t-1", as("alice")))!;
      expect(loaded).to.deep.equal(roundTrip(done));
      expect(loaded.artifacts[0].parts[0].content).to.deep.equal({ $case: "text", value: "volumes up 12%" });
      expect(loaded.metadata).to.deep.equal({ [A2A_X402.status]: "payment-required", amount: "10000" });
      expect(await store.load("t-1", as("bob"))).to.equal(undefined);
      expect(await store.load("t-1", as("alice", "other-tenant"))).to.equal(undefined);
      expect(await store.load("t-2", as("alice"))).to.equal(undefined);
    });

    it("lists newest first, filtered by context, state and time, in pages that cover every task once; artifacts only when asked", async function () {
      const store = new DatabaseTaskStore(db);
      const { TASK_STATE_INPUT_REQUIRED: waiting, TASK_STATE_COMPLETED: done } = sdk().TaskState;
      for (let i = 0; i < 5; i++)
        await store.save(task(`l-${i}`, i < 3 ? "c-a" : "c-b", i % 2 ? done : waiting, `2026-12-03T11:00:0${i}.000Z`, "r"), as("lister"));
      await store.save(task("l-x", "c-a", waiting, "2026-12-03T11:00:09.000Z"), as("someone-else"));
      const base = { tenant: "", contextId: "", status: 0, pageToken: "", statusTimestampAfter: undefined };
      const all = await store.list({ ...base }, as("lister"));
      expect(all.tasks.map((t) => t.id)).to.deep.equal(["l-4", "l-3", "l-2", "l-1", "l-0"]);
      expect(all).to.deep.include({ totalSize: 5, pageSize: 50, nextPageToken: "" });
      expect(all.tasks.every((t) => t.artifacts.length === 0)).to.equal(true);
      expect((await store.list({ ...base, includeArtifacts: true }, as("lister"))).tasks[0].artifacts).to.have.length(1);
      expect((await store.list({ ...base, contextId: "c-a" }, as("lister"))).tasks.map((t) => t.id)).to.deep.equal(["l-2", "l-1", "l-0"]);
      expect((await store.list({ ...base, status: done }, as("lister"))).tasks.map((t) => t.id)).to.deep.equal(["l-3", "l-1"]);
      const after = await store.list({ ...base, statusTimestampAfter: "2026-12-03T11:00:02.000Z" }, as("lister"));
      expect(after.tasks.map((t) => t.id)).to.deep.equal(["l-4", "l-3"]);

      const seen: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await store.list({ ...base, pageSize: 2, pageToken: token }, as("lister"));
        expect(page).to.deep.include({ totalSize: 5, pageSize: 2 });
        seen.push(...page.tasks.map((t) => t.id));
        token = page.nextPageToken;
        pages++;
      } while (token);
      expect(seen).to.deep.equal(["l-4", "l-3", "l-2", "l-1", "l-0"]);
      expect(pages).to.equal(3);

      await expect(store.list({ ...base, pageToken: "not-ours" }, as("lister"))).to.be.rejectedWith(
        InvalidInputError,
        'page token "not-ours" was not given by this agent',
      );
      await expect(store.list({ ...base, statusTimestampAfter: "yesterday" }, as("lister"))).to.be.rejectedWith(
        InvalidInputError,
        'statusTimestampAfter "yesterday" is not an ISO 8601 time',
      );
    });
  });
}

/**
 * Agents' merchants that must not forget. A2A: its tasks in the database survive a crash (`netd x402 serve-a2a --database`
 * killed with SIGKILL while a task waits for payment, then started again), and an exact payment settled just before
 * the agent lost its answer does its work once when submitted again, and never twice. MCP: the same for a paid tool.
 */
describe("A2A and MCP: merchants keep tasks and payments across a crash; shoppers refuse terms they cannot check", function () {
  this.timeout(180_000);
  storeSuite("pglite");
  storeSuite("postgres");

  describe("with money, on a real node", function () {
    let env: X402Environment;
    before(async function () {
      env = await startX402Environment();
    });
    after(async function () {
      await env?.stop();
    });

    /** A message in a task (or starting one) from the shopper, with the extension activated. */
    async function send(
      client: Awaited<ReturnType<InstanceType<ReturnType<typeof sdkClient>["ClientFactory"]>["createFromUrl"]>>,
      words: string,
      metadata = {},
      t?: Task,
    ) {
      const answer = (await client.sendMessage(
        {
          tenant: "",
          message: {
            messageId: `m-${Math.random()}`,
            contextId: t?.contextId ?? "",
            taskId: t?.id ?? "",
            role: sdk().Role.ROLE_USER,
            parts: [{ content: { $case: "text", value: words }, metadata: undefined, filename: "", mediaType: "text/plain" }],
            metadata,
            extensions: [A2A_X402_EXTENSION],
            referenceTaskIds: [],
          },
          configuration: undefined,
          metadata: undefined,
        },
        { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
      )) as unknown as { payload?: { value: Task } } & Task;
      return answer.payload?.value ?? answer;
    }
    const metaOf = (t: Task) => (t.status?.message?.metadata ?? {}) as Record<string, unknown>;

    it("serve-a2a --database, killed while a task waits for payment: started again, it takes the payment in that task and does the work once", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "netd-a2a-crash-"));
      const deployment = path.join(dir, "deployment.json");
      writeFileSync(deployment, JSON.stringify(env.deployment, null, 2));
      const merchant = new NetdProcess(
        await freePort(),
        ["x402", "serve-a2a", "--price", "0.01", "--database", path.join(dir, "db"), "--pay-to", env.merchant.address],
        {
          NETD_RPC_URL: env.node.url,
          NETD_DEPLOYMENT: deployment,
          NETD_PRIVATE_KEY: devnetWallet(12).privateKey,
        },
      );
      await merchant.start();
      try {
        expect(merchant.output).to.match(/tasks\s+pglite .*db \(kept across restarts\)/);
        const shopper = await new (sdkClient().ClientFactory)().createFromUrl(merchant.url);
        const waiting = await send(shopper, "stablecoins");
        expect(metaOf(waiting)[A2A_X402.status]).to.equal("payment-required");
        await merchant.kill();
        await merchant.start();
        const before = await env.token.balanceOf(env.merchant.address);
        const again = await new (sdkClient().ClientFactory)().createFromUrl(merchant.url);
        const paying = new PayingClient({ signer: env.agent, controls: { maxPerPayment: 10_000n } });
        const bought = await new PayingA2AClient(again, paying).payTask(waiting, "netd-demo-reports");
        expect(bought.task.id).to.equal(waiting.id);
        expect(bought.task.status?.state).to.equal(sdk().TaskState.TASK_STATE_COMPLETED);
        expect(bought.result).to.equal("Market report on stablecoins: volumes up 12% this quarter, fees down 3%.");
        expect(bought.payment).to.include({ status: "settled", amount: 10_000n });
        expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);
      } finally {
        await merchant.stop();
      }
    });

    it("an exact payment settled as the answer was lost: submitted again it does the work once; a third time, or in a new task, it is refused", async function () {
      const db = await openDatabase("memory:");
      let works = 0;
      let lose = true;
      // The facilitator settles, and its answer is lost on the way back (a dropped connection, the agent stopping).
      const facilitator: FacilitatorLike = {
        verify: (p, r) => env.facilitator.verify(p, r),
        settle: async (p, r) => {
          const settled = await env.facilitator.settle(p, r);
          if (lose) {
            lose = false;
            throw new Error("socket hang up");
          }
          return settled;
        },
      };
      const server = await serveA2AMerchant(
        { name: "report-shop", description: "sells market reports" },
        {
          resource: "a2a://report-shop/report",
          description: "a market report",
          price: "$0.01",
          payTo: env.merchant.address,
          network: NETWORK,
          asset: env.asset,
          facilitator,
          served: new ServedPayments(db),
          run: async (request) => {
            works++;
            return `report on ${request}`;
          },
        },
        0,
        "127.0.0.1",
        { tasks: new DatabaseTaskStore(db) },
      );
      env.servers.push(server);
      try {
        const shopper = await new (sdkClient().ClientFactory)().createFromUrl(server.url);
        const waiting = await send(shopper, "bonds");
        const required = metaOf(waiting)[A2A_X402.required] as PaymentRequired;
        const paying = new PayingClient({ signer: env.agent, controls: { maxPerPayment: 10_000n } });
        const { payment } = await paying.signExact(required, required.accepts[0], "report-shop");
        const before = await env.token.balanceOf(env.merchant.address);
        const submit = (t: Task, p: PaymentPayload) =>
          send(shopper, "Here is the payment.", { [A2A_X402.status]: "payment-submitted", [A2A_X402.payload]: p }, t);

        const lost = await submit(waiting, payment);
        expect(lost.status?.state).to.equal(sdk().TaskState.TASK_STATE_INPUT_REQUIRED);
        expect((metaOf(lost)[A2A_X402.required] as PaymentRequired).error).to.match(
          /may have been settled: present the same payment again, it is never charged twice/,
        );
        expect(works).to.equal(0);
        expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);

        const done = await submit(waiting, payment);
        expect(done.status?.state).to.equal(sdk().TaskState.TASK_STATE_COMPLETED);
        expect(metaOf(done)[A2A_X402.status]).to.equal("payment-completed");
        expect(works).to.equal(1);

        const replayed = await submit(await send(shopper, "more bonds"), payment);
        expect(replayed.status?.state).to.equal(sdk().TaskState.TASK_STATE_INPUT_REQUIRED);
        expect((metaOf(replayed)[A2A_X402.required] as PaymentRequired).error).to.equal("invalid_exact_evm_nonce_already_used: this payment was already used");
        // The SDK itself refuses anything more in a completed task.
        await expect(submit(done, payment)).to.be.rejectedWith(/is in a terminal state/);
        expect(works).to.equal(1);
        expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);
      } finally {
        await db.close();
      }
    });

    it("the shopper pays only the standalone flow: embedded terms (no x402.payment.required) or a malformed PaymentRequired are rejected, nothing signed", async function () {
      let works = 0;
      const server = await serveA2AMerchant(
        { name: "report-shop", description: "sells market reports" },
        {
          resource: "a2a://report-shop/report",
          description: "a market report",
          price: "$0.01",
          payTo: env.merchant.address,
          network: NETWORK,
          asset: env.asset,
          facilitator: env.facilitator,
          run: async () => `report ${++works}`,
        },
      );
      env.servers.push(server);
      const shopper = await new (sdkClient().ClientFactory)().createFromUrl(server.url);
      const paying = new PayingClient({ signer: env.agent, controls: { maxPerPayment: 10_000n } });
      // As the merchant sends it, the standalone terms are there.
      expect(metaOf(await send(shopper, "x"))).to.have.property(A2A_X402.required);
      for (const [change, message] of [
        [(m: Record<string, unknown>) => delete m[A2A_X402.required], /asks for payment in the a2a-x402 embedded flow/],
        [
          (m: Record<string, unknown>) => (m[A2A_X402.required] = { x402Version: 2, accepts: "all of them" }),
          /is not an x402 v2 PaymentRequired: .*accepts: Expected array, received string/,
        ],
      ] as [(m: Record<string, unknown>) => void, RegExp][]) {
        const waiting = await send(shopper, "stablecoins");
        change(metaOf(waiting));
        await expect(new PayingA2AClient(shopper, paying).payTask(waiting, "report-shop")).to.be.rejectedWith(message);
        // The merchant was told (payment-rejected): the task is canceled, no work done, nothing signed.
        const after = (await shopper.getTask({ tenant: "", id: waiting.id, historyLength: undefined })) as Task;
        expect(after.status?.state).to.equal(sdk().TaskState.TASK_STATE_CANCELED);
      }
      expect(paying.payments).to.deep.equal([]);
      expect(works).to.equal(0);
    });

    it("MCP: an exact payment settled as the answer was lost runs the tool once when presented again; with the record in memory it stays refused", async function () {
      for (const durable of [true, false]) {
        const db = durable ? await openDatabase("memory:") : undefined;
        let runs = 0;
        let lose = true;
        const server = new McpServer({ name: "netd-once-tools", version: "1.0.0" });
        paidTool(
          server,
          "forecast",
          { description: "tomorrow's weather", inputSchema: { city: z.string() } },
          {
            price: "$0.01",
            payTo: env.merchant.address,
            network: NETWORK,
            asset: env.asset,
            served: new ServedPayments(db),
            facilitator: {
              verify: (p, r) => env.facilitator.verify(p, r),
              settle: async (p, r) => {
                const settled = await env.facilitator.settle(p, r);
                if (!lose) return settled;
                lose = false;
                throw new Error("socket hang up");
              },
            },
          },
          async ({ city }) => {
            runs++;
            return { content: [{ type: "text", text: `sunny in ${city}` }] };
          },
        );
        const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
        await server.connect(serverSide);
        const client = new Client({ name: "once-agent", version: "1.0.0" });
        await client.connect(clientSide);
        try {
          const asked = await client.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
          const required = paymentRequiredOf(asked as never)!;
          const { payment } = await new PayingClient({ signer: env.agent }).signExact(required, required.accepts[0], "netd-once-tools");
          const call = () => client.callTool({ name: "forecast", arguments: { city: "Lisbon" }, _meta: { [MCP_PAYMENT_META]: payment } });
          const before = await env.token.balanceOf(env.merchant.address);
          const lost = await call();
          expect(lost.isError).to.equal(true);
          expect((lost.content as { text: string }[])[0].text).to.match(
            /^the payment facilitator could not be reached \(socket hang up\); the payment may have been settled/,
          );
          expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);
          const again = await call();
          if (durable) {
            expect(again.content).to.deep.equal([{ type: "text", text: "sunny in Lisbon" }]);
            expect((again._meta as Record<string, { success: boolean; payer: string }>)[MCP_PAYMENT_RESPONSE_META]).to.include({
              success: true,
              payer: env.agent.address,
            });
            expect(paymentRequiredOf((await call()) as never)!.error).to.equal("invalid_exact_evm_nonce_already_used: this payment was already used");
            expect(runs).to.equal(1);
          } else {
            expect(paymentRequiredOf(again as never)!.error).to.match(/^invalid_exact_evm_nonce_already_used/);
            expect(runs).to.equal(0);
          }
          expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);
        } finally {
          await client.close();
          await server.close();
          await db?.close();
        }
      }
    });

    it("MCP: a facilitator over HTTP that refuses with a 4xx (the reference client throws VerifyError or SettleError) is a refusal in its words, not an outage", async function () {
      // A facilitator in front of ours: /verify refuses the first payment with 400; /settle refuses every one with 400.
      let verifies = 0;
      const app = express();
      app.use(express.json());
      app.post("/verify", async (req, res) => {
        if (verifies++ === 0)
          return void res.status(400).json({ isValid: false, invalidReason: REASON.insufficientBalance, invalidMessage: "the payer holds 0" });
        res.json(await env.facilitator.verify(req.body.paymentPayload, req.body.paymentRequirements));
      });
      app.post("/settle", (_req, res) =>
        res
          .status(400)
          .json({ success: false, errorReason: "invalid_transaction_state", errorMessage: "the transfer reverted", transaction: "", network: NETWORK }),
      );
      const refusing = await listen(app, 0);
      env.servers.push(refusing);
      let runs = 0;
      const server = new McpServer({ name: "netd-refusing-tools", version: "1.0.0" });
      paidTool(
        server,
        "forecast",
        { description: "tomorrow's weather", inputSchema: { city: z.string() } },
        { price: "$0.01", payTo: env.merchant.address, network: NETWORK, asset: env.asset, facilitator: facilitatorByUrl(refusing.url) },
        async ({ city }) => {
          runs++;
          return { content: [{ type: "text", text: `sunny in ${city}` }] };
        },
      );
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: "refused-agent", version: "1.0.0" });
      await client.connect(clientSide);
      try {
        const before = await env.token.balanceOf(env.agent.address);
        const agent = new PayingClient({ signer: env.agent });
        const paying = new PayingMcpClient(client, agent);
        const unverified = await paying.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
        expect(paymentRequiredOf(unverified as never)!.error).to.equal(`${REASON.insufficientBalance}: the payer holds 0`);
        const unsettled = await paying.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
        expect(paymentRequiredOf(unsettled as never)!.error).to.equal("invalid_transaction_state: the transfer reverted");
        expect(agent.payments.map((p) => p.status)).to.deep.equal(["refused", "refused"]);
        expect(runs).to.equal(0);
        expect(await env.token.balanceOf(env.agent.address)).to.equal(before);
      } finally {
        await client.close();
        await server.close();
      }
    });
  });
});
