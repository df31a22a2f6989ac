import express from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { paidTool, type PaidToolPricing } from "./mcp";
import { PACKAGE_VERSION } from "../version";

const JOKES = ["Why did the agent pay a tenth of a cent? It only wanted a micro-laugh.", "An MCP tool walks into a bar. The bar asks for 402."];

/**
 * The demo MCP server of `netd x402 serve-mcp`: a free `hello` tool, `joke` at $0.001 and `forecast` at $0.01, each
 * paid in NET Dollar over x402's MCP transport. With `pricing.checkout`, `forecast` (whole cents) is sold by AP2
 * checkout; `joke` (a tenth of a cent, which a checkout cannot price) is not.
 */
export function createDemoMcpServer(pricing: Omit<PaidToolPricing, "price">): McpServer {
  const server = new McpServer({ name: "netd-demo-mcp", version: PACKAGE_VERSION });
  server.registerTool("hello", { description: "free: says hello", inputSchema: {} }, async () => ({
    content: [{ type: "text", text: "hello from NET Dollar" }],
  }));
  paidTool(server, "joke", { description: "a joke ($0.001)", inputSchema: {} }, { ...pricing, price: "$0.001", checkout: undefined }, async () => ({
    content: [{ type: "text", text: JOKES[Math.floor(Math.random() * JOKES.length)] }],
  }));
  paidTool(
    server,
    "forecast",
    { description: "tomorrow's weather in a city ($0.01)", inputSchema: { city: z.string().min(1) } },
    { ...pricing, price: "$0.01" },
    async ({ city }) => ({
      content: [{ type: "text", text: `Tomorrow in ${city}: sunny, 21°C.` }],
    }),
  );
  return server;
}

/**
 * Streamable HTTP for an MCP server, stateless: every POST /mcp gets a fresh server and transport (nothing is kept
 * between requests, so any number of clients and restarts are alike). Other methods answer 405.
 */
export function mcpHttpApp(create: () => McpServer): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "1mb" }));
  app.post("/mcp", async (req, res) => {
    const server = create();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      if (!res.headersSent)
        res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: error instanceof Error ? error.message : String(error) }, id: null });
    }
  });
  app.all("/mcp", (_req, res) => {
    res.status(405).json({ jsonrpc: "2.0", error: { code: -32000, message: "this server is stateless: POST /mcp only" }, id: null });
  });
  return app;
}
