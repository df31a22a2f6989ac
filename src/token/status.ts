import { getAddress, type Provider } from "ethers";
import type { NetDollar } from "../../typechain-types";
import { NetDollarV2__factory, ReserveOracle__factory } from "../../typechain-types";
import { scanLogs } from "../logs";
import { ROLES, ROLE_NAMES, type RoleName } from "../roles";

/** ERC-1967 implementation slot: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1). */
export const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

export interface MinterInfo {
  address: string;
  allowance: bigint;
}

export interface TokenStatus {
  address: string;
  name: string;
  symbol: string;
  decimals: number;
  version: string;
  totalSupply: bigint;
  paused: boolean;
  implementation: string;
  defaultAdmin: string;
  minters: MinterInfo[];
  roles: Record<RoleName, string[]>;
  /** NetDollarV2's reserve guard; null on a version-1 token. */
  reserveGuard: { oracle: string; maxAge: bigint; bufferBps: bigint } | null;
  /** Which contract the proxy runs, from what it answers: "NetDollarV2" (it has the reserve guard) or "NetDollar". */
  contract: "NetDollar" | "NetDollarV2";
}

/** The implementation address behind an ERC-1967 proxy. */
export async function getImplementation(provider: Provider, proxy: string): Promise<string> {
  const word = await provider.getStorage(proxy, IMPLEMENTATION_SLOT);
  return getAddress("0x" + word.slice(-40));
}

/**
 * Current minters and role holders. AccessControl does not enumerate members, so candidates come from the
 * token's events since `fromBlock` (its deployment block) and each is confirmed against the current state.
 */
export async function getMembers(token: NetDollar, fromBlock: number): Promise<{ minters: MinterInfo[]; roles: Record<RoleName, string[]> }> {
  const provider = token.runner!.provider!;
  const address = await token.getAddress();
  const topics = ["MinterConfigured", "MinterRemoved", "RoleGranted", "RoleRevoked"].map(
    (name) => token.getEvent(name as "MinterConfigured").fragment.topicHash,
  );
  const minterCandidates = new Set<string>();
  const roleCandidates = new Map<string, Set<string>>();
  const toBlock = await provider.getBlockNumber();
  for await (const logs of scanLogs({ provider, address, topics, fromBlock, toBlock })) {
    for (const log of logs) {
      const parsed = token.interface.parseLog(log);
      if (!parsed) continue;
      if (parsed.name === "MinterConfigured" || parsed.name === "MinterRemoved") {
        minterCandidates.add(parsed.args[0] as string);
      } else {
        const role = (parsed.args[0] as string).toLowerCase();
        if (!roleCandidates.has(role)) roleCandidates.set(role, new Set());
        roleCandidates.get(role)!.add(parsed.args[1] as string);
      }
    }
  }
  const minters: MinterInfo[] = [];
  for (const candidate of minterCandidates) {
    if (await token.isMinter(candidate)) minters.push({ address: candidate, allowance: await token.minterAllowance(candidate) });
  }
  const roles = {} as Record<RoleName, string[]>;
  for (const name of ROLE_NAMES) {
    const holders: string[] = [];
    for (const candidate of roleCandidates.get(ROLES[name].id.toLowerCase()) ?? []) {
      if (await token.hasRole(ROLES[name].id, candidate)) holders.push(candidate);
    }
    roles[name] = holders;
  }
  return { minters, roles };
}

/**
 * Everything an operator checks first: metadata, supply, pause, implementation, admin, minters and role holders.
 *
 * @example
 * const status = await getTokenStatus(token, deployment.contracts.NetDollar.blockNumber);
 */
export async function getTokenStatus(token: NetDollar, fromBlock: number): Promise<TokenStatus> {
  const provider = token.runner!.provider!;
  const address = await token.getAddress();
  const [name, symbol, decimals, version, totalSupply, paused, implementation, defaultAdmin, members] = await Promise.all([
    token.name(),
    token.symbol(),
    token.decimals(),
    token.version(),
    token.totalSupply(),
    token.paused(),
    getImplementation(provider, address),
    token.defaultAdmin(),
    getMembers(token, fromBlock),
  ]);
  const reserveGuard = await NetDollarV2__factory.connect(address, provider)
    .reserveGuard()
    .then(([oracle, maxAge, bufferBps]) => ({ oracle, maxAge, bufferBps }))
    .catch(() => null);
  return {
    address,
    name,
    symbol,
    decimals: Number(decimals),
    version,
    totalSupply,
    paused,
    implementation,
    defaultAdmin,
    ...members,
    reserveGuard,
    contract: reserveGuard ? "NetDollarV2" : "NetDollar",
  };
}

/** The default admin and its two-step transfer (OpenZeppelin's AccessControlDefaultAdminRules). */
export interface DefaultAdminState {
  admin: string;
  /** Seconds between `beginDefaultAdminTransfer` and the earliest `acceptDefaultAdminTransfer`. */
  delay: bigint;
  /** A transfer begun and not yet accepted or cancelled: accepted only strictly after `acceptableAfter`. */
  pending: { account: string; acceptableAfter: bigint } | null;
  /** A scheduled change of the delay itself. */
  pendingDelay: { delay: bigint; effectiveAt: bigint } | null;
  /** The latest block's timestamp. */
  now: bigint;
}

export async function getDefaultAdminState(token: NetDollar): Promise<DefaultAdminState> {
  const provider = token.runner!.provider!;
  const [admin, delay, [pendingAccount, schedule], [newDelay, delaySchedule], block] = await Promise.all([
    token.defaultAdmin(),
    token.defaultAdminDelay(),
    token.pendingDefaultAdmin(),
    token.pendingDefaultAdminDelay(),
    provider.getBlock("latest"),
  ]);
  return {
    admin,
    delay,
    pending: schedule === 0n ? null : { account: pendingAccount, acceptableAfter: schedule },
    pendingDelay: delaySchedule === 0n ? null : { delay: newDelay, effectiveAt: delaySchedule },
    now: BigInt(block!.timestamp),
  };
}

/** An account blocklisted now. */
export interface BlocklistedAccount {
  account: string;
  balance: bigint;
  /** The block of its latest Blocklisted event. */
  sinceBlock: number;
}

/**
 * Every account blocklisted now: candidates from Blocklisted/Unblocklisted events since `fromBlock` (the token's
 * deployment block), each confirmed against `isBlocklisted`.
 */
export async function getBlocklisted(token: NetDollar, fromBlock: number): Promise<BlocklistedAccount[]> {
  const provider = token.runner!.provider!;
  const address = await token.getAddress();
  const blocked = token.getEvent("Blocklisted").fragment.topicHash;
  const topics = [blocked, token.getEvent("Unblocklisted").fragment.topicHash];
  const latest = new Map<string, number>();
  for await (const logs of scanLogs({ provider, address, topics, fromBlock, toBlock: await provider.getBlockNumber() })) {
    for (const log of logs) {
      const account = getAddress("0x" + log.topics[1].slice(26));
      if (log.topics[0] === blocked) latest.set(account, log.blockNumber);
    }
  }
  const accounts: BlocklistedAccount[] = [];
  for (const [account, sinceBlock] of latest) {
    if (await token.isBlocklisted(account)) accounts.push({ account, balance: await token.balanceOf(account), sinceBlock });
  }
  return accounts;
}

/** NetDollarV2's reserve guard and what it allows now: the same rule as the contract's `_checkMint`. */
export interface ReserveGuardStatus {
  enabled: boolean;
  oracle: string;
  maxAge: bigint;
  bufferBps: bigint;
  totalSupply: bigint;
  /** The oracle's latest attested reserves and their as-of time (0 when none was published); absent when the guard is off. */
  reserves?: bigint;
  asOf?: bigint;
  /** reserves × (10,000 − buffer) / 10,000: the supply a mint may reach. */
  allowedSupply?: bigint;
  /** The latest attestation is young enough at the latest block (a mint in a later block sees a later time). */
  fresh?: boolean;
  /** What can still be minted now: allowedSupply − totalSupply when fresh, else 0. */
  mintable?: bigint;
}

/**
 * Reads the reserve guard of a NetDollarV2 token; null for a version-1 token (no `reserveGuard()`).
 * The headroom follows `NetDollarV2._checkMint`: stale when `asOf == 0 || now > asOf + maxAge`, and a mint may bring
 * the supply up to `reserves * (10_000 - bufferBps) / 10_000`.
 */
export async function getReserveGuardStatus(token: NetDollar): Promise<ReserveGuardStatus | null> {
  const provider = token.runner!.provider!;
  const address = await token.getAddress();
  const guard = await NetDollarV2__factory.connect(address, provider)
    .reserveGuard()
    .catch(() => null);
  if (guard === null) return null;
  const [oracle, maxAge, bufferBps] = guard;
  const totalSupply = await token.totalSupply();
  const enabled = !/^0x0{40}$/.test(oracle);
  if (!enabled) return { enabled, oracle, maxAge, bufferBps, totalSupply };
  const [[reserves, asOf], block] = await Promise.all([ReserveOracle__factory.connect(oracle, provider).latestReserves(), provider.getBlock("latest")]);
  const now = BigInt(block!.timestamp);
  const allowedSupply = (reserves * (10_000n - bufferBps)) / 10_000n;
  const fresh = asOf !== 0n && now <= asOf + maxAge;
  const mintable = fresh && allowedSupply > totalSupply ? allowedSupply - totalSupply : 0n;
  return { enabled, oracle, maxAge, bufferBps, totalSupply, reserves, asOf, allowedSupply, fresh, mintable };
}

/**
 * The accounts holding `role` on an AccessControl contract now: candidates from its RoleGranted events since
 * `fromBlock`, each confirmed with `hasRole` (AccessControl does not enumerate members).
 */
export async function getRoleHolders(
  contract: { getAddress(): Promise<string>; hasRole(role: string, account: string): Promise<boolean>; runner: NetDollar["runner"] },
  role: string,
  fromBlock: number,
): Promise<string[]> {
  const provider = contract.runner!.provider!;
  const address = await contract.getAddress();
  const granted = NetDollarV2__factory.createInterface().getEvent("RoleGranted").topicHash;
  const candidates = new Set<string>();
  const roleTopic = role.toLowerCase();
  for await (const logs of scanLogs({ provider, address, topics: [granted], indexed: [roleTopic], fromBlock, toBlock: await provider.getBlockNumber() })) {
    for (const log of logs) candidates.add(getAddress("0x" + log.topics[2].slice(26)));
  }
  const holders: string[] = [];
  for (const candidate of candidates) if (await contract.hasRole(role, candidate)) holders.push(candidate);
  return holders;
}
