import { getAddress, type Provider } from "ethers";
import type { NetDollar } from "../../typechain-types";
import { NetDollarV2__factory } from "../../typechain-types";
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
export async function getMembers(
  token: NetDollar,
  fromBlock: number,
): Promise<{ minters: MinterInfo[]; roles: Record<RoleName, string[]> }> {
  const provider = token.runner!.provider!;
  const address = await token.getAddress();
  const topics = ["MinterConfigured", "MinterRemoved", "RoleGranted", "RoleRevoked"].map((name) => token.getEvent(name as "MinterConfigured").fragment.topicHash);
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
  return { address, name, symbol, decimals: Number(decimals), version, totalSupply, paused, implementation, defaultAdmin, ...members, reserveGuard, contract: reserveGuard ? "NetDollarV2" : "NetDollar" };
}
