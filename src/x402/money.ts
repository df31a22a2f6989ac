import { InvalidInputError } from "../errors";
import { parseAmount } from "../amounts";

/**
 * A price in dollars, as routes declare it: "$0.001", "0.25", ".5" or "$1". NET Dollar has 6 decimals, so "$0.001" is
 * 1,000 base units; a price finer than a millionth of a dollar is refused rather than rounded.
 *
 * @example
 * parsePrice("$0.001") // 1000n
 */
export function parsePrice(price: string): bigint {
  // "$5", "5", "$.5" and ".5" are all prices as people write them.
  const bare = price.trim().replace(/^\$/, "");
  const text = bare.startsWith(".") ? `0${bare}` : bare;
  const units = parseAmount(text, `price "${price}"`);
  if (units === 0n) throw new InvalidInputError(`price "${price}" is zero`);
  return units;
}

/** The CAIP-2 network id of an EVM chain, e.g. "eip155:31337". */
export function caip2(chainId: bigint | number): `eip155:${string}` {
  return `eip155:${chainId}`;
}

/** The chain id of a CAIP-2 "eip155:<id>" network, or undefined for anything else. */
export function chainIdOf(network: string): bigint | undefined {
  const match = /^eip155:(\d+)$/.exec(network);
  return match ? BigInt(match[1]) : undefined;
}
