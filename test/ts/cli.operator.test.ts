import { existsSync, readFileSync, statSync } from "node:fs";
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
    const before = await (
      await fetch(env.node.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
      })
    ).json();
    const run = await env.run(["devnet", "--port", port], { key: null });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`port ${port} is in use (a devnet already running?); use --port`);
    expect(run.stdout).to.not.include("devnet running");
    expect(existsSync(path.join(env.dir, "deployments", "31337.json"))).to.equal(false);
    const after = await (
      await fetch(env.node.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
      })
    ).json();
    expect(after).to.deep.equal(before); // nothing was deployed onto the running node
  });

  it("an empty variable means unset (cp .env.example .env): deploy and status work with NETD_DEPLOYMENT= and NETD_KEYSTORE=", async function () {
    const empty = {
      NETD_DEPLOYMENT: "",
      NETD_KEYSTORE: "",
      NETD_KEYSTORE_PASSWORD: "",
      NETD_DATABASE_URL: "",
      NETD_RECEIVER_AUTHORIZER_KEY: "",
      NETD_FACILITATOR_API_KEYS: "",
    };
    const deployed = await env.run(["deploy", "--json"], { env: empty });
    expect(deployed.code, deployed.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(path.join(env.dir, "deployments", "31337.json"), "utf8")).chainId).to.equal(31337);
    const status = await env.run(["status", "--json"], { env: empty });
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stderr).to.not.include("no deployment file");
  });

  it("netd x402 facilitator on a busy port: a clear error and exit 1, never 'listening'", async function () {
    const first = await startCliServer(
      ["x402", "facilitator", "--port", "0"],
      { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: path.join(env.dir, "deployments", "31337.json"), NETD_PRIVATE_KEY: KEYS.merchant },
      env.dir,
    );
    try {
      const port = new URL(first.url).port;
      const second = await env.run(["x402", "facilitator", "--port", port], {
        key: KEYS.merchant,
        env: { NETD_DEPLOYMENT: path.join(env.dir, "deployments", "31337.json") },
      });
      expect(second.code).to.equal(1);
      expect(second.stderr).to.include(`port ${port} on 127.0.0.1 is in use`);
      expect(second.stdout + second.stderr).to.not.include("listening on");
    } finally {
      await first.stop();
    }
  });

  it("keystore create and import write encrypted keystores that NETD_KEYSTORE then signs with; never overwritten; a missing one says how to make it", async function () {
    const file = path.join(env.dir, "keys", "minter.json");
    const created = await env.run(["keystore", "create", file, "--json"], { key: null, env: { NETD_KEYSTORE_PASSWORD: "correct horse battery" } });
    expect(created.code, created.stderr).to.equal(0);
    const address = String(created.json.address);
    expect(address).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const again = await env.run(["keystore", "create", file], { key: null, env: { NETD_KEYSTORE_PASSWORD: "correct horse battery" } });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include("already exists; not overwriting a keystore");
    const balance = await env.run(["balance", "--json"], {
      key: null,
      env: { NETD_KEYSTORE: file, NETD_KEYSTORE_PASSWORD: "correct horse battery", NETD_DEPLOYMENT: path.join(env.dir, "deployments", "31337.json") },
    });
    expect(balance.code, balance.stderr).to.equal(0);
    expect(balance.json.account).to.equal(address);
    const imported = path.join(env.dir, "keys", "merchant.json");
    const run = await env.run(["keystore", "import", imported, "--json"], { key: KEYS.merchant, env: { NETD_KEYSTORE_PASSWORD: "another good one" } });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.json.address).to.equal("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
    const short = await env.run(["keystore", "create", path.join(env.dir, "keys", "x.json")], { key: null, env: { NETD_KEYSTORE_PASSWORD: "short" } });
    expect(short.code).to.equal(2);
    expect(short.stderr).to.include("at least 8 characters");
    const missing = await env.run(["balance"], {
      key: null,
      env: { NETD_KEYSTORE: path.join(env.dir, "keys", "nobody.json"), NETD_KEYSTORE_PASSWORD: "whatever1" },
    });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/keystore .*nobody\.json not found/);
    expect(missing.stderr).to.include("netd keystore create");
  });

  it("the CLI runs without dev dependencies: what bin/netd.js loads is a runtime dependency", function () {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const bin = readFileSync(path.join(__dirname, "..", "..", "bin", "netd.js"), "utf8");
    const required = [...bin.matchAll(/require\(["']([^"'./][^"']*)["']\)/g)].map((m) => m[1]).filter((m) => !m.startsWith("node:"));
    expect(required).to.include("@swc/core");
    for (const name of required) expect(pkg.dependencies, `${name} must be a dependency, not a devDependency`).to.have.property(name);
  });
});
