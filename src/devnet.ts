import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ChainUnreachableError } from "./errors";

/** Hardhat's well-known test mnemonic: its keys are public, never use them on a real network. */
export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";

/** Chain ids of local devnets: `netd devnet` (31337, and 31338 for the second chain of --chains 2) and Ganache-style 1337. */
export const DEVNET_CHAIN_IDS = [31337n, 31338n, 1337n] as const;

/** Chains where the deployer may hold every role by default, and receipts are polled fast. */
export function isDevnet(chainId: bigint): boolean {
  return (DEVNET_CHAIN_IDS as readonly bigint[]).includes(chainId);
}

/** The devnet's named accounts, in Hardhat's account order. */
export const DEVNET_ACCOUNT_NAMES = ["issuer", "minter", "agent", "merchant", "creator1", "creator2", "creator3", "accountant"] as const;
export type DevnetAccountName = (typeof DEVNET_ACCOUNT_NAMES)[number];

/** The key of Hardhat's account `index` (m/44'/60'/0'/0/index of the test mnemonic). */
export function devnetWallet(index: number): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEVNET_MNEMONIC), `m/44'/60'/0'/0/${index}`);
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface HardhatNode {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The project root (where hardhat.config.ts is): the Hardhat node must run there. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * Starts `hardhat node` bound to 127.0.0.1 only (never all interfaces) as a child process, and resolves once it
 * answers JSON-RPC. The library does not import Hardhat: it runs the project's Hardhat binary.
 *
 * @example
 * const node = await startHardhatNode({ port: 8545 });
 * // ... node.url is http://127.0.0.1:8545
 * await node.stop();
 */
/** Refuses a loopback port something already listens on. */
async function assertPortFree(port: number): Promise<void> {
  const { createServer } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ChainUnreachableError(`port ${port} is in use (a devnet already running?); use --port`)
          : new ChainUnreachableError(`cannot listen on 127.0.0.1:${port}: ${error.message}`),
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

export async function startHardhatNode(params: { port?: number; chainId?: number; log?: (line: string) => void } = {}): Promise<HardhatNode> {
  const port = params.port ?? (await freePort());
  // Else the readiness check below is answered by whatever already listens there (a devnet started earlier).
  if (params.port !== undefined) await assertPortFree(port);
  const bin = path.join(PROJECT_ROOT, "node_modules", ".bin", process.platform === "win32" ? "hardhat.cmd" : "hardhat");
  const child = spawn(bin, ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", ...(params.chainId ? { NETD_DEVNET_CHAIN_ID: String(params.chainId) } : {}) },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 20_000) output = output.slice(-10_000);
    if (params.log) for (const line of chunk.toString().split("\n")) if (line.trim()) params.log(line);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new ChainUnreachableError(`hardhat node exited with code ${code}`, { details: output.slice(-2000) }))),
  );
  const ready = (async () => {
    for (let i = 0; i < 600; i++) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ChainUnreachableError("hardhat node did not start within 60 s", { details: output.slice(-2000) });
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  exited.catch(() => undefined);
  return {
    url,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
