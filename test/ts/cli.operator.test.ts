import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { KEYS, startCliEnvironment, startCliServer, type CliEnvironment } from "../helpers/cli";

/**
 * Issue #15's bugs, where the CLI reported success when nothing (or the wrong thing) happened: a devnet or a server
 * started on a busy port, an empty variable from a copied .env.example, and the CLI's runtime needs.
 */
describe("netd: an operator's first steps, refused or working as typed", function () {
  this.timeout(300_000);
  let env: CliEnvironment;

  before(async function () {
    env = await startCliEnvironment();
  });
  after(async function () {
    await env?.node.stop();
  });

  it("netd devnet on a port a devnet already uses: refused, exit 1, nothing deployed or written", async function () {
    const port = new URL(env.node.url).port;
    const before = await (await fetch(env.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }) })).json();
    const run = await env.run(["devnet", "--port", port], { key: null });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`port ${port} is in use (a devnet already running?); use --port`);
    expect(run.stdout).to.not.include("devnet running");
    expect(existsSync(path.join(env.dir, "deployments", "31337.json"))).to.equal(false);
    const after = await (await fetch(env.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }) })).json();
    expect(after).to.deep.equal(before); // nothing was deployed onto the running node
  });

  it("an empty variable means unset (cp .env.example .env): deploy and status work with NETD_DEPLOYMENT= and NETD_KEYSTORE=", async function () {
    const empty = { NETD_DEPLOYMENT: "", NETD_KEYSTORE: "", NETD_KEYSTORE_PASSWORD: "", NETD_DATABASE_URL: "", NETD_RECEIVER_AUTHORIZER_KEY: "", NETD_FACILITATOR_API_KEYS: "" };
    const deployed = await env.run(["deploy", "--json"], { env: empty });
    expect(deployed.code, deployed.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(path.join(env.dir, "deployments", "31337.json"), "utf8")).chainId).to.equal(31337);
    const status = await env.run(["status", "--json"], { env: empty });
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stderr).to.not.include("no deployment file");
  });

  it("netd x402 facilitator on a busy port: a clear error and exit 1, never 'listening'", async function () {
    const first = await startCliServer(["x402", "facilitator", "--port", "0"], { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: path.join(env.dir, "deployments", "31337.json"), NETD_PRIVATE_KEY: KEYS.merchant }, env.dir);
    try {
      const port = new URL(first.url).port;
      const second = await env.run(["x402", "facilitator", "--port", port], { key: KEYS.merchant, env: { NETD_DEPLOYMENT: path.join(env.dir, "deployments", "31337.json") } });
      expect(second.code).to.equal(1);
      expect(second.stderr).to.include(`port ${port} on 127.0.0.1 is in use`);
      expect(second.stdout + second.stderr).to.not.include("listening on");
    } finally {
      await first.stop();
    }
  });

  it("the CLI runs without dev dependencies: what bin/netd.js loads is a runtime dependency", function () {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const bin = readFileSync(path.join(__dirname, "..", "..", "bin", "netd.js"), "utf8");
    const required = [...bin.matchAll(/require\(["']([^"'./][^"']*)["']\)/g)].map((m) => m[1]).filter((m) => !m.startsWith("node:"));
    expect(required).to.include("@swc/core");
    for (const name of required) expect(pkg.dependencies, `${name} must be a dependency, not a devDependency`).to.have.property(name);
  });
});
