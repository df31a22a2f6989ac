import { InvalidInputError } from "./errors";

/** NET Dollar has 6 decimals: 1 dollar is 1,000,000 base units. */
export const DECIMALS = 6;
const UNIT = 10n ** BigInt(DECIMALS);
const MAX_UINT256 = (1n << 256n) - 1n;
const DECIMAL_AMOUNT = /^(\d+)(?:\.(\d*))?$/;

/**
 * Parses a decimal amount of dollars ("12.5", "0.000001", "1000000") into base units.
 *
 * Rejects, with a message naming the input: empty strings, signs, exponents, separators, more than 6 decimals and
 * values above 2^256 - 1 base units.
 *
 * @example
 * parseAmount("12.5") // 12_500_000n
 * parseAmount("0.0000001") // throws InvalidInputError: amount "0.0000001" has 7 decimals; NET Dollar has 6
 */
export function parseAmount(input: string, what = "amount"): bigint {
  const text = input.trim();
  if (text === "") throw new InvalidInputError(`${what} is empty`, { details: "give a decimal number such as 12.5" });
  if (text.startsWith("-")) throw new InvalidInputError(`${what} "${input}" is negative`);
  const match = DECIMAL_AMOUNT.exec(text);
  if (!match) {
    throw new InvalidInputError(`${what} "${input}" is not a decimal number`, {
      details: "use digits with an optional decimal point, e.g. 12.5 (no signs, exponents or separators)",
    });
  }
  const [, whole, fraction = ""] = match;
  if (fraction.length > DECIMALS) {
    throw new InvalidInputError(`${what} "${input}" has ${fraction.length} decimals; NET Dollar has ${DECIMALS}`);
  }
  const units = BigInt(whole) * UNIT + BigInt(fraction.padEnd(DECIMALS, "0") || "0");
  if (units > MAX_UINT256) throw new InvalidInputError(`${what} "${input}" is above the largest possible amount`);
  return units;
}

/**
 * Parses an amount given in base units (an integer string, as in JSON documents and x402 payloads).
 *
 * @example
 * parseBaseUnits("1000") // 1000n
 */
export function parseBaseUnits(input: string, what = "amount"): bigint {
  if (!/^\d+$/.test(input)) {
    throw new InvalidInputError(`${what} "${input}" is not a whole number of base units`);
  }
  const value = BigInt(input);
  if (value > MAX_UINT256) throw new InvalidInputError(`${what} "${input}" is above 2^256 - 1`);
  return value;
}

/**
 * Formats base units as dollars with at least two decimals and no trailing zeros beyond them.
 *
 * @example
 * formatAmount(12_500_000n) // "12.50"
 * formatAmount(1n) // "0.000001"
 */
export function formatAmount(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / UNIT;
  let fraction = (abs % UNIT).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole.toString()}.${fraction}`;
}

/** Formats base units as e.g. "12.50 NETD". */
export function formatDollars(units: bigint, symbol = "NETD"): string {
  return `${formatAmount(units)} ${symbol}`;
}
