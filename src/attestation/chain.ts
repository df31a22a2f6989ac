import type { Provider } from "ethers";
import { ChainUnreachableError, InvalidInputError } from "../errors";
import { toIsoSeconds } from "./document";

export interface BlockRef {
  number: number;
  timestamp: bigint;
}

async function block(provider: Provider, n: number | "latest"): Promise<BlockRef> {
  const b = await provider.getBlock(n).catch((cause: unknown) => {
    throw new ChainUnreachableError(`cannot read block ${n}`, { cause });
  });
  if (!b) throw new ChainUnreachableError(`block ${n} is not available from the endpoint`);
  return { number: b.number, timestamp: BigInt(b.timestamp) };
}

/**
 * The last block with a timestamp at or before `timestamp` (binary search on block timestamps, which never
 * decrease). A block exactly at `timestamp` is included; one a second later is not.
 */
export async function findBlockAtOrBefore(provider: Provider, timestamp: bigint): Promise<BlockRef> {
  const head = await block(provider, "latest");
  if (head.timestamp <= timestamp) return head;
  const genesis = await block(provider, 0);
  if (genesis.timestamp > timestamp) {
    throw new InvalidInputError(`${toIsoSeconds(timestamp)} is before the chain's first block (${toIsoSeconds(genesis.timestamp)})`);
  }
  let low = genesis; // timestamp <= target
  let high = head.number; // timestamp > target
  while (high - low.number > 1) {
    const mid = Math.floor((low.number + high) / 2);
    const b = await block(provider, mid);
    if (b.timestamp <= timestamp) low = b;
    else high = mid;
  }
  return low;
}

/** The block in which a contract was created: the first block at which it has code (binary search, archive node). */
export async function findDeploymentBlock(provider: Provider, address: string, atOrBefore: number): Promise<number> {
  const code = (n: number) =>
    provider.getCode(address, n).catch((cause: unknown) => {
      throw new ChainUnreachableError(`cannot read the code of ${address} at block ${n} (is the endpoint an archive node?)`, { cause });
    });
  if ((await code(atOrBefore)) === "0x") {
    throw new InvalidInputError(`there is no contract at ${address} at block ${atOrBefore}`);
  }
  let low = -1; // no code (or before genesis)
  let high = atOrBefore; // code
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((await code(mid)) === "0x") low = mid;
    else high = mid;
  }
  return high;
}
