import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { PayingClient, PayingMcpClient, paymentRequiredOf } from "../../src/x402";
import { ADDRESSES, KEYS, deployWithAgentFunds, startCliEnvironment, startCliServer, type CliEnvironment } from "../helpers/cli";
import type { NetDollar } from "../../typechain-types";

const BIN = path.join(__dirname, "..", "..", "bin", "netd.js");

/** `netd x402 serve-mcp` run as an MCP client runs it: over stdio (the client starts it) and over streamable HTTP. */
describe("netd x402 serve-mcp: paid MCP tools over stdio and streamable HTTP", function () {
  this.timeout(180_000);
  let env: CliEnvironment;
  let token: NetDollar;
  const agentKey = () => new Wallet(KEYS.agent);

  before(async function () {
    env = await startCliEnvironment();
    ({ token } = await deployWithAgentFunds(env));
  });
  after(async function () {
    await env?.node.stop();
  });

  it("stdio: the SDK's client lists the tools, a free one answers, a paid one asks, our client pays it", async function () {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "x402", "serve-mcp", "--stdio"],
      env: { PATH: process.env.PATH ?? "", NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: KEYS.merchant },
      stderr: "pipe",
    });
    const client = new Client({ name: "test-agent", version: "1.0.0" });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).to.deep.equal(["hello", "joke", "forecast"]);
      expect((await client.callTool({ name: "hello", arguments: {} })).content).to.deep.equal([{ type: "text", text: "hello from NET Dollar" }]);
      const asked = await client.callTool({ name: "joke", arguments: {} });
      expect(paymentRequiredOf(asked as never)!.accepts[0]).to.include({ amount: "1000", payTo: ADDRESSES.merchant });
      const before = await token.balanceOf(ADDRESSES.merchant);
      const agent = new PayingMcpClient(client, new PayingClient({ signer: agentKey(), controls: { maxPerPayment: 1_000n } }));
      const joke = await agent.callTool({ name: "joke", arguments: {} });
      expect(joke.isError).to.not.equal(true);
      expect(agent.lastPayment).to.include({ status: "settled", amount: 1_000n, host: "netd-demo-mcp" });
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before + 1_000n);
    } finally {
      await client.close();
    }
  });

  it("streamable HTTP on loopback: our client pays the forecast; a price above its controls is refused before signing", async function () {
    const server = await startCliServer(
      ["x402", "serve-mcp", "--port", "0"],
      { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: KEYS.merchant },
      env.dir,
    );
    const client = new Client({ name: "test-agent", version: "1.0.0" });
    try {
      expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
      const before = await token.balanceOf(ADDRESSES.merchant);
      const stingy = new PayingMcpClient(client, new PayingClient({ signer: agentKey(), controls: { maxPerPayment: 9_999n } }));
      await expect(stingy.callTool({ name: "forecast", arguments: { city: "Lisbon" } })).to.be.rejectedWith(/above the maximum per payment/);
      const agent = new PayingMcpClient(client, new PayingClient({ signer: agentKey(), controls: { maxPerPayment: 10_000n } }));
      const forecast = await agent.callTool({ name: "forecast", arguments: { city: "Lisbon" } });
      expect(forecast.content).to.deep.equal([{ type: "text", text: "Tomorrow in Lisbon: sunny, 21°C." }]);
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before + 10_000n);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
