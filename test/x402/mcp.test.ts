import { expect } from "chai";
import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { MCP_PAYMENT_META, MCP_PAYMENT_RESPONSE_META, PaymentRefusedError, PayingClient, PayingMcpClient, paidTool, paymentRequiredOf } from "../../src/x402";
import { NETWORK, startX402Environment, type X402Environment } from "../helpers/x402";

/**
 * x402 over MCP (specs/transports-v2/mcp.md): a paid tool on @modelcontextprotocol/sdk's McpServer, called by the
 * SDK's own Client (which sees the PaymentRequired) and by our PayingMcpClient (which pays it), on a real node.
 */
describe("x402 over MCP: paid tools", function () {
  this.timeout(120_000);
  let env: X402Environment;
  let client: Client;
  let server: McpServer;
  let served = 0;

  before(async function () {
    env = await startX402Environment();
    server = new McpServer({ name: "netd-mcp-test", version: "1.0.0" });
    paidTool(
      server,
      "forecast",
      { description: "tomorrow's weather", inputSchema: { city: z.string() } },
      { price: "$0.01", payTo: env.merchant.address, network: NETWORK, asset: env.asset, facilitator: env.facilitator },
      async ({ city }) => {
        served++;
        return { content: [{ type: "text", text: `sunny in ${city}` }] };
      },
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: "test-agent", version: "1.0.0" });
    await client.connect(clientSide);
  });
  after(async function () {
    await client?.close();
    await server?.close();
    await env?.stop();
  });

  it("the SDK's own client sees isError with the PaymentRequired in structuredContent and content[0].text; nothing runs", async function () {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).to.include("forecast");
    const result = await client.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
    expect(result.isError).to.equal(true);
    const required = result.structuredContent as {
      x402Version: number;
      error: string;
      accepts: { scheme: string; amount: string; payTo: string; asset: string }[];
    };
    expect(required).to.deep.include({ x402Version: 2, error: "payment required" });
    expect(required.accepts[0]).to.include({ scheme: "exact", amount: "10000", payTo: env.merchant.address, asset: env.asset.address });
    expect(JSON.parse((result.content as { text: string }[])[0].text)).to.deep.equal(required);
    expect(paymentRequiredOf(result as never)).to.deep.equal(required);
    expect(served).to.equal(0);
  });

  it("our client pays: the tool runs once, the result carries the settlement, the merchant gets exactly the price", async function () {
    const paying = new PayingClient({ signer: env.agent, controls: { maxPerPayment: 10_000n } });
    const agent = new PayingMcpClient(client, paying);
    const before = await env.token.balanceOf(env.merchant.address);
    const result = await agent.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
    expect(result.isError).to.not.equal(true);
    expect(result.content).to.deep.equal([{ type: "text", text: "sunny in Lisbon" }]);
    const settlement = result._meta?.[MCP_PAYMENT_RESPONSE_META] as { success: boolean; transaction: string; payer: string };
    expect(settlement).to.include({ success: true, payer: env.agent.address });
    expect(settlement.transaction).to.match(/^0x[0-9a-f]{64}$/);
    expect(await env.token.balanceOf(env.merchant.address)).to.equal(before + 10_000n);
    expect(served).to.equal(1);
    expect(agent.lastPayment).to.include({
      status: "settled",
      amount: 10_000n,
      payTo: env.merchant.address,
      transaction: settlement.transaction,
      host: "netd-mcp-test",
    });
  });

  it("a price above the spend controls is refused before anything is signed", async function () {
    const agent = new PayingMcpClient(client, new PayingClient({ signer: env.agent, controls: { maxPerPayment: 9_999n } }));
    const before = await env.token.balanceOf(env.agent.address);
    await expect(agent.callTool({ name: "forecast", arguments: { city: "Porto" } })).to.be.rejectedWith(PaymentRefusedError, /above the maximum per payment/);
    expect(agent.paying.payments).to.deep.equal([]);
    expect(await env.token.balanceOf(env.agent.address)).to.equal(before);
  });

  it("a replayed payment, a malformed one and one for another payee are refused with the reason, and nothing runs twice", async function () {
    const paying = new PayingClient({ signer: env.agent });
    const first = await client.callTool({ name: "forecast", arguments: { city: "Faro" } });
    const required = paymentRequiredOf(first as never)!;
    const { payment } = await paying.signExact(required, required.accepts[0], "netd-mcp-test");
    const ok = await client.callTool({ name: "forecast", arguments: { city: "Faro" }, _meta: { [MCP_PAYMENT_META]: payment } });
    expect(ok.isError).to.not.equal(true);
    const runs = served;
    const replay = await client.callTool({ name: "forecast", arguments: { city: "Faro" }, _meta: { [MCP_PAYMENT_META]: payment } });
    expect(replay.isError).to.equal(true);
    expect(paymentRequiredOf(replay as never)!.error).to.match(/^invalid_exact_evm_nonce_already_used: /);
    const garbled = await client.callTool({ name: "forecast", arguments: { city: "Faro" }, _meta: { [MCP_PAYMENT_META]: { x402Version: 2 } } });
    expect(paymentRequiredOf(garbled as never)!.error).to.equal(`invalid_payload: _meta["x402/payment"] is not an x402 v2 PaymentPayload`);
    const elsewhere = { ...payment, accepted: { ...payment.accepted, payTo: env.agent.address } };
    const wrong = await client.callTool({ name: "forecast", arguments: { city: "Faro" }, _meta: { [MCP_PAYMENT_META]: elsewhere } });
    expect(paymentRequiredOf(wrong as never)!.error).to.equal(
      `invalid_exact_evm_recipient_mismatch: payTo ${env.agent.address} is not this server's ${env.merchant.address}`,
    );
    expect(served).to.equal(runs);
  });
});
