import type { Command } from "commander";
import { Wallet, type Signer } from "ethers";
import { formatDollars, parseAmount } from "../amounts";
import { InvalidInputError } from "../errors";
import type { Database } from "../db";
import type { BatchSettlementServer, ChannelClaimer, FacilitatorAsset, FacilitatorLike } from "../x402";
import type { CliContext } from "./context";
import { parseDuration } from "./parse";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require("../x402") as typeof import("../x402");

/** What a paid server's command is told about the schemes it takes (see {@link addSchemeOptions}). */
export interface SchemeOptions {
  scheme: string;
  database?: string;
  claimInterval: string;
  claimThreshold?: string;
}

/**
 * The options of a paid server (serve-demo, serve-mcp, serve-a2a) about how it is paid: `--scheme`, and for
 * batch-settlement the channel store (`--database`) and when what was charged is claimed.
 */
export function addSchemeOptions(command: Command, database: string): Command {
  return command
    .option("--scheme <scheme>", "exact (one transaction per call), or batch-settlement (payment channels, with exact beside them)", "exact")
    .option("--database <dir|url>", database)
    .option("--claim-interval <duration>", "batch-settlement: claim what was charged at least this often (e.g. 30s, 5m)", "60s")
    .option("--claim-threshold <dollars>", "batch-settlement: also claim as soon as this much is charged and unclaimed");
}

export function parseScheme(input: string, what: string): "exact" | "batch-settlement" {
  if (input !== "exact" && input !== "batch-settlement") throw new InvalidInputError(`${what} "${input}" is not exact or batch-settlement`);
  return input;
}

/** The scheme options, checked: the scheme, the claim interval in seconds, the claim threshold in base units. */
export function parseSchemeOptions(options: SchemeOptions): { scheme: "exact" | "batch-settlement"; claimInterval: number; claimThreshold?: bigint } {
  const scheme = parseScheme(options.scheme, "--scheme");
  const claimInterval = Number(parseDuration(options.claimInterval, "--claim-interval"));
  if (claimInterval === 0) throw new InvalidInputError("--claim-interval must be more than zero");
  const claimThreshold = options.claimThreshold !== undefined ? parseAmount(options.claimThreshold, "--claim-threshold") : undefined;
  return { scheme, claimInterval, claimThreshold };
}

/** A paid server's side of batch-settlement: the channel server receiving for `payTo`, and its claimer (not started). */
export interface ChannelServer {
  batch: BatchSettlementServer;
  claimer: ChannelClaimer;
  /** What the startup table says of it. */
  rows: [string, string][];
  /** Stops claiming, claims what is left, and flushes the store (on Ctrl-C). */
  stop(): Promise<void>;
}

/**
 * The channel server of a paid server on `db`: its receiver authorizer (it signs claims and refunds) is
 * NETD_RECEIVER_AUTHORIZER_KEY, else the configured key; its claimer claims on the interval, on the threshold and at
 * once on a withdrawal, and notes each on stderr.
 */
export async function startChannelServer(
  ctx: CliContext,
  db: Database,
  o: {
    facilitator: FacilitatorLike;
    network: `eip155:${string}`;
    asset: FacilitatorAsset;
    payTo: string;
    channels: { address: string; collector: string };
    claimInterval: number;
    claimThreshold?: bigint;
    /** Called after each settle (a revenue split distributes then). */
    onSettled?: () => void;
  },
): Promise<ChannelServer> {
  const keyed = ctx.env.NETD_RECEIVER_AUTHORIZER_KEY?.trim();
  let receiverAuthorizer: Signer;
  try {
    receiverAuthorizer = keyed ? new Wallet(keyed) : await ctx.signer();
  } catch {
    throw new InvalidInputError("NETD_RECEIVER_AUTHORIZER_KEY is not a 32-byte hex private key");
  }
  const batch = await lib().BatchSettlementServer.create({
    store: new (lib().ChannelStore)(db),
    facilitator: o.facilitator,
    provider: await ctx.provider(),
    network: o.network,
    asset: o.asset,
    payTo: o.payTo,
    receiverAuthorizer,
    channels: o.channels.address,
  });
  const claimer = new (lib().ChannelClaimer)(batch, {
    intervalMs: o.claimInterval * 1000,
    threshold: o.claimThreshold,
    onEvent: (e) => {
      if (e.kind === "claimed") ctx.out.note(`claimed ${formatDollars(e.amount)} from ${e.channels} channel${e.channels === 1 ? "" : "s"} (${e.transaction})`);
      else if (e.kind === "settled") {
        ctx.out.note(`settled ${formatDollars(e.amount)} to ${o.payTo} (${e.transaction})`);
        o.onSettled?.();
      } else if (e.kind === "withdrawal") ctx.out.note(`a payer started a withdrawal from channel ${e.channelId}: claiming it now`);
      else ctx.out.note(`warning: ${e.what} failed: ${e.reason} ${e.message}`);
    },
  });
  return {
    batch,
    claimer,
    rows: [
      ["channels", `${batch.contract.address} (receiver authorizer ${batch.authorizerAddress})`],
      ["channel store", `${db.kind} ${db.location}`],
      [
        "claims",
        `every ${o.claimInterval}s${o.claimThreshold !== undefined ? `, or at ${formatDollars(o.claimThreshold)} unclaimed` : ""}, and at once on a withdrawal`,
      ],
    ],
    stop: async () => {
      await claimer.stop();
      await claimer.claimAndSettle().catch((error: Error) => ctx.out.note(`warning: the last claim failed: ${error.message}`));
      await batch.store.flush().catch(() => undefined);
    },
  };
}

/** What a paying command is told about how it pays (see {@link addPayingSchemeOptions}). */
export interface PayingSchemeOptions {
  scheme: string;
  deposit?: string;
  state: string;
}

/** The options of a paying command (pay, x402 buy) about how it pays: `--scheme`, and for channels `--deposit`, `--state`. */
export function addPayingSchemeOptions(command: Command): Command {
  return command
    .option("--scheme <scheme>", "exact (one on-chain payment per call) or batch-settlement (one channel deposit, then a signed voucher per call)", "exact")
    .option(
      "--deposit <dollars>",
      "batch-settlement: what to deposit when a channel is opened or topped up, and the most at once (default the server's minimum, at most $1)",
    )
    .option("--state <dir>", "batch-settlement: where the channels' state is kept", ".netd/channels");
}

/**
 * The paying client's scheme options, checked: `schemes` and `channels` for PayingClient, and the most one deposit
 * may be (the spend control `maxDeposit`).
 */
export async function payingSchemeOf(
  ctx: CliContext,
  options: PayingSchemeOptions & { mandate?: string },
): Promise<{
  scheme: "exact" | "batch-settlement";
  maxDeposit: bigint;
  channels?: { deposit: bigint; stateDir: string; contracts: { address: string; collector: string } };
}> {
  const scheme = parseScheme(options.scheme, "--scheme");
  const deposit = options.deposit !== undefined ? parseAmount(options.deposit, "--deposit") : undefined;
  if (deposit === 0n) throw new InvalidInputError("--deposit must be more than zero");
  if (scheme === "exact" && options.deposit !== undefined) throw new InvalidInputError("--deposit is for --scheme batch-settlement");
  if (options.mandate !== undefined && scheme !== "exact") throw new InvalidInputError("--mandate pays --scheme exact only (a mandate closes for one payment)");
  const maxDeposit = deposit ?? 1_000_000n;
  if (scheme === "exact") return { scheme, maxDeposit };
  return { scheme, maxDeposit, channels: { deposit: deposit ?? 1n, stateDir: options.state, contracts: await ctx.channels() } };
}
