import { getAddress, isHexString } from "ethers";
import { InvalidInputError } from "./errors";

/**
 * Validates an address: 0x and 40 hex digits, and, when it mixes upper and lower case, a correct EIP-55 checksum.
 * Returns it checksummed.
 *
 * @example
 * parseAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8") // "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
 */
export function parseAddress(input: string, what = "address"): string {
  const text = input.trim();
  if (!isHexString(text, 20)) {
    throw new InvalidInputError(`${what} "${input}" is not an address`, { details: "expected 0x followed by 40 hex digits" });
  }
  try {
    return getAddress(text);
  } catch (cause) {
    throw new InvalidInputError(`${what} "${input}" has a bad checksum`, {
      details: "check for a typo, or give it all in lower case to skip the checksum",
      cause,
    });
  }
}

/** "0xAbCd…1234": enough to recognise an address in a sentence. */
export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}
