import { getAddress, type ContractRunner, type Provider } from "ethers";
import { RevenueSplitFactory__factory, RevenueSplit__factory, NetDollar__factory } from "../typechain-types";
import { parseAddress } from "./addresses";
import { InvalidInputError, NetDollarError } from "./errors";
import { toNetDollarError } from "./decode";
import type { PaidRoute } from "./x402/paywall";

/** The most recipients a split may have (RevenueSplitFactory.MAX_RECIPIENTS). */
export const MAX_SPLIT_RECIPIENTS = 200;
/** The highest distributor fee in basis points (RevenueSplitFactory.MAX_DISTRIBUTOR_FEE_BPS). */
export const MAX_DISTRIBUTOR_FEE_BPS = 1_000;

/** A split's definition, as the factory takes it: recipients ascending, shares in basis points summing to 10,000. */
export interface SplitDefinition {
  recipients: string[];
  sharesBps: number[];
  remainderRecipient: string;
  distributorFeeBps: number;
}

/**
 * A split written as `{ "0xCreator": 7000, "0xSource": 2000, "0xPlatform": 1000 }` (recipient → basis points), as a
 * route's price names it, checked as the factory will check it, so that bad input is refused before any call. The
 * remainder recipient (who gets rounding leftovers) is the one with the largest share unless named.
 *
 * @example
 * const split = splitDefinition({ "0x15d3…6A65": 7000, "0x9965…A4dc": 2000, "0x90F7…b906": 1000 });
 */
export function splitDefinition(shares: Record<string, number>, options: { remainderRecipient?: string; distributorFeeBps?: number } = {}): SplitDefinition {
  const entries = Object.entries(shares).map(([address, bps]) => {
    const account = parseAddress(address, "split recipient");
    if (!Number.isInteger(bps) || bps <= 0 || bps > 10_000)
      throw new InvalidInputError(`the share of ${account} (${bps}) is not a whole number of basis points from 1 to 10000`);
    return { account, bps };
  });
  if (entries.length < 2 || entries.length > MAX_SPLIT_RECIPIENTS) {
    throw new InvalidInputError(`a split has ${entries.length} recipient${entries.length === 1 ? "" : "s"}: between 2 and ${MAX_SPLIT_RECIPIENTS} are allowed`);
  }
  entries.sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : 1));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].account === entries[i - 1].account) throw new InvalidInputError(`${entries[i].account} is listed twice in the split`);
  }
  const total = entries.reduce((sum, e) => sum + e.bps, 0);
  if (total !== 10_000)
    throw new InvalidInputError(`the split's shares add up to ${total} basis points, not 10,000`, { details: "e.g. 7000 + 2000 + 1000 for 70% / 20% / 10%" });
  const fee = options.distributorFeeBps ?? 0;
  if (!Number.isInteger(fee) || fee < 0 || fee > MAX_DISTRIBUTOR_FEE_BPS) {
    throw new InvalidInputError(`a distributor fee of ${fee} basis points is not 0 to ${MAX_DISTRIBUTOR_FEE_BPS}`);
  }
  const largest = entries.reduce((best, e) => (e.bps > best.bps ? e : best), entries[0]).account;
  const remainderRecipient = options.remainderRecipient === undefined ? largest : parseAddress(options.remainderRecipient, "remainder recipient");
  if (!entries.some((e) => e.account === remainderRecipient))
    throw new InvalidInputError(`the remainder recipient ${remainderRecipient} is not one of the split's recipients`);
  return { recipients: entries.map((e) => e.account), sharesBps: entries.map((e) => e.bps), remainderRecipient, distributorFeeBps: fee };
}

/** The split's address for this definition, whether it exists yet or not (one eth_call to the factory). */
export async function predictSplitAddress(factory: string, runner: ContractRunner, split: SplitDefinition): Promise<string> {
  const f = RevenueSplitFactory__factory.connect(factory, runner);
  return f.predictSplit(split.recipients, split.sharesBps, split.remainderRecipient, split.distributorFeeBps).catch((error: unknown) => {
    throw toNetDollarError(error);
  });
}

/**
 * The split's address, created through the factory first when it has no code yet (anyone may create any split;
 * creating it twice is impossible: the factory returns the existing one). Returns whether this call created it.
 */
export async function ensureSplit(
  factory: string,
  signer: ContractRunner & { provider: Provider | null },
  split: SplitDefinition,
): Promise<{ address: string; created: boolean; transaction?: string }> {
  const address = await predictSplitAddress(factory, signer, split);
  if ((await signer.provider!.getCode(address)) !== "0x") return { address, created: false };
  const f = RevenueSplitFactory__factory.connect(factory, signer);
  try {
    const tx = await f.createSplit(split.recipients, split.sharesBps, split.remainderRecipient, split.distributorFeeBps);
    const receipt = await tx.wait();
    return { address, created: true, transaction: receipt!.hash };
  } catch (error) {
    throw toNetDollarError(error);
  }
}

/** What a split holds of a token and owes. */
export interface SplitStatus {
  address: string;
  definition: SplitDefinition;
  /** The split's balance of the token. */
  balance: bigint;
  /** Part of it credited to recipients the token refused, waiting for their withdrawal. */
  credited: bigint;
  /** What the next distribution would share: balance − credited. */
  distributable: bigint;
  /** Per recipient: its share and what is credited to it. */
  recipients: { account: string; shareBps: number; credited: bigint }[];
}

/** Reads a split's definition (from its code) and its position in `token`; refuses an address that is not a split. */
export async function getSplitStatus(address: string, token: string, provider: Provider): Promise<SplitStatus> {
  const split = RevenueSplit__factory.connect(address, provider);
  let definition: SplitDefinition;
  try {
    const [recipients, shares, remainderRecipient, fee] = await split.split();
    definition = { recipients: recipients.map((r) => getAddress(r)), sharesBps: shares.map(Number), remainderRecipient, distributorFeeBps: Number(fee) };
  } catch (cause) {
    if (cause instanceof NetDollarError) throw cause;
    throw new InvalidInputError(`${address} is not a revenue split on this chain`, { details: "create one with `netd split create`", cause });
  }
  const [balance, credited, each] = await Promise.all([
    NetDollar__factory.connect(token, provider).balanceOf(address),
    split.totalCredited(token),
    Promise.all(definition.recipients.map((r) => split.credited(token, r))),
  ]);
  return {
    address: getAddress(address),
    definition,
    balance,
    credited,
    distributable: balance - credited,
    recipients: definition.recipients.map((account, i) => ({ account, shareBps: definition.sharesBps[i], credited: each[i] })),
  };
}

/**
 * Routes whose price names a `split`, with the split's address as their `payTo`; each split is created on chain first
 * when it does not exist yet (by `signer`, through `factory`). Other routes are returned unchanged. Returns the routes
 * and the splits' addresses (for a {@link SplitDistributor}).
 *
 * @example
 * const { routes, splits } = await resolveSplitRoutes({ "GET /summarize": { price: "$0.01", split: { [a]: 7000, [b]: 2000, [c]: 1000 } } }, { factory, signer });
 * app.use(paywall({ routes, payTo, network, asset, facilitator }));
 */
export async function resolveSplitRoutes<R extends PaidRoute>(
  routes: Record<string, R>,
  params: { factory: string; signer: ContractRunner & { provider: Provider | null } },
): Promise<{ routes: Record<string, R>; splits: string[] }> {
  const out: Record<string, R> = {};
  const splits = new Set<string>();
  for (const [key, route] of Object.entries(routes)) {
    if (!route.split) {
      out[key] = route;
      continue;
    }
    let definition: SplitDefinition;
    try {
      definition = splitDefinition(route.split);
    } catch (error) {
      if (error instanceof InvalidInputError) throw new InvalidInputError(`route "${key}": ${error.shortMessage}`, { details: error.details, cause: error });
      throw error;
    }
    const { address } = await ensureSplit(params.factory, params.signer, definition);
    if (route.payTo && route.payTo.toLowerCase() !== address.toLowerCase()) throw new InvalidInputError(`route "${key}" names both a payTo and a split`);
    out[key] = { ...route, payTo: address };
    splits.add(address);
  }
  return { routes: out, splits: [...splits] };
}

/** Parameters of {@link SplitDistributor}. */
export interface SplitDistributorOptions {
  /** Sends the distributions (pays their gas; receives any distributor fee). */
  signer: ContractRunner & { provider: Provider | null; getAddress(): Promise<string> };
  token: string;
  splits: string[];
  /** Distribute every split holding anything at this interval (default 60 s). */
  intervalMs?: number;
  /** And at once when a split's distributable amount reaches this many base units. */
  threshold?: bigint;
  /** How often to look at the thresholds (default 5 s). */
  pollMs?: number;
  onEvent?: (event: { kind: "distributed"; split: string; amount: bigint; transaction: string } | { kind: "failed"; split: string; message: string }) => void;
}

/**
 * Distributes revenue splits on an interval or a threshold, one transaction per split with something to share; a
 * failure is reported and retried at the next turn (nothing is lost: the money waits in the split). Call
 * `distributeNow()` after a batch-settlement settle (the ChannelClaimer's "settled" event) to share it at once.
 */
export class SplitDistributor {
  private timer?: NodeJS.Timeout;
  private lastRunAt = Date.now();
  private running?: Promise<void>;

  constructor(readonly options: SplitDistributorOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Distributes every split with something to share, now. */
  distributeNow(): Promise<void> {
    return this.enqueue(0n);
  }

  private tick(): Promise<void> {
    const due = Date.now() - this.lastRunAt >= (this.options.intervalMs ?? 60_000);
    return this.enqueue(due ? 0n : (this.options.threshold ?? -1n));
  }

  /** One run at a time, in order; a run that throws is reported and never stops the ones after it. */
  private enqueue(minimum: bigint): Promise<void> {
    this.running = (this.running ?? Promise.resolve()).then(() =>
      this.run(minimum).catch((error: unknown) => this.options.onEvent?.({ kind: "failed", split: "", message: toNetDollarError(error).shortMessage })),
    );
    return this.running;
  }

  /** Distributes the splits whose distributable amount is above zero and at least `minimum` (-1: none). */
  private async run(minimum: bigint): Promise<void> {
    if (minimum < 0n) return;
    this.lastRunAt = Date.now();
    const provider = this.options.signer.provider!;
    const distributor = await this.options.signer.getAddress();
    for (const split of this.options.splits) {
      try {
        const status = await getSplitStatus(split, this.options.token, provider);
        if (status.distributable === 0n || status.distributable < minimum) continue;
        const tx = await RevenueSplit__factory.connect(split, this.options.signer).distribute(this.options.token, distributor);
        const receipt = await tx.wait();
        this.options.onEvent?.({ kind: "distributed", split, amount: status.distributable, transaction: receipt!.hash });
      } catch (error) {
        this.options.onEvent?.({ kind: "failed", split, message: toNetDollarError(error).shortMessage });
      }
    }
  }
}
