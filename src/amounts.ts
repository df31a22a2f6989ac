import { InvalidInputError } from "./errors";

/** NET Dollar has 6 decimals: 1 dollar is 1,000,000 base units. */
export const DECIMALS = 6;
const MAX_UINT256 = (1n << 256n) - 1n;
const DECIMAL_AMOUNT = /^(\d+)(?:\.(\d*))?$/;

/**
 * Parses a decimal amount ("12.5", "0.000001", "1000000") into base units of a token with `decimals` decimals.
 *
 * Rejects, with a message naming the input: empty strings, signs, exponents, separators, more decimals than the
 * token has, and values above 2^256 - 1 base units.
 *
 * @example
 * parseUnitsStrict("12.5", 6) // 12_500_000n
 */
export function parseUnitsStrict(input: string, decimals: number, what = "amount", symbol = "the token"): bigint {
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
  if (fraction.length > decimals) {
    throw new InvalidInputError(`${what} "${input}" has ${fraction.length} decimals; ${symbol} has ${decimals}`);
  }
  const units = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (units > MAX_UINT256) throw new InvalidInputError(`${what} "${input}" is above the largest possible amount (2^256 - 1 base units)`);
  return units;
}

/**
 * Parses a decimal amount of NET Dollar into base units.
 *
 * @example
 * parseAmount("12.5") // 12_500_000n
 * parseAmount("0.0000001") // throws InvalidInputError: amount "0.0000001" has 7 decimals; NET Dollar has 6
 */
export function parseAmount(input: string, what = "amount"): bigint {
  return parseUnitsStrict(input, DECIMALS, what, "NET Dollar");
}

/**
 * Parses an amount given in base units (an integer string, as in JSON documents and x402 payloads).
 *
 * @example
 * parseBaseUnits("1000") // 1000n
 */
export function parseBaseUnits(input: string, what = "amount"): bigint {
  if (!/^\d+$/.test(input)) throw new InvalidInputError(`${what} "${input}" is not a whole number of base units`);
  const value = BigInt(input);
  if (value > MAX_UINT256) throw new InvalidInputError(`${what} "${input}" is above 2^256 - 1`);
  return value;
}

/**
 * Formats base units with at least two decimals and no trailing zeros beyond them.
 *
 * @example
 * formatAmount(12_500_000n) // "12.50"
 * formatAmount(1n) // "0.000001"
 */
export function formatAmount(units: bigint, decimals = DECIMALS): string {
  const unit = 10n ** BigInt(decimals);
  const negative = units < 0n;
  const abs = negative ? -units : units;
  let fraction = (abs % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  const whole = (abs / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** Formats base units as e.g. "12.50 NETD". */
export function formatDollars(units: bigint, symbol = "NETD"): string {
  return `${formatAmount(units)} ${symbol}`;
}
