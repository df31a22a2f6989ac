import { expect } from "chai";
import express from "express";
import { z } from "zod";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { x402Client, wrapFetchWithPayment } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import {
  MANDATE_REQUIRED_TERMS,
  MandateRefusedError,
  MandateWallet,
  auditMandatePayment,
  generateMandateKey,
  mandateNonce,
  openCheckoutMandate,
  openPaymentMandate,
  payeeOf,
  readCheckout,
  signMandate,
  verifyCheckoutMandateChain,
  verifyPaymentMandateChain,
} from "../../src/ap2";
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { PayingClient, PayingMcpClient, PaymentRefusedError, facilitatorByUrl, listen, paidTool, paywall, type RunningServer } from "../../src/x402";
import { A2A_X402_EXTENSION, PayingA2AClient, serveA2AMerchant } from "../../src/x402/a2a";
import { NETWORK, startReferencePaywall, startX402Environment, type X402Environment } from "../helpers/x402";

/**
 * Payments under an AP2 mandate, with money, on a real node: our client pays our paywall (HTTP) and our paid tool
 * (MCP) under a person's open mandate; the EIP-3009 nonce on chain is the chain's hash and the auditor matches it;
 * a payment without a mandate, or whose nonce is not its mandate's, is refused and moves nothing; a payment over
 * the budget is refused by the agent's own client before it signs.
 */
describe("x402 under AP2 mandates", function () {
  this.timeout(120_000);
  let env: X402Environment;
  let api: RunningServer;
  const user = generateMandateKey();
  const agentKey = generateMandateKey();
  let token: string;
  let served = 0;

  before(async function () {
    env = await startX402Environment();
    const app = express();
    app.use(
      paywall({
        routes: { "GET /forecast": { price: "$1.50" } },
        payTo: env.merchant.address,
        network: NETWORK,
        asset: env.asset,
        facilitator: facilitatorByUrl(env.facilitatorServer.url),
        mandates: { required: true, issuers: [user.publicJwk] },
      }),
    );
    app.get("/forecast", (_req, res) => {
      served++;
      res.json({ forecast: "sunny" });
    });
    api = await listen(app, 0);
    env.servers.push(api);
    // Up to $2 a payment, $3 in all, this merchant only, this week.
    const now = Date.now();
    token = await signMandate(
      openPaymentMandate({
        agentKey: agentKey.publicJwk,
        maxAmount: 2_000_000n,
        budget: 3_000_000n,
        payees: [payeeOf(NETWORK, env.merchant.address, "forecasts")],
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 7 * 86_400_000),
        expiresAt: new Date(now + 7 * 86_400_000),
      }),
      user.privateJwk,
    );
  });
  after(async function () {
    await env?.stop();
  });

  it("HTTP: pays under the mandate; the nonce on chain is the chain's hash and the auditor matches the payment", async function () {
    const wallet = await MandateWallet.open({ mandate: token, agentKey: agentKey.privateJwk });
    const client = new PayingClient({ signer: env.agent, mandate: wallet });
    const before = await env.token.balanceOf(env.merchant.address);
    const res = await client.fetch(`${api.url}/forecast`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ forecast: "sunny" });
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 1_500_000n);
    const [paid] = wallet.payments;
    expect(client.payments.at(-1)).to.include({ status: "settled", nonce: paid.nonce });
    expect(paid.nonce).to.equal(mandateNonce(paid.chain));
    expect(await env.token.authorizationState(env.agent.address, paid.nonce)).to.equal(true);
    const audit = await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain: paid.chain, verify: { issuers: [user.publicJwk] } });
    expect(audit.problems).to.deep.equal([]);
    expect(audit.onChain).to.include({
      payer: env.agent.address,
      to: env.merchant.address,
      value: 1_500_000n,
      transaction: client.payments.at(-1)!.transaction,
    });

    // $1.50 of $3 left: another $1.50 is fine, then the budget is spent and the client refuses before signing.
    expect((await client.fetch(`${api.url}/forecast`)).status).to.equal(200);
    const servedBefore = served;
    const balance = await env.token.balanceOf(env.agent.address);
    let refused: unknown;
    try {
      await client.fetch(`${api.url}/forecast`);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(MandateRefusedError);
    expect((refused as Error).message).to.include("$1.50 would exceed the mandate's budget: $3.00 of $3.00 already spent");
    expect(wallet.payments).to.have.length(2);
    expect(served).to.equal(servedBefore);
    expect(await env.token.balanceOf(env.agent.address)).to.equal(balance);
  });

  it("HTTP: the terms say a mandate is required; our client without one refuses before signing, the reference client's payment is refused; nothing moves", async function () {
    const before = await env.token.balanceOf(env.agent.address);
    const servedBefore = served;
    const terms = decodePaymentRequiredHeader((await fetch(`${api.url}/forecast`)).headers.get("PAYMENT-REQUIRED")!);
    expect(terms.extensions).to.deep.equal({ "ap2-mandate": MANDATE_REQUIRED_TERMS });
    expect(terms.accepts.map((a) => a.scheme)).to.deep.equal(["exact"]);

    const plain = new PayingClient({ signer: env.agent });
    await expect(plain.fetch(`${api.url}/forecast`)).to.be.rejectedWith(
      PaymentRefusedError,
      `not paying ${new URL(api.url).host}: it takes only payments under an AP2 mandate (its terms' extensions["ap2-mandate"]), and this client pays under none`,
    );
    expect(plain.payments).to.deep.equal([]);

    // The reference client signs anyway and echoes the terms' extension: the paywall finds no chain in it.
    const { privateKeyToAccount } = await import("viem/accounts");
    const reference = new x402Client().register(NETWORK, new ExactEvmScheme(privateKeyToAccount(env.agent.privateKey as `0x${string}`)));
    reference.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: env.asset.address, maxAmountPerPayment: "2000000" }] });
    const echoed = await wrapFetchWithPayment(fetch, reference)(`${api.url}/forecast`);
    expect(echoed.status).to.equal(402);
    expect(decodePaymentRequiredHeader(echoed.headers.get("PAYMENT-REQUIRED")!).error).to.equal(
      'invalid_ap2_mandate: the payment carries no AP2 mandate (extensions["ap2-mandate"].chain)',
    );
    // A payment signed without the extension at all is refused the same way.
    const bare = await plain.signExact(terms, terms.accepts[0], "api");
    const unmandated = await fetch(`${api.url}/forecast`, { headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(bare.payment) } });
    expect(unmandated.status).to.equal(402);
    expect(decodePaymentRequiredHeader(unmandated.headers.get("PAYMENT-REQUIRED")!).error).to.equal(
      'invalid_ap2_mandate: the payment carries no AP2 mandate (extensions["ap2-mandate"].chain)',
    );
    expect(served).to.equal(servedBefore);
    expect(await env.token.balanceOf(env.agent.address)).to.equal(before);
  });

  it("HTTP: the paywall refuses a payment whose nonce is not its mandate's hash (so does the facilitator); nothing moves", async function () {
    const before = await env.token.balanceOf(env.agent.address);

    // A mandate chain closed for this offer, carried by an authorization with a random nonce.
    const wallet = await MandateWallet.open({ mandate: token, agentKey: agentKey.privateJwk });
    const first = await fetch(`${api.url}/forecast`);
    const required = decodePaymentRequiredHeader(first.headers.get("PAYMENT-REQUIRED")!);
    const { chain } = await wallet.authorize(required.resource.url, required.accepts[0]);
    const { payment } = await new PayingClient({ signer: env.agent }).signExact(required, required.accepts[0], "api");
    const forged = await fetch(`${api.url}/forecast`, {
      headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader({ ...payment, extensions: { "ap2-mandate": { chain } } }) },
    });
    expect(forged.status).to.equal(402);
    expect(decodePaymentRequiredHeader(forged.headers.get("PAYMENT-REQUIRED")!).error).to.match(
      /^invalid_ap2_mandate: the payment's nonce 0x[0-9a-f]{64} is not the mandate chain's hash 0x[0-9a-f]{64}$/,
    );
    // The facilitator checks the binding too (for a paywall that does not, e.g. the reference's).
    const direct = await env.facilitator.verify({ ...payment, extensions: { "ap2-mandate": { chain } } }, required.accepts[0]);
    expect(direct).to.include({ isValid: false, invalidReason: "invalid_ap2_mandate" });
    expect(direct.invalidMessage).to.match(/^the payment's nonce 0x[0-9a-f]{64} is not the mandate chain's hash/);
    expect(await env.token.balanceOf(env.agent.address)).to.equal(before);
    // The auditor finds no payment for that chain.
    expect((await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain })).problems).to.deep.equal([
      `no payment on chain carries the mandate's nonce ${mandateNonce(chain)}`,
    ]);
  });

  it("MCP: a paid tool that requires a mandate is paid under one, and the auditor matches it", async function () {
    const server = new McpServer({ name: "netd-mandate-tools", version: "1.0.0" });
    paidTool(
      server,
      "forecast",
      { description: "tomorrow's weather", inputSchema: { city: z.string() } },
      { price: "$0.01", payTo: env.merchant.address, network: NETWORK, asset: env.asset, facilitator: env.facilitator, mandates: { required: true } },
      async ({ city }) => ({ content: [{ type: "text", text: `sunny in ${city}` }] }),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "mandate-agent", version: "1.0.0" });
    await client.connect(clientSide);
    try {
      // The tool's terms say a mandate is required: without one, our client refuses before signing.
      const terms = await client.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
      expect((terms.structuredContent as PaymentRequired).extensions).to.deep.equal({ "ap2-mandate": MANDATE_REQUIRED_TERMS });
      const plain = new PayingClient({ signer: env.agent });
      await expect(new PayingMcpClient(client, plain).callTool({ name: "forecast", arguments: { city: "Lisbon" } })).to.be.rejectedWith(
        PaymentRefusedError,
        'it takes only payments under an AP2 mandate (its terms\' extensions["ap2-mandate"]), and this client pays under none',
      );
      expect(plain.payments).to.deep.equal([]);
      // One signed without a mandate anyway is refused by the tool.
      const required = terms.structuredContent as PaymentRequired;
      const { payment } = await plain.signExact(required, required.accepts[0], "tools");
      const unmandated = await client.callTool({ name: "forecast", arguments: { city: "Lisbon" }, _meta: { "x402/payment": payment } });
      expect(unmandated.isError).to.equal(true);
      expect((unmandated.structuredContent as { error: string }).error).to.match(/^invalid_ap2_mandate: the payment carries no AP2 mandate/);

      const mandate = await signMandate(openPaymentMandate({ agentKey: agentKey.publicJwk, maxAmount: 10_000n, budget: 10_000n }), user.privateJwk);
      const wallet = await MandateWallet.open({ mandate, agentKey: agentKey.privateJwk });
      const agent = new PayingMcpClient(client, new PayingClient({ signer: env.agent, mandate: wallet }));
      const result = await agent.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
      expect(result.content).to.deep.equal([{ type: "text", text: "sunny in Lisbon" }]);
      const audit = await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain: wallet.payments[0].chain });
      expect(audit.problems).to.deep.equal([]);
      expect(audit.mandate.aud).to.equal("mcp://tool/forecast");
      expect(audit.onChain).to.include({ value: 10_000n, to: env.merchant.address });
    } finally {
      await client.close();
      await server.close();
    }
  });
  it("A2A: a merchant agent sells a task; the SDK's client sees payment-required; ours pays under a mandate and gets the result", async function () {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ClientFactory } = require("@a2a-js/sdk/client") as typeof import("@a2a-js/sdk/client", { with: { "resolution-mode": "import" } });
    const { TaskState } = require("@a2a-js/sdk") as typeof import("@a2a-js/sdk", { with: { "resolution-mode": "import" } });
    /* eslint-enable @typescript-eslint/no-require-imports */
    let works = 0;
    const skill = {
      resource: "a2a://report-shop/report",
      description: "a market report",
      price: "$1.00",
      payTo: env.merchant.address,
      network: NETWORK as typeof NETWORK,
      asset: env.asset,
      facilitator: env.facilitator,
      mandates: { required: true, issuers: [user.publicJwk] },
      run: async (request: string) => {
        works++;
        return `report on ${request}: volumes up 12%`;
      },
    };
    const server = await serveA2AMerchant({ name: "report-shop", description: "sells market reports" }, skill);
    env.servers.push(server);
    const card = (await (await fetch(`${server.url}/.well-known/agent-card.json`)).json()) as {
      capabilities: { extensions: { uri: string; required: boolean }[] };
    };
    expect(card.capabilities.extensions).to.deep.include({
      uri: A2A_X402_EXTENSION,
      description: "Supports payments using the x402 protocol for on-chain settlement.",
      required: true,
    });
    const client = await new ClientFactory().createFromUrl(server.url);

    // The SDK's own client, not paying: the task waits in input-required with the PaymentRequired, nothing is done.
    const plain = (await client.sendMessage(
      {
        tenant: "",
        message: {
          messageId: "m-1",
          contextId: "",
          taskId: "",
          role: 1,
          parts: [{ content: { $case: "text", value: "stablecoins" }, metadata: undefined, filename: "", mediaType: "text/plain" }],
          metadata: {},
          extensions: [],
          referenceTaskIds: [],
        },
        configuration: undefined,
        metadata: undefined,
      },
      { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
    )) as { status: { state: number; message: { metadata: Record<string, { accepts?: { amount: string; payTo: string }[] }> } } };
    expect(plain.status.state).to.equal(TaskState.TASK_STATE_INPUT_REQUIRED);
    const waiting = plain.status.message.metadata;
    expect(waiting["x402.payment.status"]).to.equal("payment-required");
    expect(waiting["x402.payment.required"].accepts![0]).to.include({ amount: "1000000", payTo: env.merchant.address });
    const mandate = await signMandate(openPaymentMandate({ agentKey: agentKey.publicJwk, maxAmount: 1_000_000n, budget: 1_000_000n }), user.privateJwk);
    const wallet = await MandateWallet.open({ mandate, agentKey: agentKey.privateJwk });
    // Our client under spend controls that do not allow the price: refused before signing, nothing done.
    const asked = await new PayingA2AClient(client, new PayingClient({ signer: env.agent, controls: { maxPerPayment: 1n }, mandate: wallet }))
      .buy("stablecoins", "report-shop")
      .catch((e: Error) => e);
    expect(asked).to.be.instanceOf(Error);
    expect((asked as Error).message).to.include("above the maximum per payment");
    // The terms say a mandate is required: our client without one refuses before signing, and tells the merchant.
    expect(waiting["x402.payment.required"]).to.deep.include({ extensions: { "ap2-mandate": MANDATE_REQUIRED_TERMS } });
    const unmandated = new PayingClient({ signer: env.agent });
    await expect(new PayingA2AClient(client, unmandated).buy("stablecoins", "report-shop")).to.be.rejectedWith(
      PaymentRefusedError,
      'not paying report-shop: it takes only payments under an AP2 mandate (its terms\' extensions["ap2-mandate"]), and this client pays under none',
    );
    expect(unmandated.payments).to.deep.equal([]);
    expect(works).to.equal(0);
    expect(wallet.payments).to.deep.equal([]);

    const before = await env.token.balanceOf(env.merchant.address);
    const bought = await new PayingA2AClient(client, new PayingClient({ signer: env.agent, mandate: wallet })).buy("stablecoins", "report-shop");
    expect(bought.task.status?.state).to.equal(TaskState.TASK_STATE_COMPLETED);
    expect(bought.result).to.equal("report on stablecoins: volumes up 12%");
    const meta = bought.task.status?.message?.metadata as Record<string, unknown>;
    expect(meta["x402.payment.status"]).to.equal("payment-completed");
    expect((meta["x402.payment.receipts"] as { success: boolean }[])[0]).to.include({ success: true, payer: env.agent.address });
    expect(bought.payment).to.include({ status: "settled", amount: 1_000_000n, nonce: wallet.payments[0].nonce });
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 1_000_000n);
    expect(works).to.equal(1);
    expect((await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain: wallet.payments[0].chain })).problems).to.deep.equal([]);

    // A second purchase is over the mandate's budget: refused before signing, the merchant is told it was rejected.
    const over = await new PayingA2AClient(client, new PayingClient({ signer: env.agent, mandate: wallet })).buy("bonds", "report-shop").catch((e: Error) => e);
    expect(over).to.be.instanceOf(MandateRefusedError);
    expect(works).to.equal(1);
  });
  it("interop: our client pays the x402 reference paywall (@x402/express) under a mandate; the payment is bound and audited", async function () {
    const reference = await startReferencePaywall(env.facilitatorServer.url, env.asset, env.merchant.address, "10000");
    env.servers.push(reference);
    const mandate = await signMandate(openPaymentMandate({ agentKey: agentKey.publicJwk, maxAmount: 10_000n, budget: 10_000n }), user.privateJwk);
    const wallet = await MandateWallet.open({ mandate, agentKey: agentKey.privateJwk });
    const client = new PayingClient({ signer: env.agent, mandate: wallet });
    const res = await client.fetch(`${reference.url}/reference`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ served: "by the reference paywall" });
    expect(client.payments.at(-1)).to.include({ status: "settled", nonce: wallet.payments[0].nonce });
    expect((await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain: wallet.payments[0].chain })).problems).to.deep.equal([]);
  });

  it("HTTP and MCP by checkout: every offer is a new signed checkout for its route or tool; paid once under a checkout mandate; the same checkout again, or another route's, is refused with nothing moved", async function () {
    const shopKey = generateMandateKey();
    const sale = { key: shopKey.privateJwk, merchant: { name: "Forecasts" } };
    let works = 0;
    const app = express();
    app.use(
      paywall({
        routes: { "GET /by-checkout": { price: "$1.00", description: "a forecast", checkout: sale }, "GET /other": { price: "$1.00", checkout: sale } },
        payTo: env.merchant.address,
        network: NETWORK,
        asset: env.asset,
        facilitator: env.facilitator,
      }),
    );
    app.get(["/by-checkout", "/other"], (_req, res) => {
      works++;
      res.json({ forecast: "sunny" });
    });
    const shop = await listen(app, 0);
    env.servers.push(shop);
    const termsOf = async (path: string) => decodePaymentRequiredHeader((await fetch(`${shop.url}${path}`)).headers.get("PAYMENT-REQUIRED")!);
    const terms = await termsOf("/by-checkout");
    expect(terms.extensions?.["ap2-mandate"]).to.deep.equal(MANDATE_REQUIRED_TERMS);
    const jwt = (terms.extensions?.["ap2-checkout"] as { checkout_jwt: string }).checkout_jwt;
    const { checkout } = await readCheckout(jwt, { merchantKey: shopKey.publicJwk });
    expect(checkout).to.deep.include({ total_price: 1, currency: "USD" });
    expect(checkout.line_items).to.deep.equal([
      { id: "line_1", product: { id: "GET /by-checkout", title: "a forecast", price: 1, currency: "USD" }, quantity: 1 },
    ]);
    expect(checkout.merchant).to.deep.include({ id: `${NETWORK}:${env.merchant.address}`, name: "Forecasts" });
    // Every offer is a new order.
    const again = (await termsOf("/by-checkout")).extensions?.["ap2-checkout"] as { checkout_jwt: string };
    expect((await readCheckout(again.checkout_jwt)).checkout.order_id).to.not.equal(checkout.order_id);

    const openCheckout = await signMandate(
      openCheckoutMandate({
        agentKey: agentKey.publicJwk,
        merchants: [payeeOf(NETWORK, env.merchant.address)],
        lineItems: [
          {
            id: "one-forecast",
            acceptable: [
              { id: "GET /by-checkout", title: "a forecast" },
              { id: "GET /other", title: "GET /other" },
            ],
            quantity: 1,
          },
        ],
      }),
      user.privateJwk,
    );
    const payment = await signMandate(openPaymentMandate({ agentKey: agentKey.publicJwk, maxAmount: 1_000_000n, budget: 5_000_000n }), user.privateJwk);
    const wallet = await MandateWallet.open({ mandate: payment, checkout: openCheckout, agentKey: agentKey.privateJwk });
    const agent = new PayingClient({ signer: env.agent, mandate: wallet });
    const before = await env.token.balanceOf(env.merchant.address);
    const res = await agent.fetch(`${shop.url}/by-checkout`);
    expect(res.status).to.equal(200);
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 1_000_000n);
    const closed = (await verifyPaymentMandateChain(wallet.payments[0].chain)).closed;
    expect(closed.transaction_id).to.equal((await verifyCheckoutMandateChain(wallet.payments[0].checkout!)).closed.checkout_hash);

    // One checkout, two payments (two payment mandates closed for it): the second is refused before it is settled.
    const send = (path: string, p: PaymentPayload) => fetch(`${shop.url}${path}`, { headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(p) } });
    const { payment: first } = await agent.signExact(terms, terms.accepts[0], "shop");
    const { payment: second } = await agent.signExact(terms, terms.accepts[0], "shop");
    expect((await send("/by-checkout", first)).status).to.equal(200);
    const twice = await send("/by-checkout", second);
    expect(twice.status).to.equal(402);
    expect(decodePaymentRequiredHeader(twice.headers.get("PAYMENT-REQUIRED")!).error).to.equal(
      `invalid_ap2_mandate: checkout ${checkout.order_id} was already paid by another payment`,
    );
    // Another route's checkout, presented here: refused.
    const other = await termsOf("/other");
    const swapped = { ...terms, extensions: { ...terms.extensions, "ap2-checkout": other.extensions!["ap2-checkout"] } };
    const { payment: elsewhere } = await agent.signExact(swapped, swapped.accepts[0], "shop");
    const wrongItem = await send("/by-checkout", elsewhere);
    expect(decodePaymentRequiredHeader(wrongItem.headers.get("PAYMENT-REQUIRED")!).error).to.equal(
      "invalid_ap2_mandate: the checkout is for GET /other, not GET /by-checkout",
    );
    expect(works).to.equal(2);
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 2_000_000n);

    // MCP: a tool sold by checkout, the item its name; the same checkout paid twice is refused the second time.
    const server = new McpServer({ name: "netd-checkout-tools", version: "1.0.0" });
    paidTool(
      server,
      "forecast",
      { description: "tomorrow's weather", inputSchema: { city: z.string() } },
      { price: "$1.00", payTo: env.merchant.address, network: NETWORK, asset: env.asset, facilitator: env.facilitator, checkout: sale },
      async ({ city }) => {
        works++;
        return { content: [{ type: "text", text: `sunny in ${city}` }] };
      },
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "checkout-agent", version: "1.0.0" });
    await client.connect(clientSide);
    try {
      const toolCheckout = await signMandate(
        openCheckoutMandate({
          agentKey: agentKey.publicJwk,
          merchants: [payeeOf(NETWORK, env.merchant.address)],
          lineItems: [{ id: "one-call", acceptable: [{ id: "forecast", title: "a forecast" }], quantity: 1 }],
        }),
        user.privateJwk,
      );
      const toolWallet = await MandateWallet.open({ mandate: payment, checkout: toolCheckout, agentKey: agentKey.privateJwk });
      const paid = await new PayingMcpClient(client, new PayingClient({ signer: env.agent, mandate: toolWallet })).callTool({
        name: "forecast",
        arguments: { city: "Lisbon" },
      });
      expect(paid.content).to.deep.equal([{ type: "text", text: "sunny in Lisbon" }]);
      const asked = (await client.callTool({ name: "forecast", arguments: { city: "Lisbon" } })).structuredContent as PaymentRequired;
      const signer = new PayingClient({ signer: env.agent, mandate: toolWallet });
      const [a, b] = [(await signer.signExact(asked, asked.accepts[0], "tools")).payment, (await signer.signExact(asked, asked.accepts[0], "tools")).payment];
      const call = (p: PaymentPayload) => client.callTool({ name: "forecast", arguments: { city: "Lisbon" }, _meta: { "x402/payment": p } });
      expect((await call(a)).content).to.deep.equal([{ type: "text", text: "sunny in Lisbon" }]);
      const refused = await call(b);
      expect(refused.isError).to.equal(true);
      expect((refused.structuredContent as PaymentRequired).error).to.match(
        /^invalid_ap2_mandate: checkout [0-9a-f-]{36} was already paid by another payment$/,
      );
      expect(works).to.equal(4);
      expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 4_000_000n);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("A2A by checkout: the merchant signs each task's checkout; the agent pays under a checkout mandate closed for it; another task's checkout, or none, is refused", async function () {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ClientFactory } = require("@a2a-js/sdk/client") as typeof import("@a2a-js/sdk/client", { with: { "resolution-mode": "import" } });
    const { TaskState } = require("@a2a-js/sdk") as typeof import("@a2a-js/sdk", { with: { "resolution-mode": "import" } });
    /* eslint-enable @typescript-eslint/no-require-imports */
    const shopKey = generateMandateKey();
    let works = 0;
    const server = await serveA2AMerchant(
      { name: "report-shop", description: "sells market reports" },
      {
        resource: "a2a://report-shop/report",
        description: "a market report",
        price: "$1.00",
        payTo: env.merchant.address,
        network: NETWORK as typeof NETWORK,
        asset: env.asset,
        facilitator: env.facilitator,
        mandates: { issuers: [user.publicJwk] },
        checkout: { key: shopKey.privateJwk, merchant: { name: "Report shop" }, item: { id: "report", title: "a market report" } },
        run: async (request: string) => {
          works++;
          return `report on ${request}`;
        },
      },
    );
    env.servers.push(server);
    const client = await new ClientFactory().createFromUrl(server.url);
    const openCheckout = await signMandate(
      {
        vct: "mandate.checkout.open.1",
        constraints: [
          { type: "checkout.allowed_merchants", allowed: [payeeOf(NETWORK, env.merchant.address)] },
          { type: "checkout.line_items", items: [{ id: "one-report", acceptable_items: [{ id: "report", title: "a market report" }], quantity: 1 }] },
        ],
        cnf: { jwk: agentKey.publicJwk },
      },
      user.privateJwk,
    );
    const payment = await signMandate(openPaymentMandate({ agentKey: agentKey.publicJwk, maxAmount: 1_000_000n, budget: 3_000_000n }), user.privateJwk);
    const wallet = await MandateWallet.open({ mandate: payment, checkout: openCheckout, agentKey: agentKey.privateJwk });
    const before = await env.token.balanceOf(env.merchant.address);
    const shopper = new PayingA2AClient(client, new PayingClient({ signer: env.agent, mandate: wallet }));
    const bought = await shopper.buy("stablecoins", "report-shop");
    expect(bought.task.status?.state).to.equal(TaskState.TASK_STATE_COMPLETED);
    expect(bought.result).to.equal("report on stablecoins");
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 1_000_000n);
    const closed = (await verifyPaymentMandateChain(wallet.payments[0].chain)).closed;
    const checkout = await verifyCheckoutMandateChain(wallet.payments[0].checkout!, { issuers: [user.publicJwk], merchantKey: shopKey.publicJwk });
    expect(closed.transaction_id).to.equal(checkout.closed.checkout_hash);
    expect(checkout.checkout).to.deep.include({ order_id: bought.task.id, total_price: 1, currency: "USD" });
    expect((await auditMandatePayment({ provider: env.provider, token: env.asset.address, chain: wallet.payments[0].chain })).problems).to.deep.equal([]);

    // Another task's checkout: the agent signs a payment for the first task's checkout and submits it in a new task.
    const task = (await client.sendMessage(
      {
        tenant: "",
        message: {
          messageId: "m-checkout",
          contextId: "",
          taskId: "",
          role: 1,
          parts: [{ content: { $case: "text", value: "bonds" }, metadata: undefined, filename: "", mediaType: "text/plain" }],
          metadata: {},
          extensions: [],
          referenceTaskIds: [],
        },
        configuration: undefined,
        metadata: undefined,
      },
      { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
    )) as unknown as { id: string; contextId: string; status: { message: { metadata: Record<string, PaymentRequired> } } };
    const fresh = task.status.message.metadata["x402.payment.required"];
    const oldCheckout = checkout.closed.checkout_jwt;
    const stale = { ...fresh, extensions: { ...fresh.extensions, "ap2-checkout": { checkout_jwt: oldCheckout } } };
    const { payment: signed } = await new PayingClient({ signer: env.agent, mandate: wallet }).signExact(stale, stale.accepts[0], "report-shop");
    const answer = (await client.sendMessage(
      {
        tenant: "",
        message: {
          messageId: "m-checkout-2",
          contextId: task.contextId,
          taskId: task.id,
          role: 1,
          parts: [{ content: { $case: "text", value: "Here is the payment." }, metadata: undefined, filename: "", mediaType: "text/plain" }],
          metadata: { "x402.payment.status": "payment-submitted", "x402.payment.payload": signed },
          extensions: [],
          referenceTaskIds: [],
        },
        configuration: undefined,
        metadata: undefined,
      },
      { serviceParameters: { "A2A-Extensions": A2A_X402_EXTENSION } as never },
    )) as unknown as { status: { state: number; message: { metadata: Record<string, { error?: string }> } } };
    expect(answer.status.state).to.equal(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(answer.status.message.metadata["x402.payment.required"].error).to.equal(
      "invalid_ap2_mandate: the checkout mandate is for another checkout than the one offered",
    );
    // No mandate at all: the terms carry a checkout, so our client refuses before signing.
    await expect(new PayingA2AClient(client, new PayingClient({ signer: env.agent })).buy("bonds", "report-shop")).to.be.rejectedWith(
      PaymentRefusedError,
      'not paying report-shop: it takes only payments under an AP2 mandate (its terms\' extensions["ap2-mandate"], by checkout), and this client pays under none',
    );
    // A mandate without a checkout: the agent's own wallet refuses before signing.
    const noCheckout = await MandateWallet.open({ mandate: payment, agentKey: agentKey.privateJwk });
    await expect(new PayingA2AClient(client, new PayingClient({ signer: env.agent, mandate: noCheckout })).buy("bonds", "report-shop")).to.be.rejectedWith(
      MandateRefusedError,
      "holds no open checkout mandate",
    );
    expect(works).to.equal(1);
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 1_000_000n);
  });
});
