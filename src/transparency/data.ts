import { id as topicOf, type Provider } from "ethers";
import { NetDollarV2__factory, ReserveOracle__factory } from "../../typechain-types";
import { InvalidInputError } from "../errors";
import { scanLogs } from "../logs";
import { checkAttestation, missingChainMessage, type CheckAttestationParameters, type CheckReport } from "../attestation/check";
import { findBlockAtOrBefore, findDeploymentBlock } from "../attestation/chain";
import { toIsoSeconds, toUnixSeconds, type AttestationDocument } from "../attestation/document";

/** The windows of issuance and redemption the page shows, in days (as Circle's transparency page does). */
export const FLOW_WINDOWS = [7, 30, 365] as const;

/** Issuance and redemption over the last `days` days, in base units. */
export interface Flow {
  days: (typeof FLOW_WINDOWS)[number];
  /** Mint events. */
  issued: bigint;
  /** Redeemed and Burn events (tokens taken out of circulation by the issuer for dollars). */
  redeemed: bigint;
  /** Seized events (blocklisted funds taken by law enforcement order). */
  seized: bigint;
  /** issued − redeemed − seized */
  net: bigint;
}

/** One round of a chain's reserve oracle: what was attested for that chain, and the chain's supply at that time. */
export interface OracleRound {
  round: bigint;
  asOf: string;
  /** The reserves this round attests for the deployment (its allocation, version 2). */
  reserves: bigint;
  /** totalSupply at the last block at or before asOf. */
  supply: bigint;
}

/** What the page shows of one deployment, read now from its chain. */
export interface ChainFigures {
  chainId: string;
  token: string;
  /** Why the chain could not be read; the other figures are then absent. */
  unreadable?: string;
  head?: { number: number; timestamp: string };
  /** totalSupply at the chain's latest block. */
  inCirculation?: bigint;
  flows?: Flow[];
  oracle?: string;
  /** The oracle's rounds, oldest first (the most recent {@link TransparencyParameters.maxRounds}). */
  rounds?: OracleRound[];
  /** The oracle round that holds the attestation shown, if it was published to this chain. */
  attestationRound?: bigint;
}

/** One point of the chart: an attestation round (the same asOf on every chain it covers). */
export interface HistoryPoint {
  asOf: string;
  /** Σ the reserves attested to each chain for this round. */
  reserves: bigint;
  /** Σ the chains' supply at asOf. */
  supply: bigint;
  /** Supply by chain id. */
  byChain: Record<string, bigint>;
}

export interface TransparencyData {
  generatedAt: string;
  /** The checker's report on the attestation (the same as `netd attest check`). */
  check: CheckReport;
  maxAgeSeconds?: bigint;
  reserveLines: AttestationDocument["reserves"]["lines"];
  chains: ChainFigures[];
  /** Σ in circulation now over the chains that could be read. */
  inCirculation: bigint;
  /** Whether every chain could be read (else inCirculation is partial). */
  complete: boolean;
  history: HistoryPoint[];
}

/** Parameters of {@link readTransparency}: those of the checker, and how much history to read. */
export interface TransparencyParameters extends Omit<CheckAttestationParameters, "onProgress"> {
  /** Oracle rounds per chain to chart (default 365). */
  maxRounds?: number;
  /** Progress of the event scans (the checker's reconciliation, then the flows), for a progress bar. */
  onProgress?: (p: { label: string; fromBlock: number; toBlock: number; scannedTo: number }) => void;
}

const FLOW_TOPICS = {
  Mint: topicOf("Mint(address,address,uint256)"),
  Burn: topicOf("Burn(address,uint256)"),
  Redeemed: topicOf("Redeemed(address,uint256,bytes32)"),
  Seized: topicOf("Seized(address,address,uint256)"),
};

/**
 * Everything the transparency page shows, from the chains and the signed attestation alone: the checker's verdict
 * (through {@link checkAttestation}, never a second copy of its rules), each chain's supply now, issuance and
 * redemption over 7, 30 and 365 days, and the oracle's rounds with the supply at each for the chart. A chain that
 * cannot be read is reported as such; the others are still shown.
 */
export async function readTransparency(params: TransparencyParameters): Promise<TransparencyData> {
  const now = params.now ?? BigInt(Math.floor(Date.now() / 1000));
  const check = await checkAttestation({
    ...params,
    now,
    onProgress: (p) =>
      params.onProgress?.({
        label: `reconciling chain ${params.document.deployments[p.deployment].chainId}`,
        fromBlock: p.fromBlock,
        toBlock: p.toBlock,
        scannedTo: p.scannedTo,
      }),
  });
  const providers = new Map<string, Provider>();
  for (const provider of params.providers) providers.set((await provider.getNetwork()).chainId.toString(), provider);

  const chains: ChainFigures[] = [];
  for (const d of params.document.deployments) {
    const provider = providers.get(d.chainId);
    const figures: ChainFigures = { chainId: d.chainId, token: d.token };
    chains.push(figures);
    if (!provider) {
      figures.unreadable = missingChainMessage(d.chainId, params.unreachable);
      continue;
    }
    try {
      await readChain(provider, figures, params);
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      for (const key of Object.keys(figures) as (keyof ChainFigures)[]) if (key !== "chainId" && key !== "token") delete figures[key];
      figures.unreadable = `chain ${d.chainId} could not be read: ${message}`;
    }
  }

  return {
    generatedAt: toIsoSeconds(now),
    check,
    ...(params.maxAgeSeconds !== undefined ? { maxAgeSeconds: params.maxAgeSeconds } : {}),
    reserveLines: params.document.reserves.lines,
    chains,
    inCirculation: chains.reduce((a, c) => a + (c.inCirculation ?? 0n), 0n),
    complete: chains.every((c) => !c.unreadable),
    history: history(chains),
  };
}

async function readChain(provider: Provider, figures: ChainFigures, params: TransparencyParameters): Promise<void> {
  const head = await provider.getBlock("latest");
  if (!head) throw new Error("the latest block is not available");
  figures.head = { number: head.number, timestamp: toIsoSeconds(head.timestamp) };
  const token = NetDollarV2__factory.connect(figures.token, provider);
  figures.inCirculation = await token.totalSupply({ blockTag: head.number });

  // Flows: one scan from the start of the longest window (or the deployment), each event counted in every window
  // whose first block it is at or after.
  const deployedAt = await findDeploymentBlock(provider, figures.token, head.number);
  const windowStart = async (days: number): Promise<number> => {
    try {
      return (await findBlockAtOrBefore(provider, BigInt(head.timestamp) - BigInt(days) * 86_400n)).number + 1;
    } catch (error) {
      if (error instanceof InvalidInputError) return 0; // the chain is younger than the window
      throw error;
    }
  };
  const starts = await Promise.all(FLOW_WINDOWS.map((days) => windowStart(days)));
  const flows: Flow[] = FLOW_WINDOWS.map((days) => ({ days, issued: 0n, redeemed: 0n, seized: 0n, net: 0n }));
  const fromBlock = Math.max(deployedAt, Math.min(...starts));
  for await (const logs of scanLogs({
    provider,
    address: figures.token,
    topics: Object.values(FLOW_TOPICS),
    fromBlock,
    toBlock: head.number,
    chunkSize: params.chunkSize,
    onProgress: (scannedTo) => params.onProgress?.({ label: `flows on chain ${figures.chainId}`, fromBlock, toBlock: head.number, scannedTo }),
  })) {
    for (const log of logs) {
      const amount = BigInt(log.data.slice(0, 66));
      flows.forEach((flow, i) => {
        if (log.blockNumber < starts[i]) return;
        if (log.topics[0] === FLOW_TOPICS.Mint) flow.issued += amount;
        else if (log.topics[0] === FLOW_TOPICS.Seized) flow.seized += amount;
        else flow.redeemed += amount;
      });
    }
  }
  for (const flow of flows) flow.net = flow.issued - flow.redeemed - flow.seized;
  figures.flows = flows;

  // The oracle's rounds, and the supply at each round's time.
  let oracleAddress: string;
  try {
    [oracleAddress] = await token.reserveGuard();
  } catch {
    return; // version 1: no oracle
  }
  if (/^0x0{40}$/.test(oracleAddress)) return;
  figures.oracle = oracleAddress;
  const oracle = ReserveOracle__factory.connect(oracleAddress, provider);
  const [latest] = await oracle.latestRoundData();
  const rounds: OracleRound[] = [];
  const first = latest - BigInt(params.maxRounds ?? 365) + 1n;
  for (let round = first > 1n ? first : 1n; round <= latest; round++) {
    const [, answer, , updatedAt] = await oracle.getRoundData(round);
    const block = await findBlockAtOrBefore(provider, updatedAt);
    const supply = block.number >= deployedAt ? await token.totalSupply({ blockTag: block.number }) : 0n;
    rounds.push({ round, asOf: toIsoSeconds(updatedAt), reserves: BigInt(answer), supply });
  }
  figures.rounds = rounds;
  const shown = rounds.filter((r) => toUnixSeconds(r.asOf) === toUnixSeconds(params.document.asOf)).at(-1);
  if (shown) figures.attestationRound = shown.round;
}

/** One chart point per attestation round: the rounds of every chain grouped by their asOf. */
function history(chains: ChainFigures[]): HistoryPoint[] {
  const points = new Map<string, HistoryPoint>();
  for (const chain of chains) {
    for (const r of chain.rounds ?? []) {
      const point = points.get(r.asOf) ?? { asOf: r.asOf, reserves: 0n, supply: 0n, byChain: {} };
      point.reserves += r.reserves;
      point.supply += r.supply;
      point.byChain[chain.chainId] = r.supply;
      points.set(r.asOf, point);
    }
  }
  return [...points.values()].sort((a, b) => Date.parse(a.asOf) - Date.parse(b.asOf));
}
