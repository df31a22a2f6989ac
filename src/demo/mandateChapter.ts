import express from "express";
import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type * as A2AClient from "@a2a-js/sdk/client" with { "resolution-mode": "import" };
import type { NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import {
  MandateRefusedError,
  MandateWallet,
  auditMandatePayment,
  generateMandateKey,
  openCheckoutMandate,
  openPaymentMandate,
  payeeOf,
  signMandate,
} from "../ap2";
import { readTokenDomain } from "../eip712";
import { NetDollarFacilitator, PayingA2AClient, PayingClient, PayingMcpClient, caip2, listen, paidTool, paywall, serveA2AMerchant } from "../x402";
import type { Cast } from "./story";
import type { Story } from "./story";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ClientFactory } = require("@a2a-js/sdk/client") as typeof A2AClient;

/**
 * Chapter: an agent shops under a mandate. A person signs an AP2 open payment mandate for their agent's key (up to
 * $5 in all, $2.50 a purchase, two merchants, this week) and an open checkout mandate (one report, one shop); the agent buys a
 * market report from a merchant agent over A2A, by the shop's signed checkout, and a
 * forecast from a paid MCP tool, each payment closed under the mandate and bound to it by its nonce; a third purchase, over
 * the budget, is refused by the agent's own client before it signs; the auditor matches each on-chain
 * AuthorizationUsed to its mandate.
 */
export async function mandateChapter(story: Story, cast: Cast, token: NetDollarV2): Promise<void> {
  const provider = cast.issuer.provider!;
  const network = caip2((await provider.getNetwork()).chainId);
  const domain = await readTokenDomain(token);
  const asset = { address: await token.getAddress(), name: domain.name, version: domain.version };
  const facilitator = new NetDollarFacilitator({ networks: [{ network, provider, relayer: cast.relayer, assets: [asset] }] });
  const [shop, toolMaker] = await Promise.all([cast.merchant.getAddress(), cast.creators[0].getAddress()]);

  story.title("An agent shops under a mandate: a person's signed limits, enforced before signing, proven on chain");
  const person = generateMandateKey();
  const agentKey = generateMandateKey();
  const now = Date.now();
  const mandate = await signMandate(
    openPaymentMandate({
      agentKey: agentKey.publicJwk,
      maxAmount: parseAmount("2.50"),
      budget: parseAmount("5"),
      payees: [payeeOf(network, shop, "report shop"), payeeOf(network, toolMaker, "forecast tools")],
      notBefore: new Date(now),
      notAfter: new Date(now + 7 * 86_400_000),
      expiresAt: new Date(now + 7 * 86_400_000),
    }),
    person.privateJwk,
  );
  story.step(
    `a person signs an AP2 open payment mandate (ES256 SD-JWT) for their agent's key: up to $5.00 in all, $2.50 a purchase, two merchants (${shortAddress(shop)}, ${shortAddress(toolMaker)}), this week`,
  );
  const checkoutMandate = await signMandate(
    openCheckoutMandate({
      agentKey: agentKey.publicJwk,
      merchants: [payeeOf(network, shop, "report shop")],
      lineItems: [{ id: "one-report", acceptable: [{ id: "report", title: "a market report" }], quantity: 1 }],
      expiresAt: new Date(now + 7 * 86_400_000),
    }),
    person.privateJwk,
  );
  story.step("and an open checkout mandate: one market report, from the report shop only");
  const shopKey = generateMandateKey();

  const app = express();
  app.use(paywall({ routes: { "GET /dataset": { price: "$2.00" } }, payTo: shop, network, asset, facilitator }));
  app.get("/dataset", (_req, res) => res.json({ rows: 1_000 }));
  const api = await listen(app, 0);
  const shopAgent = await serveA2AMerchant(
    { name: "report-shop", description: "sells market reports" },
    {
      resource: "a2a://report-shop/report",
      description: "a market report",
      price: "$2.00",
      payTo: shop,
      network,
      asset,
      facilitator,
      mandates: { required: true, issuers: [person.publicJwk] },
      checkout: { key: shopKey.privateJwk, merchant: { name: "report shop" }, item: { id: "report", title: "a market report" } },
      run: async (topic) => `${topic}: volumes up 12% this quarter`,
    },
  );
  const tools = new McpServer({ name: "forecast-tools", version: "1.0.0" });
  paidTool(
    tools,
    "forecast",
    { description: "next week's weather", inputSchema: { city: z.string() } },
    { price: "$1.50", payTo: toolMaker, network, asset, facilitator, mandates: { required: true, issuers: [person.publicJwk] } },
    async ({ city }) => ({ content: [{ type: "text", text: `sunny in ${city} all week` }] }),
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await tools.connect(serverSide);
  const mcp = new Client({ name: "shopping-agent", version: "1.0.0" });
  await mcp.connect(clientSide);
  try {
    const wallet = await MandateWallet.open({ mandate, checkout: checkoutMandate, agentKey: agentKey.privateJwk });
    const client = new PayingClient({ signer: cast.agent, mandate: wallet });
    const a2a = await new ClientFactory().createFromUrl(shopAgent.url);
    const report = await new PayingA2AClient(a2a, client).buy("stablecoins", "report-shop");
    story.step(
      `over A2A it asks a merchant agent for a market report, $2.00, paid in the task (a2a-x402) against the shop's signed checkout, the checkout mandate closed for it: "${report.result}"`,
    );
    const forecast = await new PayingMcpClient(mcp, client).callTool({ name: "forecast", arguments: { city: "Lisbon" } });
    story.step(`over MCP it calls a paid tool for $1.50: "${(forecast.content as { text: string }[])[0].text}"`);
    story.fact("spent under the mandate", `$${(wallet.usage.spentMinor / 100).toFixed(2)} of $5.00, in ${wallet.usage.occurrences} payments`);
    try {
      await client.fetch(`${api.url}/dataset`);
      story.step("MISMATCH: a purchase over the budget was paid");
    } catch (error) {
      if (!(error instanceof MandateRefusedError)) throw error;
      story.step(
        `a third purchase (a $2.00 data set over HTTP) is refused by the agent's own client before it signs: "${error.message.replace(/^not paying [^ ]+ under the mandate: /, "")}"`,
      );
    }

    story.step("the auditor takes each payment's mandate chain, finds the AuthorizationUsed whose nonce is its hash, and checks payee and amount:");
    for (const p of wallet.payments) {
      const audit = await auditMandatePayment({ provider, token: asset.address, chain: p.chain, verify: { issuers: [person.publicJwk] } });
      story.fact(
        `${formatDollars(audit.onChain?.value ?? 0n)} to ${shortAddress(audit.onChain?.to ?? "0x")}`,
        audit.problems.length
          ? `NOT as mandated: ${audit.problems.join("; ")}`
          : `as mandated (nonce ${audit.mandate.paymentNonce.slice(0, 10)}…, tx ${audit.onChain!.transaction.slice(0, 10)}…)`,
      );
    }
  } finally {
    await mcp.close();
    await tools.close();
    await api.close();
    await shopAgent.close();
  }
}
