import { execFile } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { ADDRESSES, KEYS, deployWithAgentFunds, startCliEnvironment, startServerProcess, type CliEnvironment, type CliServer } from "../helpers/cli";
import type { NetDollar } from "../../typechain-types";

const ROOT = path.join(__dirname, "..", "..");
const TS = ["-r", "ts-node/register/transpile-only"];

/**
 * Runs a program to its end without blocking the event loop (spawnSync would: the provider's idle keep-alive sockets
 * then close unseen, and its next request fails with "socket hang up").
 */
function run(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The code samples of docs/x402.md are the files in examples/, run here as the docs say (each its own process,
 * the facilitator and the paywall on loopback ports): an agent pays $0.01 for a call and the merchant is paid.
 */
describe("examples/: the x402 facilitator, paywall and agent of docs/x402.md, run as written", function () {
  this.timeout(180_000);
  let env: CliEnvironment;
  let token: NetDollar;
  const servers: CliServer[] = [];

  before(async function () {
    env = await startCliEnvironment();
    ({ token } = await deployWithAgentFunds(env));
  });
  after(async function () {
    for (const s of servers) await s.stop();
    await env?.node.stop();
  });

  it("the agent pays the paywall through the facilitator: served, settled on chain, merchant +$0.01", async function () {
    const common = { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, PORT: "0" };
    const facilitator = await startServerProcess([...TS, "examples/x402-facilitator.ts"], { ...common, RELAYER_KEY: KEYS.minter }, ROOT);
    servers.push(facilitator);
    const api = await startServerProcess([...TS, "examples/x402-paywall.ts"], { ...common, FACILITATOR_URL: facilitator.url }, ROOT);
    servers.push(api);
    expect(api.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/weather$/);

    const before = await token.balanceOf(ADDRESSES.merchant);
    const agent = await run([...TS, "examples/x402-agent.ts"], { ...common, AGENT_KEY: KEYS.agent, API_URL: api.url });
    expect(agent.status, agent.stderr).to.equal(0);
    const [body, receipt] = agent.stdout.trim().split("\n");
    expect(JSON.parse(body)).to.deep.equal({ forecast: "sunny" });
    expect(receipt).to.match(new RegExp(`^paid 0\\.01 NETD to ${ADDRESSES.merchant}: settled, transaction 0x[0-9a-f]{64}$`));
    expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before + 10_000n);

    // Without its key the agent says what is missing and exits 1, paying nothing.
    const keyless = await run([...TS, "examples/x402-agent.ts"], { ...common, API_URL: api.url });
    expect(keyless.status).to.equal(1);
    expect(keyless.stderr).to.include("set AGENT_KEY");
    expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before + 10_000n);
  });
});
