import { readFileSync } from "node:fs";
import { encodeBytes32String, isHexString, toUtf8Bytes } from "ethers";
import { parseAddress } from "../addresses";
import { InvalidInputError } from "../errors";

/**
 * Every flag and argument the CLI reads is parsed here, one helper per kind of value. Amounts and addresses are the
 * library's rules (src/amounts.ts, src/addresses.ts) and are re-exported so commands import from one place.
 */
export { parseAmount, parseUnitsStrict } from "../amounts";
export { parseAddress };

/** commander's accumulator for a repeatable flag: `.option("--x <v>", "…", collect, [])`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const UNITS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n };

/** Options of {@link parseDuration}. */
export interface DurationOptions {
  /** Refuse a bare number: where days are meant ("--max-age 35"), 35 seconds would be a silent mistake. */
  requireUnit?: boolean;
  /** Refuse 0. */
  positive?: boolean;
}

/** "90", "90s", "15m", "2h", "30d" → seconds. */
export function parseDuration(input: string, what: string, options: DurationOptions = {}): bigint {
  const match = /^(\d+)([smhd]?)$/.exec(input.trim());
  if (!match) throw new InvalidInputError(`${what} "${input}" is not a duration`, { details: "e.g. 3600, 90s, 15m, 2h or 30d" });
  if (options.requireUnit && !match[2] && BigInt(match[1]) !== 0n) {
    throw new InvalidInputError(`${what} "${input}" needs a unit`, { details: `e.g. ${input}d for days, ${input}h for hours, ${input}s for seconds` });
  }
  const seconds = BigInt(match[1]) * UNITS[match[2] || "s"];
  if (options.positive && seconds === 0n) throw new InvalidInputError(`${what} "${input}" is zero: give a duration above zero`);
  return seconds;
}

/** "2026-11-30T23:59:59Z" or Unix seconds. */
export function parseTime(input: string, what: string): bigint {
  if (/^\d+$/.test(input)) return BigInt(input);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(input) && !Number.isNaN(Date.parse(input))) return BigInt(Date.parse(input) / 1000);
  throw new InvalidInputError(`${what} "${input}" is not a UTC time such as 2026-11-30T23:59:59Z, or Unix seconds`);
}

/** A whole number from `min` to `max`. */
export function parseCount(input: string, what: string, max: number, min = 1): number {
  const n = Number(input);
  if (!/^\d+$/.test(input) || n < min || n > max) {
    throw new InvalidInputError(`${what} "${input}" is not a whole number from ${min} to ${max.toLocaleString("en-US")}`);
  }
  return n;
}

/** A block number (decimal). */
export function parseBlock(input: string, what: string): number {
  return parseCount(input, what, Number.MAX_SAFE_INTEGER, 0);
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(input: string): number {
  if (!/^\d+$/.test(input) || Number(input) > 65535) throw new InvalidInputError(`--port "${input}" is not a TCP port`);
  return Number(input);
}

/** An http(s) URL. */
export function parseUrl(input: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidInputError(`${what} "${input}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidInputError(`${what} "${input}" is not an http(s) URL`);
  return url;
}

/** A 32-byte hex value (nonces, ids, hashes). */
export function parseBytes32(input: string, what: string): string {
  if (!isHexString(input, 32)) throw new InvalidInputError(`${what} "${input}" is not 32 bytes of hex (0x and 64 hex digits)`);
  return input.toLowerCase();
}

/** "0xabc…" (equal shares) or "0xabc…:2500" (basis points). */
export function parsePayee(input: string): { account: string; shareBps?: number } {
  const [address, share, extra] = input.split(":");
  if (extra !== undefined) throw new InvalidInputError(`payee "${input}" is not ADDRESS or ADDRESS:BPS`);
  const account = parseAddress(address, "payee");
  if (share === undefined) return { account };
  if (!/^\d+$/.test(share) || Number(share) <= 0 || Number(share) > 10_000) {
    throw new InvalidInputError(`payee share "${share}" is not a number of basis points between 1 and 10000`);
  }
  return { account, shareBps: Number(share) };
}

/** A split's recipients as `ADDRESS:BPS` entries → `{ address: bps }`; an entry without a share or listed twice is refused. */
export function parseSplitShares(entries: string[], what: string): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const entry of entries) {
    const { account, shareBps } = parsePayee(entry);
    if (shareBps === undefined) throw new InvalidInputError(`${what} "${entry}" has no share: write ADDRESS:BPS`);
    if (shares[account] !== undefined) throw new InvalidInputError(`${account} is listed twice in the split`);
    shares[account] = shareBps;
  }
  return shares;
}

/** "40", "40%" or "12.5%" → basis points. */
export function parsePercent(input: string, what: string): number {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?%?$/.exec(input.trim());
  const bps = match ? Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0")) : NaN;
  if (!match || bps > 10_000) throw new InvalidInputError(`${what} "${input}" is not a percentage between 0 and 100`);
  return bps;
}

/** `--reference` text → the bytes32 recorded on-chain: readable text up to 31 bytes, or a 0x hash. */
export function parseReference(input: string): string {
  if (isHexString(input, 32)) return input.toLowerCase();
  if (input.length === 0) throw new InvalidInputError("reference is empty");
  if (toUtf8Bytes(input).length > 31) {
    throw new InvalidInputError(`reference "${input}" is longer than 31 bytes`, {
      details: "use up to 31 characters (stored readably on-chain), or a 0x-prefixed 32-byte hash of a longer reference",
    });
  }
  return encodeBytes32String(input);
}

/** A document file's text; a missing or unreadable file is bad input that says which. */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory, not a file" : (cause as Error).message;
    throw new InvalidInputError(`${what} ${file}: ${why}`, { cause });
  }
}

/** What an MCP tool says it takes (its `inputSchema`, a JSON Schema object). */
export interface ToolInputSchema {
  properties?: Record<string, { type?: string | string[] }>;
  required?: string[];
}

/**
 * A tool's arguments: `--args '{"city":"Lisbon"}'` (a JSON object), then each `--arg name=value`, converted to the
 * type the tool's schema gives that argument (number, integer, boolean, or JSON for objects and arrays; text
 * otherwise). An argument the tool does not take, or one it needs and is not given, is refused before anything is sent.
 */
export function parseToolArguments(tool: string, schema: ToolInputSchema, json: string | undefined, pairs: string[]): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const takes = Object.keys(properties);
  const takesList = takes.length ? `it takes ${takes.join(", ")}` : "it takes none";
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new InvalidInputError(`--args is not JSON: ${(error as Error).message}`, { details: `e.g. --args '{"city":"Lisbon"}'` });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new InvalidInputError("--args must be a JSON object of the tool's arguments");
    args = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InvalidInputError(`--arg "${pair}" is not name=value`, { details: "e.g. --arg city=Lisbon" });
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    const types = ([] as (string | undefined)[]).concat(properties[name]?.type);
    if ((types.includes("integer") && !/^-?\d+$/.test(value)) || (types.includes("number") && !Number.isFinite(Number(value)))) {
      throw new InvalidInputError(`--arg ${name}="${value}" is not a ${types.includes("integer") ? "whole number" : "number"}, which ${tool} takes`);
    }
    if (types.includes("integer") || types.includes("number")) args[name] = Number(value);
    else if (types.includes("boolean")) {
      if (value !== "true" && value !== "false") throw new InvalidInputError(`--arg ${name}="${value}" is not true or false, which ${tool} takes`);
      args[name] = value === "true";
    } else if (types.includes("object") || types.includes("array")) {
      try {
        args[name] = JSON.parse(value);
      } catch {
        throw new InvalidInputError(`--arg ${name}=… is not JSON, and ${tool} takes an ${types.includes("array") ? "array" : "object"} there`);
      }
    } else args[name] = value;
  }
  const unknown = Object.keys(args).filter((name) => !(name in properties));
  if (unknown.length) throw new InvalidInputError(`${tool} takes no argument ${unknown.map((n) => `"${n}"`).join(", ")}; ${takesList}`);
  const missing = (schema.required ?? []).filter((name) => !(name in args));
  if (missing.length) throw new InvalidInputError(`${tool} needs ${missing.map((n) => `--arg ${n}=…`).join(" and ")}; ${takesList}`);
  return args;
}
