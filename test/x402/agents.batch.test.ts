import { expect } from "chai";
import { z } from "zod";
import { Wallet } from "ethers";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { devnetWallet } from "../../src/devnet";
import { openDatabase, type Database } from "../../src/db";
import {
  BATCH_REASON,
  BatchSettlementServer,
  ChannelClaimer,
  ChannelStore,
  MCP_PAYMENT_META,
  MCP_PAYMENT_RESPONSE_META,
  PayingClient,
  PayingMcpClient,
  PaymentRefusedError,
  facilitatorByUrl,
  paidTool,
  PayingA2AClient,
  serveA2AMerchant,
  type FacilitatorLike,
  paymentRequiredOf,
} from "../../src/x402";
import { A2A_X402_EXTENSION } from "../../src/x402/a2a";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";
import { referenceBatchFetch } from "../helpers/batch";

type ToolAnswer = CallToolResult & { _meta?: Record<string, unknown> };

/**
 * batch-settlement where agents talk. Over MCP: a tool priced $0.0001 a call takes a channel deposit once, then one voucher per call,
 * each in the one tools/call request (no PaymentRequired round trip); the merchant is paid by one claim for all of
 * them. Our PayingMcpClient pays it, and so does the x402 reference client (2.27's batch-settlement scheme, driving the
 * MCP SDK's own Client as an MCP transport would). Every refusal is a PaymentRequired with the reference reason. Over A2A: a merchant agent's
 * task is paid by a voucher in the task (a deposit the first time), the work done once it is charged, every report
 * claimed at once later.
 */
describe("x402 batch-settlement over MCP and A2A: a voucher per tool call, a voucher per task", function () {
  this.timeout(180_000);
  let env: X402Environment;
  let db: Database;
  let batch: BatchSettlementServer;
  let server: McpServer;
  let client: Client;
  let served = 0;
  let calls = 0;
  let facilitator: FacilitatorLike;
  const PRICE = 100n;

  before(async function () {
    env = await startX402Environment();
    db = await openDatabase("memory:");
    batch = await BatchSettlementServer.create({
      store: new ChannelStore(db),
      facilitator: facilitatorByUrl(env.facilitatorServer.url),
      provider: env.provider,
      network: NETWORK,
      asset: env.asset,
      payTo: env.merchant.address,
      receiverAuthorizer: devnetWallet(15),
      stateTtlMs: 0,
    });
    facilitator = facilitatorByUrl(env.facilitatorServer.url);
    server = new McpServer({ name: "netd-mcp-batch", version: "1.0.0" });
    paidTool(
      server,
      "tick",
      { description: "one tick of a metered feed", inputSchema: { n: z.number() } },
      { price: "$0.0001", payTo: env.merchant.address, network: NETWORK, asset: env.asset, facilitator, schemes: ["batch-settlement", "exact"], batch },
      async ({ n }) => {
        served++;
        return { content: [{ type: "text", text: `tick ${n}` }] };
      },
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: "test-agent", version: "1.0.0" });
    await client.connect(clientSide);
    // Every tools/call the agent sends, counted.
    const call = client.callTool.bind(client);
    client.callTool = ((...args: Parameters<Client["callTool"]>) => {
      calls++;
      return call(...args);
    }) as Client["callTool"];
  });
  after(async function () {
    await client?.close();
    await server?.close();
    await env?.stop();
    await db?.close();
  });

  const fund = async (amount = 1_000_000n) => {
    const payer = new Wallet(Wallet.createRandom().privateKey, env.provider);
    await (await env.token.connect(env.agent).transfer(payer.address, amount)).wait();
    return payer;
  };
  const meta = (result: unknown) =>
    (result as ToolAnswer)._meta?.[MCP_PAYMENT_RESPONSE_META] as (SettleResponse & { extra?: Record<string, unknown> }) | undefined;

  it("the SDK's own client sees both offers, batch-settlement first with its receiver authorizer and minimum deposit; nothing runs", async function () {
    const result = await client.callTool({ name: "tick", arguments: { n: 0 } });
    const required = paymentRequiredOf(result as never)!;
    expect(required.accepts.map((a) => a.scheme)).to.deep.equal(["batch-settlement", "exact"]);
    expect(required.accepts[0]).to.deep.include({ amount: "100", payTo: env.merchant.address, asset: env.asset.address, network: NETWORK });
    expect(required.accepts[0].extra).to.deep.include({ receiverAuthorizer: devnetWallet(15).address, minDeposit: "2000", withdrawDelay: 900 });
    expect(served).to.equal(0);
  });

  it("our client: one deposit, then one tools/call per paid call; 25 calls, one claim pays the merchant exactly 25 × the price", async function () {
    const payer = await fund();
    const paying = new PayingClient({ signer: payer, channels: { deposit: 10_000n }, controls: { maxPerPayment: PRICE, maxDeposit: 10_000n } });
    const agent = new PayingMcpClient(client, paying);
    const [payerBefore, merchantBefore] = await Promise.all([env.token.balanceOf(payer.address), env.token.balanceOf(env.merchant.address)]);
    const [servedBefore, callsBefore] = [served, calls];
    for (let i = 1; i <= 25; i++) {
      const result = await agent.callTool({ name: "tick", arguments: { n: i } });
      expect(result.isError, JSON.stringify(result)).to.not.equal(true);
      expect(result.content).to.deep.equal([{ type: "text", text: `tick ${i}` }]);
      expect(meta(result)).to.deep.include({ success: true, payer: payer.address });
      expect(meta(result)!.extra).to.deep.include({ chargedAmount: "100" });
    }
    expect(served - servedBefore).to.equal(25);
    // The first call asked (1) then deposited with its voucher (1); every later call is its voucher alone.
    expect(calls - callsBefore).to.equal(26);
    expect(paying.payments.map((p) => p.status)).to.deep.equal(Array(25).fill("settled"));
    expect(paying.payments[0]).to.deep.include({ scheme: "batch-settlement", deposit: 10_000n, ceiling: 100n, host: "netd-mcp-batch" });
    expect(paying.payments[24]).to.deep.include({ ceiling: 2_500n, deposit: undefined });
    // The deposit left the payer; nothing reached the merchant until the claim.
    expect(payerBefore - (await env.token.balanceOf(payer.address))).to.equal(10_000n);
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(merchantBefore);
    const report = await new ChannelClaimer(batch).claimAndSettle();
    expect(report.claims.reduce((s, c) => s + c.amount, 0n)).to.equal(25n * PRICE);
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(25n * PRICE);
  });

  it("spend controls refuse a price above the per-payment maximum and a deposit above the maximum deposit, before anything is signed", async function () {
    const payer = await fund();
    const before = await env.token.balanceOf(payer.address);
    const cheap = new PayingMcpClient(client, new PayingClient({ signer: payer, channels: { deposit: 10_000n }, controls: { maxPerPayment: 99n } }));
    await expect(cheap.callTool({ name: "tick", arguments: { n: 1 } })).to.be.rejectedWith(PaymentRefusedError, /above the maximum per payment/);
    const small = new PayingMcpClient(client, new PayingClient({ signer: payer, channels: { deposit: 10_000n }, controls: { maxDeposit: 9_999n } }));
    await expect(small.callTool({ name: "tick", arguments: { n: 1 } })).to.be.rejectedWith(
      PaymentRefusedError,
      "not paying netd-mcp-batch: the channel needs a deposit of 0.01, above the maximum deposit 0.009999",
    );
    expect(cheap.paying.payments).to.deep.equal([]);
    expect(small.paying.payments).to.deep.equal([]);
    expect(await env.token.balanceOf(payer.address)).to.equal(before);
  });

  it("a replayed voucher, one signed by another key and a malformed one are refused with the reference reason; the tool does not run", async function () {
    const payer = await fund();
    const paying = new PayingClient({ signer: payer, channels: { deposit: 10_000n } });
    const agent = new PayingMcpClient(client, paying);
    await agent.callTool({ name: "tick", arguments: { n: 1 } }); // opens the channel
    // The next voucher on that channel, signed by the client's wallet and presented by hand.
    const offer = paying.knownOffer("mcp://netd-mcp-batch/tick")!;
    const sent = { x402Version: 2, accepted: offer, payload: (await paying.channels!.pay(offer)).payload } as PaymentPayload;
    const runs = served;
    const ok = await client.callTool({ name: "tick", arguments: { n: 2 }, _meta: { [MCP_PAYMENT_META]: sent } });
    expect(ok.isError).to.not.equal(true);
    expect(served).to.equal(runs + 1);
    const replay = await client.callTool({ name: "tick", arguments: { n: 2 }, _meta: { [MCP_PAYMENT_META]: sent } });
    const again = paymentRequiredOf(replay as never)! as { error?: string; message?: string; accepts: PaymentRequirements[] };
    expect(again.error).to.equal(BATCH_REASON.cumulativeAmountMismatch);
    expect(again.message).to.equal("the voucher's ceiling 200 does not cover the 200 already charged plus the price 100");
    expect(again.accepts[0].extra).to.have.property("channelState");
    const voucher = (sent.payload as { voucher: { signature: string } }).voucher;
    const forged = {
      ...sent,
      payload: { ...(sent.payload as object), voucher: { ...voucher, maxClaimableAmount: "1000000", signature: await Wallet.createRandom().signMessage("x") } },
    };
    const wrong = await client.callTool({ name: "tick", arguments: { n: 3 }, _meta: { [MCP_PAYMENT_META]: forged } });
    expect(paymentRequiredOf(wrong as never)!.error).to.equal(BATCH_REASON.voucherSignature);
    const garbled = await client.callTool({
      name: "tick",
      arguments: { n: 3 },
      _meta: { [MCP_PAYMENT_META]: { ...sent, payload: { type: "voucher", voucher: { channelId: "0x12" } } } },
    });
    expect(paymentRequiredOf(garbled as never)!.error).to.equal(BATCH_REASON.voucherPayload);
    expect(served).to.equal(runs + 1);
    // Two calls were served on the channel: exactly those two are claimed.
    const merchantBefore = await env.token.balanceOf(env.merchant.address);
    await new ChannelClaimer(batch).claimAndSettle();
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(2n * PRICE);
  });

  it("the x402 reference client (batch-settlement scheme, unmodified) pays our tool over the MCP SDK's client: 6 calls, one claim", async function () {
    const payer = await fund();
    const { client: reference } = await referenceBatchFetch(env.node.url, payer, env.asset.address);
    const merchantBefore = await env.token.balanceOf(env.merchant.address);
    const runs = served;
    const required = paymentRequiredOf((await client.callTool({ name: "tick", arguments: { n: 0 } })) as never)!;
    for (let i = 1; i <= 6; i++) {
      const payment = await reference.createPaymentPayload(required);
      expect(payment.accepted.scheme).to.equal("batch-settlement");
      const result = (await client.callTool({ name: "tick", arguments: { n: i }, _meta: { [MCP_PAYMENT_META]: payment } })) as ToolAnswer;
      expect(result.isError, JSON.stringify(result)).to.not.equal(true);
      expect(result.content).to.deep.equal([{ type: "text", text: `tick ${i}` }]);
      // What the reference's HTTP transport does with PAYMENT-RESPONSE: its channel state follows the charge.
      await reference.handlePaymentResponse({ paymentPayload: payment, requirements: payment.accepted, settleResponse: meta(result) });
    }
    expect(served - runs).to.equal(6);
    const report = await new ChannelClaimer(batch).claimAndSettle();
    expect(report.claims.reduce((s, c) => s + c.amount, 0n)).to.equal(6n * PRICE);
    expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(6n * PRICE);
  });

  describe("A2A", function () {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ClientFactory } = require("@a2a-js/sdk/client") as typeof import("@a2a-js/sdk/client", { with: { "resolution-mode": "import" } });
    const { TaskState } = require("@a2a-js/sdk") as typeof import("@a2a-js/sdk", { with: { "resolution-mode": "import" } });
    /* eslint-enable @typescript-eslint/no-require-imports */
    let a2a: Awaited<ReturnType<InstanceType<typeof ClientFactory>["createFromUrl"]>>;
    let works = 0;
    const REPORT = 1_000n; // $0.001

    before(async function () {
      const merchant = await serveA2AMerchant(
        { name: "report-shop", description: "sells market reports by the line" },
        {
          resource: "a2a://report-shop/report",
          description: "a one-line market report",
          price: "$0.001",
          payTo: env.merchant.address,
          network: NETWORK,
          asset: env.asset,
          facilitator,
          schemes: ["batch-settlement", "exact"],
          batch,
          run: async (request: string) => {
            works++;
            return `${request}: volumes up 12%`;
          },
        },
      );
      env.servers.push(merchant);
      a2a = await new ClientFactory().createFromUrl(merchant.url);
    });

    it("our shopper: a deposit with the first task's voucher, then a voucher per task; 5 reports, one claim pays exactly 5 × the price", async function () {
      const payer = await fund();
      const paying = new PayingClient({ signer: payer, channels: { deposit: 20_000n }, controls: { maxPerPayment: REPORT, maxDeposit: 20_000n } });
      const shopper = new PayingA2AClient(a2a, paying);
      const [payerBefore, merchantBefore] = await Promise.all([env.token.balanceOf(payer.address), env.token.balanceOf(env.merchant.address)]);
      const runs = works;
      for (let i = 1; i <= 5; i++) {
        const bought = await shopper.buy(`market ${i}`, "report-shop");
        expect(bought.task.status?.state).to.equal(TaskState.TASK_STATE_COMPLETED);
        expect(bought.result).to.equal(`market ${i}: volumes up 12%`);
        const meta = bought.task.status?.message?.metadata as Record<string, unknown>;
        expect(meta["x402.payment.status"]).to.equal("payment-completed");
        expect((meta["x402.payment.receipts"] as { success: boolean; extra?: Record<string, unknown> }[])[0]).to.deep.include({
          success: true,
          payer: payer.address,
        });
        expect(bought.payment).to.deep.include({ status: "settled", scheme: "batch-settlement", amount: REPORT, ceiling: BigInt(i) * REPORT });
      }
      expect(works - runs).to.equal(5);
      expect(paying.payments.map((p) => p.deposit)).to.deep.equal([20_000n, undefined, undefined, undefined, undefined]);
      expect(payerBefore - (await env.token.balanceOf(payer.address))).to.equal(20_000n);
      expect(await env.token.balanceOf(env.merchant.address)).to.equal(merchantBefore);
      await new ChannelClaimer(batch).claimAndSettle();
      expect((await env.token.balanceOf(env.merchant.address)) - merchantBefore).to.equal(5n * REPORT);
    });

    it("a voucher signed by another key leaves the task waiting with the reference reason and does no work; a good one in the same task completes it", async function () {
      const payer = await fund();
      const paying = new PayingClient({ signer: payer, channels: { deposit: 20_000n } });
      await new PayingA2AClient(a2a, paying).buy("opening", "report-shop"); // opens the channel
      const send = async (metadata: Record<string, unknown>, task?: { id: string; contextId: string }) =>
        (await a2a.sendMessage(
          {
            tenant: "",
            message: {
              messageId: `m-${Math.random()}`,
              contextId: task?.contextId ?? "",
              taskId: task?.id ?? "",
              role: 1,
              parts: [{ content: { $case: "text", value: "bonds" }, metadata: undefined, filename: "", mediaType: "text/plain" }],
              metadata,
              extensions: [],
              referenceTaskIds: [],
            },
            configuration: undefined,
            metadata: undefined,
          },
          { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
        )) as unknown as { id: string; contextId: string; status: { state: number; message: { metadata: Record<string, unknown> } } };
      const task = await send({});
      expect(task.status.state).to.equal(TaskState.TASK_STATE_INPUT_REQUIRED);
      const offer = (task.status.message.metadata["x402.payment.required"] as { accepts: PaymentRequirements[] }).accepts[0];
      expect(offer.scheme).to.equal("batch-settlement");
      const good = { x402Version: 2, accepted: offer, payload: (await paying.channels!.pay(offer)).payload } as PaymentPayload;
      const voucher = (good.payload as { voucher: object }).voucher;
      const forged = { ...good, payload: { ...(good.payload as object), voucher: { ...voucher, signature: await Wallet.createRandom().signMessage("x") } } };
      const runs = works;
      const refused = await send({ "x402.payment.status": "payment-submitted", "x402.payment.payload": forged }, task);
      expect(refused.status.state).to.equal(TaskState.TASK_STATE_INPUT_REQUIRED);
      expect(refused.status.message.metadata["x402.payment.status"]).to.equal("payment-required");
      expect((refused.status.message.metadata["x402.payment.required"] as { error: string }).error).to.equal(BATCH_REASON.voucherSignature);
      expect(works).to.equal(runs);
      const paid = await send({ "x402.payment.status": "payment-submitted", "x402.payment.payload": good }, task);
      expect(paid.status.state).to.equal(TaskState.TASK_STATE_COMPLETED);
      expect(paid.status.message.metadata["x402.payment.status"]).to.equal("payment-completed");
      expect(works).to.equal(runs + 1);
    });
  });
});
