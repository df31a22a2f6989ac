import { createInterface } from "node:readline/promises";
import type { JsonRpcProvider, Signer } from "ethers";
import { ConditionalEscrow__factory, NetDollar__factory, type ConditionalEscrow, type NetDollar } from "../../typechain-types";
import { ConfigurationError, InvalidInputError } from "../errors";
import { connect } from "../provider";
import { defaultDeploymentPath, readDeploymentFor, type Deployment } from "../deployments";
import { loadSigner, promptHidden } from "../keys";
import type { DecodeContext } from "../decode";
import { DEFAULT_DATABASE_DIR } from "../db";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "../x402/batch/channel";
import { Output } from "./output";
import { progressBar } from "./progress";

/** Options every command takes (see `netd --help`). */
export interface GlobalOptions {
  /** Repeatable: a multi-chain command (attest create/check, transparency) reads every endpoint given. */
  rpcUrl?: string | string[];
  deployment?: string;
  keystore?: string;
  json?: boolean;
  yes?: boolean;
}

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/**
 * Everything a command needs, resolved lazily from flags first, then the environment (NETD_*), so that a command
 * that only validates input never touches the network and a read never asks for a key.
 */
export class CliContext {
  readonly out: Output;
  private providerPromise?: Promise<JsonRpcProvider>;
  private signerPromise?: Promise<Signer & { address: string }>;
  private symbolCache?: string;

  /** The environment, with empty variables removed: `NETD_DEPLOYMENT=` (as in a copied .env.example) means unset. */
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly opts: GlobalOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
    this.out = new Output(Boolean(opts.json));
  }

  rpcUrl(): string {
    const flag = Array.isArray(this.opts.rpcUrl) ? this.opts.rpcUrl[0] : this.opts.rpcUrl;
    return flag ?? (this.env.NETD_RPC_URL || DEFAULT_RPC_URL);
  }

  /**
   * Every endpoint given, for a multi-chain command: the --rpc-url flags (wherever on the line; commander hands them
   * to the program's option) and the command's own, else the one endpoint of {@link rpcUrl}.
   */
  rpcUrls(own: string[] = []): string[] {
    const global = Array.isArray(this.opts.rpcUrl) ? this.opts.rpcUrl : this.opts.rpcUrl ? [this.opts.rpcUrl] : [];
    const all = [...new Set([...global, ...own])];
    return all.length ? all : [this.rpcUrl()];
  }

  provider(): Promise<JsonRpcProvider> {
    this.providerPromise ??= connect({ rpcUrl: this.rpcUrl() });
    return this.providerPromise;
  }

  async chainId(): Promise<bigint> {
    return (await (await this.provider()).getNetwork()).chainId;
  }

  async deploymentPath(): Promise<string> {
    return this.opts.deployment ?? this.env.NETD_DEPLOYMENT ?? defaultDeploymentPath(await this.chainId());
  }

  async deployment(): Promise<Deployment> {
    return readDeploymentFor(await this.deploymentPath(), await this.chainId());
  }

  /** The deployment's batch-settlement contracts, or the canonical addresses when there is no deployment or it has none. */
  async channels(): Promise<{ address: string; collector: string }> {
    const contracts = await this.deployment()
      .then((d) => d.contracts)
      .catch(() => undefined);
    return {
      address: contracts?.BatchSettlement?.address ?? BATCH_SETTLEMENT_ADDRESS,
      collector: contracts?.ERC3009DepositCollector?.address ?? ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
    };
  }

  /** A progress bar for a long scan, on stderr when both it and stdout are terminals and --json is off; else undefined. */
  progress(): ReturnType<typeof progressBar> | undefined {
    return !this.opts.json && process.stderr.isTTY && process.stdout.isTTY ? progressBar() : undefined;
  }

  /** The deployment's RevenueSplitFactory; a deployment made before splits existed says how to add it. */
  async splitFactory(): Promise<string> {
    const record = (await this.deployment()).contracts.RevenueSplitFactory;
    if (!record) throw new InvalidInputError("this deployment has no RevenueSplitFactory; run `netd deploy` again to add it");
    return record.address;
  }

  /** Where the server's database is: the --database flag, else NETD_DATABASE_URL, else the embedded default. */
  databaseLocation(flag: string | undefined): string {
    return flag?.trim() || this.env.NETD_DATABASE_URL || DEFAULT_DATABASE_DIR;
  }

  /** The configured key, connected to the endpoint. Fails with exit code 2 when none is configured. */
  signer(): Promise<Signer & { address: string }> {
    this.signerPromise ??= (async () =>
      loadSigner(
        {
          privateKey: this.env.NETD_PRIVATE_KEY || undefined,
          keystore: this.opts.keystore ?? (this.env.NETD_KEYSTORE || undefined),
          keystorePassword: this.env.NETD_KEYSTORE_PASSWORD,
          promptPassword: process.stdin.isTTY ? promptHidden : undefined,
        },
        await this.provider(),
      ))();
    return this.signerPromise;
  }

  /** The token, read-only. */
  async token(): Promise<NetDollar> {
    const deployment = await this.deployment();
    return NetDollar__factory.connect(deployment.contracts.NetDollar.address, await this.provider());
  }

  /** The token, connected to the configured key. */
  async tokenAsSigner(): Promise<NetDollar> {
    const deployment = await this.deployment();
    return NetDollar__factory.connect(deployment.contracts.NetDollar.address, await this.signer());
  }

  /** The escrow of this deployment, connected to the configured key (or read-only). */
  async escrow(withSigner = true): Promise<ConditionalEscrow> {
    const deployment = await this.deployment();
    const record = deployment.contracts.ConditionalEscrow;
    if (!record) {
      throw new ConfigurationError(`the deployment ${await this.deploymentPath()} has no ConditionalEscrow`, {
        details: "run `netd deploy` again: it adds what is missing and keeps what is there",
      });
    }
    return ConditionalEscrow__factory.connect(record.address, withSigner ? await this.signer() : await this.provider());
  }

  async decodeContext(): Promise<DecodeContext> {
    this.symbolCache ??= await (await this.token()).symbol();
    return { symbol: this.symbolCache };
  }

  /**
   * Asks before sending a transaction, unless --yes. Without a terminal to ask on, refuses rather than sending
   * something nobody confirmed.
   */
  async confirm(summary: string): Promise<void> {
    if (this.opts.yes) return;
    if (!process.stdin.isTTY) {
      throw new ConfigurationError("not sending without confirmation", {
        details: `${summary}\npass --yes to confirm when there is no terminal to ask on`,
      });
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${summary}\nSend? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) throw new ConfigurationError("cancelled; nothing was sent");
    } finally {
      rl.close();
    }
  }
}
