import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { PayingClient, PayingMcpClient, paymentRequiredOf } from "../../src/x402";
import { ADDRESSES, KEYS, deployWithAgentFunds, ok, startCliEnvironment, startCliServer, type CliEnvironment } from "../helpers/cli";
import type { NetDollar } from "../../typechain-types";

const BIN = path.join(__dirname, "..", "..", "bin", "netd.js");

/**
 * `netd x402 serve-mcp` run as an MCP client runs it: over stdio (the client starts it) and over streamable HTTP; and
 * the terminal's MCP client, `netd x402 tools|call`, against it.
 */
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

  it("x402 tools lists the tools; x402 call pays one, calls a free one, and refuses bad input with exit 2 and nothing paid", async function () {
    const server = await startCliServer(
      ["x402", "serve-mcp", "--port", "0"],
      { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: KEYS.merchant },
      env.dir,
    );
    try {
      const listed = ok(await env.run(["x402", "tools", server.url, "--json"], { key: null }));
      expect((listed.json.tools as { name: string }[]).map((t) => t.name)).to.deep.equal(["hello", "joke", "forecast"]);
      expect(ok(await env.run(["x402", "tools", server.url], { key: null })).stdout).to.match(
        /forecast\s+tomorrow's weather in a city \(\$0\.01\) \(city: string\)/,
      );

      const [merchantBefore, agentBefore] = await Promise.all([token.balanceOf(ADDRESSES.merchant), token.balanceOf(ADDRESSES.agent)]);
      const paid = ok(await env.run(["x402", "call", server.url, "forecast", "--arg", "city=Lisbon", "--max", "0.01"], { key: KEYS.agent }));
      expect(paid.stdout).to.equal("Tomorrow in Lisbon: sunny, 21°C.\n");
      expect(paid.stderr).to.match(new RegExp(`paid\\s+0\\.01 NETD to ${ADDRESSES.merchant}`));
      expect(paid.stderr).to.match(/transaction\s+0x[0-9a-f]{64}/);
      const json = ok(
        await env.run(["x402", "call", server.url, "forecast", "--args", '{"city":"Porto"}', "--max", "0.01", "--json"], { key: KEYS.agent }),
      ).json;
      expect(json.result).to.deep.include({ content: [{ type: "text", text: "Tomorrow in Porto: sunny, 21°C." }] });
      expect(json.payment).to.deep.include({ scheme: "exact", status: "settled", amount: "10000", payer: ADDRESSES.agent });
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(merchantBefore + 20_000n);
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore - 20_000n);

      const free = ok(await env.run(["x402", "call", server.url, "hello"], { key: KEYS.agent }));
      expect(free.stdout).to.equal("hello from NET Dollar\n");
      expect(free.stderr).to.match(/paid\s+nothing \(the tool did not ask for payment\)/);

      for (const [args, message] of [
        [["forecast", "--arg", "city=Lisbon", "--max", "0.009"], "the price 0.01 is above the maximum per payment 0.009"],
        [["forecast"], "forecast needs --arg city=…; it takes city"],
        [["forecast", "--arg", "city=Lisbon", "--arg", "days=3"], 'forecast takes no argument "days"; it takes city'],
        [["forecast", "--arg", "Lisbon"], '--arg "Lisbon" is not name=value'],
        [["forecast", "--args", "{city"], "--args is not JSON"],
        [["forecast", "--args", "[1]"], "--args must be a JSON object"],
        [["weather"], `${server.url} has no tool "weather"`],
      ] as [string[], string][]) {
        const run = await env.run(["x402", "call", server.url, ...args], { key: KEYS.agent });
        expect(run.code, `${args.join(" ")}: ${run.stderr}`).to.equal(2);
        expect(run.stderr).to.include(message);
        expect(run.stdout).to.equal("");
      }
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore - 20_000n);
      const down = await env.run(["x402", "call", "http://127.0.0.1:9/mcp", "hello"], { key: KEYS.agent });
      expect(down.code).to.equal(1);
      expect(down.stderr).to.include("could not reach an MCP server at http://127.0.0.1:9/mcp");
    } finally {
      await server.stop();
    }
  });
});
