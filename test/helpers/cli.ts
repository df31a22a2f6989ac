import { spawn } from "node:child_process";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { NetDollar__factory, type NetDollar } from "../../typechain-types";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { devnetWallet, startHardhatNode, type HardhatNode } from "../../src/devnet";
import { spawnServer, type ServerChild } from "./server";

const BIN = path.join(__dirname, "..", "..", "bin", "netd.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (when --json was given). */
  json: Record<string, unknown> & { ok?: boolean };
}

/** Expects a run to have succeeded (exit 0), showing its output when not; returns it. */
export function ok(run: CliRun): CliRun {
  expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
  return run;
}

/** Hardhat account keys, by the devnet's names. */
export const KEYS = {
  issuer: devnetWallet(0).privateKey,
  minter: devnetWallet(1).privateKey,
  agent: devnetWallet(2).privateKey,
  merchant: devnetWallet(3).privateKey,
  creator1: devnetWallet(4).privateKey,
  auditor: devnetWallet(7).privateKey,
};
export const ADDRESSES = Object.fromEntries(Object.entries(KEYS).map(([k], i) => [k, devnetWallet([0, 1, 2, 3, 4, 7][i]).address])) as Record<
  keyof typeof KEYS,
  string
>;

/** A real Hardhat node on a free loopback port, and a scratch directory for deployment files. */
export interface CliEnvironment {
  node: HardhatNode;
  dir: string;
  deployment: string;
  run(args: string[], options?: { key?: string | null; env?: Record<string, string>; input?: string }): Promise<CliRun>;
}

export async function startCliEnvironment(): Promise<CliEnvironment> {
  const node = await startHardhatNode();
  const dir = mkdtempSync(path.join(tmpdir(), "netd-cli-"));
  const deployment = path.join(dir, "deployment.json");
  return {
    node,
    dir,
    deployment,
    run: async (args, options = {}) => {
      const key = options.key === null ? undefined : (options.key ?? KEYS.issuer);
      const result = await runCli(
        args,
        { NETD_RPC_URL: node.url, NETD_DEPLOYMENT: deployment, ...(key ? { NETD_PRIVATE_KEY: key } : {}), ...options.env },
        options.input,
        dir,
      );
      // A key is never printed or logged, whatever the command and however it fails.
      if (key && key.length > 16) {
        const bare = key.replace(/^0x/, "").toLowerCase();
        if ((result.stdout + result.stderr).toLowerCase().includes(bare)) throw new Error(`netd ${args.join(" ")} printed the private key`);
      }
      return result;
    },
  };
}

/**
 * `netd deploy` on the environment's node, a minter with a $100,000 allowance and $100 minted to the agent, as the
 * payment suites start; returns the token as a provider without a cache sees it.
 */
export async function deployWithAgentFunds(env: CliEnvironment): Promise<{ provider: JsonRpcProvider; token: NetDollar }> {
  const provider = new JsonRpcProvider(env.node.url, undefined, { cacheTimeout: -1 });
  const deployed = ok(await env.run(["deploy", "--json"]));
  const token = NetDollar__factory.connect(
    (deployed.json.deployment as { contracts: { NetDollar: { address: string } } }).contracts.NetDollar.address,
    provider,
  );
  ok(await env.run(["minter", "configure", ADDRESSES.minter, "100000", "--yes"]));
  ok(await env.run(["mint", ADDRESSES.agent, "100", "--yes"], { key: KEYS.minter }));
  return { provider, token };
}

/** Runs `netd` as a user does: a child process, with only the environment given (plus PATH). */
export function runCli(args: string[], env: Record<string, string>, input?: string, cwd = tmpdir(), command?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // `command`: another program to run with `args` instead of netd (e.g. script(1), to give netd a terminal).
    const child = spawn(command ?? process.execPath, command ? args : [BIN, ...args], {
      // A scratch directory, so that a developer's own .env never leaks into the tests.
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.stdin.end(input ?? "");
    child.on("close", (code) => {
      let json: CliRun["json"] = {};
      try {
        json = JSON.parse(stdout);
      } catch {
        // not JSON output
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** A long-running `netd` command (a server), started and awaited until it prints `listening on <url>`. */
export type CliServer = ServerChild;

export function startCliServer(args: string[], env: Record<string, string>, cwd = tmpdir()): Promise<CliServer> {
  return spawnServer([BIN, ...args], env, cwd);
}

/** Any Node program that serves and prints `listening on <url>` (netd, an example), run with `node <argv>`. */
export function startServerProcess(argv: string[], env: Record<string, string>, cwd = tmpdir()): Promise<CliServer> {
  return spawnServer(argv, env, cwd);
}
