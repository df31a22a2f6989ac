import { id as topicOf, type Provider } from "ethers";
import { NetDollarV2__factory, ReserveOracle__factory } from "../../typechain-types";
import { ChainUnreachableError, NetDollarError } from "../errors";
import { scanLogs } from "../logs";
import { findBlockAtOrBefore, findDeploymentBlock } from "./chain";
import { toIsoSeconds, toUnixSeconds, type AttestationDocument } from "./document";
import { verifyAttestationSignature, type SignatureCheck } from "./create";

export type Verdict = "backed" | "under-backed" | "mismatch" | "invalid" | "unreadable";

/** A problem found, and how serious it is (the worst decides the verdict). */
export interface Problem {
  kind: "invalid" | "unreadable" | "mismatch" | "under-backed";
  message: string;
}

export interface Reconciliation {
  fromBlock: number;
  toBlock: number;
  events: number;
  minted: bigint;
  burned: bigint;
  redeemed: bigint;
  seized: bigint;
  /** minted − burned − redeemed − seized */
  reconstructed: bigint;
  matches: boolean;
  /** Where the running sum of events first parts from totalSupply, when they differ. */
  divergence?: { lastAgreeingBlock: number; firstDivergingBlock: number; eventsSum: bigint; totalSupply: bigint };
}

export interface DeploymentReport {
  chainId: string;
  token: string;
  blockNumber: number;
  blockTimestamp: string;
  documentOutstanding: bigint;
  /** Version 2: the reserves allocated to this deployment (what its mint guard allows). */
  allocation?: bigint;
  totalSupply?: bigint;
  reconciliation?: Reconciliation;
  minters?: { address: string; allowance: bigint }[];
  unusedMinterAllowance?: bigint;
  oracle?: { address: string; agrees: boolean; note: string; latestReserves?: bigint; latestAsOf?: string };
}

export interface CheckReport {
  verdict: Verdict;
  issuer: string;
  asOf: string;
  ageSeconds: bigint;
  /** Older than `maxAgeSeconds` (never without one): the verdict is then invalid, and its figures are not current. */
  stale: boolean;
  accountant: string;
  reportSha256: string;
  signature: SignatureCheck;
  reserves: bigint;
  /** Σ totalSupply at the attested blocks (the chain's figures, not the document's). */
  outstanding: bigint;
  /** reserves − outstanding (negative when under-backed). */
  headroom: bigint;
  /** reserves / outstanding as a percentage with 4 decimals, computed in integers, e.g. "100.5025%". */
  collateralization: string;
  deployments: DeploymentReport[];
  problems: Problem[];
}

/** Parameters of {@link checkAttestation}. */
export interface CheckAttestationParameters {
  document: AttestationDocument;
  /** Endpoints, one per chain the attestation covers (matched by chain id). */
  providers: Provider[];
  trustedAttestors: string[];
  /** Refuse attestations older than this (seconds). */
  maxAgeSeconds?: bigint;
  /** Unix seconds now (default: the local clock). */
  now?: bigint;
  /** Blocks per log request (default 10,000; halved when a provider limits ranges). */
  chunkSize?: number;
  /** Where to start the event scan, by "chainId:token" (default: the token's deployment block, found on-chain). */
  fromBlock?: Record<string, number>;
  /** Endpoints given that did not answer: a chain none of the providers serves is then said to be unreachable. */
  unreachable?: UnreachableEndpoint[];
  /** Progress of the event scan, for a progress bar. */
  onProgress?: (p: { deployment: number; deployments: number; fromBlock: number; toBlock: number; scannedTo: number; events: number }) => void;
}

/** An endpoint that did not answer, and why. */
export interface UnreachableEndpoint {
  url: string;
  message: string;
}

/** Why a chain the attestation covers has no provider: none was given, or the ones given did not answer. */
export function missingChainMessage(chainId: string, unreachable: UnreachableEndpoint[] = []): string {
  if (!unreachable.length) return `chain ${chainId} could not be read: no --rpc-url was given for it`;
  return `chain ${chainId} could not be read: no endpoint that answered serves it (${unreachable.map((u) => u.message).join("; ")})`;
}

const TOPICS = {
  Mint: topicOf("Mint(address,address,uint256)"),
  Burn: topicOf("Burn(address,uint256)"),
  Redeemed: topicOf("Redeemed(address,uint256,bytes32)"),
  Seized: topicOf("Seized(address,address,uint256)"),
  MinterConfigured: topicOf("MinterConfigured(address,uint256)"),
  MinterRemoved: topicOf("MinterRemoved(address)"),
};

/** reserves / supply as "100.5025%" (floor to 4 decimals), in integer arithmetic only. */
export function collateralization(reserves: bigint, supply: bigint): string {
  if (supply === 0n) return "n/a (nothing outstanding)";
  const ratio = (reserves * 1_000_000n) / supply; // percent × 10,000
  const whole = ratio / 10_000n;
  const fraction = (ratio % 10_000n).toString().padStart(4, "0");
  return `${whole}.${fraction}%`;
}

function topicAddress(topic: string): string {
  return "0x" + topic.slice(26);
}

/**
 * The auditor's check of a reserve attestation against the chains it covers: schema (already parsed), signature by
 * a trusted attestor, staleness, the attested blocks, the supply at each (historical calls), a reconciliation of
 * that supply with the token's mint, burn, redemption and seizure events since deployment (streamed in block ranges;
 * memory stays flat), unused minter allowances, the on-chain oracle, and the verdict, all in integers.
 */
export async function checkAttestation(params: CheckAttestationParameters): Promise<CheckReport> {
  const doc = params.document;
  const problems: Problem[] = [];
  const now = params.now ?? BigInt(Math.floor(Date.now() / 1000));
  const asOf = toUnixSeconds(doc.asOf);

  const signature = verifyAttestationSignature(doc, params.trustedAttestors);
  if (signature.problem) problems.push({ kind: "invalid", message: signature.problem });
  const ageSeconds = now - asOf;
  const stale = params.maxAgeSeconds !== undefined && ageSeconds > params.maxAgeSeconds;
  if (stale) {
    problems.push({ kind: "invalid", message: `the attestation is stale: ${ageSeconds} s old, more than the maximum ${params.maxAgeSeconds} s` });
  }

  const providers = new Map<string, Provider>();
  for (const provider of params.providers) {
    const { chainId } = await provider.getNetwork();
    providers.set(chainId.toString(), provider);
  }

  const deployments: DeploymentReport[] = [];
  for (const [index, d] of doc.deployments.entries()) {
    const report: DeploymentReport = {
      chainId: d.chainId,
      token: d.token,
      blockNumber: Number(d.blockNumber),
      blockTimestamp: d.blockTimestamp,
      documentOutstanding: BigInt(d.outstanding),
      ...(d.allocation !== undefined ? { allocation: BigInt(d.allocation) } : {}),
    };
    deployments.push(report);
    const provider = providers.get(d.chainId);
    if (!provider) {
      problems.push({ kind: "unreadable", message: missingChainMessage(d.chainId, params.unreachable) });
      continue;
    }
    try {
      await checkDeployment(params, index, provider, asOf, report, problems);
    } catch (error) {
      if (error instanceof ChainUnreachableError || !(error instanceof NetDollarError)) {
        const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
        problems.push({ kind: "unreadable", message: `chain ${d.chainId}: ${message}` });
      } else {
        problems.push({ kind: "invalid", message: `chain ${d.chainId}: ${error.shortMessage}` });
      }
    }
  }

  const reserves = BigInt(doc.reserves.total);
  const outstanding = deployments.reduce((a, d) => a + (d.totalSupply ?? d.documentOutstanding), 0n);
  const headroom = reserves - outstanding;
  if (headroom < 0n) {
    problems.push({
      kind: "under-backed",
      message: `under-backed: reserves ${reserves} are ${-headroom} short of the ${outstanding} outstanding (base units)`,
    });
  }

  // Version 2: each deployment must be backed by its own allocation, not only all of them by the total.
  for (const d of deployments) {
    const supply = d.totalSupply ?? d.documentOutstanding;
    if (d.allocation !== undefined && supply > d.allocation) {
      problems.push({
        kind: "under-backed",
        message: `under-backed on chain ${d.chainId}: ${supply} outstanding, more than the ${d.allocation} allocated to it (base units)`,
      });
    }
  }

  const worst = (["invalid", "unreadable", "mismatch", "under-backed"] as const).find((k) => problems.some((p) => p.kind === k));
  const verdict: Verdict = worst ?? "backed";
  return {
    verdict,
    issuer: doc.issuer,
    asOf: doc.asOf,
    ageSeconds,
    stale,
    accountant: doc.accountant,
    reportSha256: doc.report.sha256,
    signature,
    reserves,
    outstanding,
    headroom,
    collateralization: collateralization(reserves, outstanding),
    deployments,
    problems,
  };
}

async function checkDeployment(
  params: CheckAttestationParameters,
  index: number,
  provider: Provider,
  asOf: bigint,
  report: DeploymentReport,
  problems: Problem[],
): Promise<void> {
  const label = `chain ${report.chainId}, token ${report.token}`;
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      throw new ChainUnreachableError(`cannot read ${what}`, { cause });
    }
  };

  // The attested block must be the last one at or before asOf.
  const block = await read(`block ${report.blockNumber}`, () => provider.getBlock(report.blockNumber));
  if (!block) throw new ChainUnreachableError(`block ${report.blockNumber} is not available`);
  if (toIsoSeconds(block.timestamp) !== report.blockTimestamp) {
    problems.push({
      kind: "invalid",
      message: `${label}: block ${report.blockNumber} is at ${toIsoSeconds(block.timestamp)}, not ${report.blockTimestamp} as the attestation says`,
    });
  }
  if (BigInt(block.timestamp) > asOf) {
    problems.push({ kind: "invalid", message: `${label}: block ${report.blockNumber} is after asOf` });
  }
  // ... of the last second at or before asOf: the last block then, or, on chains where several blocks share a
  // timestamp (Arbitrum, a devnet), any block of that second, since more of them can follow the attestation's.
  if (BigInt(block.timestamp) <= asOf) {
    const head = await read("the latest block", () => provider.getBlock("latest"));
    if (!head) throw new ChainUnreachableError("the latest block is not available");
    if (BigInt(head.timestamp) < asOf) {
      problems.push({ kind: "invalid", message: `${label}: the chain has not reached asOf yet (its latest block is at ${toIsoSeconds(head.timestamp)})` });
    } else {
      const last = await findBlockAtOrBefore(provider, asOf);
      if (last.timestamp !== BigInt(block.timestamp)) {
        problems.push({
          kind: "invalid",
          message: `${label}: block ${report.blockNumber} is not the last block at or before asOf (block ${last.number} is at ${toIsoSeconds(last.timestamp)})`,
        });
      }
    }
  }

  const token = NetDollarV2__factory.connect(report.token, provider);
  const supplyAt = (blockTag: number) => read(`the supply at block ${blockTag}`, () => token.totalSupply({ blockTag }));
  report.totalSupply = await supplyAt(report.blockNumber);
  if (report.totalSupply !== report.documentOutstanding) {
    problems.push({
      kind: "mismatch",
      message: `${label}: the attestation says ${report.documentOutstanding} outstanding at block ${report.blockNumber}; the chain says ${report.totalSupply}`,
    });
  }

  // Reconciliation: mints − burns − redemptions − seizures since deployment, streamed in block ranges.
  const key = `${report.chainId}:${report.token.toLowerCase()}`;
  const fromBlock =
    params.fromBlock?.[key] ??
    params.fromBlock?.[`${report.chainId}:${report.token}`] ??
    (await findDeploymentBlock(provider, report.token, report.blockNumber));
  const r: Reconciliation = {
    fromBlock,
    toBlock: report.blockNumber,
    events: 0,
    minted: 0n,
    burned: 0n,
    redeemed: 0n,
    seized: 0n,
    reconstructed: 0n,
    matches: false,
  };
  const minters = new Set<string>();
  const checkpoints: { block: number; cumulative: bigint }[] = [{ block: fromBlock - 1, cumulative: 0n }];
  let cumulative = 0n;
  for await (const logs of scanLogs({
    provider,
    address: report.token,
    topics: Object.values(TOPICS),
    fromBlock,
    toBlock: report.blockNumber,
    chunkSize: params.chunkSize,
    onProgress: (scannedTo) => {
      checkpoints.push({ block: scannedTo, cumulative });
      params.onProgress?.({
        deployment: index,
        deployments: params.document.deployments.length,
        fromBlock,
        toBlock: report.blockNumber,
        scannedTo,
        events: r.events,
      });
    },
  })) {
    for (const log of logs) {
      const topic = log.topics[0];
      if (topic === TOPICS.MinterConfigured || topic === TOPICS.MinterRemoved) {
        minters.add(topicAddress(log.topics[1]));
        continue;
      }
      const amount = BigInt(log.data.slice(0, 66));
      r.events++;
      if (topic === TOPICS.Mint) {
        r.minted += amount;
        cumulative += amount;
      } else {
        if (topic === TOPICS.Burn) r.burned += amount;
        else if (topic === TOPICS.Redeemed) r.redeemed += amount;
        else r.seized += amount;
        cumulative -= amount;
      }
    }
  }
  r.reconstructed = cumulative;
  r.matches = cumulative === report.totalSupply;
  report.reconciliation = r;
  if (!r.matches) {
    r.divergence = await locateDivergence(provider, report.token, checkpoints, supplyAt, params.chunkSize);
    problems.push({
      kind: "mismatch",
      message: `${label}: events reconstruct a supply of ${cumulative}, but totalSupply at block ${report.blockNumber} is ${report.totalSupply}; they part between block ${r.divergence.lastAgreeingBlock} and block ${r.divergence.firstDivergingBlock} (events ${r.divergence.eventsSum}, totalSupply ${r.divergence.totalSupply} there)`,
    });
  }

  // What could still be minted without a new attestation.
  report.minters = [];
  for (const minter of minters) {
    const [isMinter, allowance] = await read(`minter ${minter}`, () =>
      Promise.all([token.isMinter(minter, { blockTag: report.blockNumber }), token.minterAllowance(minter, { blockTag: report.blockNumber })]),
    );
    if (isMinter) report.minters.push({ address: minter, allowance });
  }
  report.unusedMinterAllowance = report.minters.reduce((a, m) => a + m.allowance, 0n);

  const doc = params.document;
  const expected = report.allocation ?? BigInt(doc.reserves.total);
  report.oracle = await checkOracle(provider, token, expected, asOf, problems, label);
}

/**
 * Finds where the running sum of events first parts from totalSupply: binary search over the scan's checkpoints,
 * then over the blocks of the range they part in (historical totalSupply calls, O(log n) of them).
 */
async function locateDivergence(
  provider: Provider,
  token: string,
  checkpoints: { block: number; cumulative: bigint }[],
  supplyAt: (block: number) => Promise<bigint>,
  chunkSize?: number,
): Promise<NonNullable<Reconciliation["divergence"]>> {
  let lo = 0; // agrees (before deployment, both are zero)
  let hi = checkpoints.length - 1; // disagrees (the attested block)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await supplyAt(checkpoints[mid].block)) === checkpoints[mid].cumulative) lo = mid;
    else hi = mid;
  }
  // Per-block sums in (checkpoints[lo].block, checkpoints[hi].block]
  const deltas = new Map<number, bigint>();
  for await (const logs of scanLogs({
    provider,
    address: token,
    topics: [TOPICS.Mint, TOPICS.Burn, TOPICS.Redeemed, TOPICS.Seized],
    fromBlock: checkpoints[lo].block + 1,
    toBlock: checkpoints[hi].block,
    chunkSize,
  })) {
    for (const log of logs) {
      const amount = BigInt(log.data.slice(0, 66));
      deltas.set(log.blockNumber, (deltas.get(log.blockNumber) ?? 0n) + (log.topics[0] === TOPICS.Mint ? amount : -amount));
    }
  }
  const sumTo = (block: number) => {
    let sum = checkpoints[lo].cumulative;
    for (const [b, delta] of deltas) if (b <= block) sum += delta;
    return sum;
  };
  let good = checkpoints[lo].block;
  let bad = checkpoints[hi].block;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if ((await supplyAt(mid)) === sumTo(mid)) good = mid;
    else bad = mid;
  }
  return { lastAgreeingBlock: good, firstDivergingBlock: bad, eventsSum: sumTo(bad), totalSupply: await supplyAt(bad) };
}

/** Whether the token's reserve oracle holds a round for this attestation, with the same reserves and time. */
async function checkOracle(
  provider: Provider,
  token: ReturnType<typeof NetDollarV2__factory.connect>,
  /** What the oracle's round must say backs this deployment: its allocation (version 2) or the total (version 1). */
  expected: bigint,
  asOf: bigint,
  problems: Problem[],
  label: string,
): Promise<DeploymentReport["oracle"]> {
  let oracleAddress: string;
  try {
    [oracleAddress] = await token.reserveGuard();
  } catch {
    return { address: "", agrees: false, note: "the token has no reserve guard (version 1): nothing on-chain to compare" };
  }
  if (/^0x0{40}$/.test(oracleAddress)) return { address: oracleAddress, agrees: false, note: "the token's reserve guard is off: no oracle to compare" };
  const oracle = ReserveOracle__factory.connect(oracleAddress, provider);
  const [latestRound, latestReserves, , latestAsOf] = await oracle.latestRoundData();
  const base = { address: oracleAddress, latestReserves: BigInt(latestReserves), latestAsOf: toIsoSeconds(latestAsOf) };
  if (latestAsOf < asOf) return { ...base, agrees: false, note: "not published on-chain yet: the oracle's latest attestation is older" };
  for (let round = latestRound; round > 0n; round--) {
    const [, reserves, , roundAsOf] = await oracle.getRoundData(round);
    if (roundAsOf < asOf) break;
    if (roundAsOf === asOf) {
      if (BigInt(reserves) === expected) {
        return {
          ...base,
          agrees: true,
          note: round === latestRound ? "the oracle's latest round is this attestation" : `round ${round} is this attestation (superseded by a later one)`,
        };
      }
      problems.push({ kind: "invalid", message: `${label}: the oracle's round ${round} for the same time attests ${reserves}, not ${expected}` });
      return { ...base, agrees: false, note: `conflict: round ${round} has other reserves for the same time` };
    }
  }
  return { ...base, agrees: false, note: "no round of the oracle has this attestation's time (never published)" };
}
