import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isHexString } from "ethers";
import { z } from "zod";
import { InvalidInputError, describeIssues } from "../errors";
import { parseAmount } from "../amounts";
import type { AttestationData, AttestationDataV2 } from "./typedData";

export const RESERVE_KINDS = ["cash", "treasury-bills", "reverse-repo", "money-market-fund"] as const;
export type ReserveKind = (typeof RESERVE_KINDS)[number];

const MAX_UINT64 = 2n ** 64n - 1n;
const uintString = z
  .string()
  .regex(/^\d+$/, "must be a whole number as a decimal string (base units; never a JSON number)")
  .refine((v) => BigInt(v) < 2n ** 256n, "above 2^256 - 1");
const uint64String = uintString.refine((v) => BigInt(v) <= MAX_UINT64, "above 2^64 - 1");
const address = z
  .string()
  .refine((v): boolean => isHexString(v, 20), "not an address")
  .transform((v) => getAddress(v.toLowerCase()));
const bytes32 = z.string().refine((v): boolean => isHexString(v, 32), "not 32 bytes of hex (0x + 64 digits)");
const utcTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "must be UTC time to the second, e.g. 2026-11-30T23:59:59Z")
  .refine((v) => !Number.isNaN(Date.parse(v)), "not a valid date");

/**
 * A reserve attestation: see docs/attestation.md for every field. Amounts are US dollars (reserves, allocations) or
 * tokens (outstanding) in base units with 6 decimals, as decimal strings. Version 2 gives every deployment an
 * `allocation` (its share of the reserves, summing to at most the total; review finding M-01); version 1 has none
 * and is still read and verified, but the oracle accepts it only for a single deployment.
 */
export const AttestationDocumentSchema = z
  .object({
    type: z.literal("netd/reserve-attestation"),
    version: z.union([z.literal(1), z.literal(2)]),
    issuer: z.string().min(1, "must not be empty"),
    asOf: utcTime,
    deployments: z
      .array(
        z.object({
          chainId: uintString,
          token: address,
          blockNumber: uint64String,
          blockTimestamp: utcTime,
          outstanding: uintString,
          allocation: uintString.optional(),
        }),
      )
      .min(1, "must list at least one deployment"),
    reserves: z.object({
      total: uintString,
      lines: z
        .array(z.object({ kind: z.enum(RESERVE_KINDS), custodian: z.string().min(1, "must not be empty"), amount: uintString }))
        .min(1, "must list at least one reserve line"),
    }),
    accountant: z.string().min(1, "must not be empty"),
    report: z.object({ sha256: bytes32, file: z.string().optional() }),
    attestor: address.optional(),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]+$/, "not hex")
      .optional(),
  })
  .superRefine((doc, ctx) => {
    const sum = doc.reserves.lines.reduce((a, l) => a + BigInt(l.amount), 0n);
    if (sum !== BigInt(doc.reserves.total)) {
      ctx.addIssue({ code: "custom", path: ["reserves", "total"], message: `is ${doc.reserves.total} but the lines add up to ${sum}` });
    }
    const seen = new Set<string>();
    let allocated = 0n;
    doc.deployments.forEach((d, i) => {
      if (doc.version === 2 && d.allocation === undefined)
        ctx.addIssue({ code: "custom", path: ["deployments", i, "allocation"], message: "is required in version 2" });
      if (doc.version === 1 && d.allocation !== undefined)
        ctx.addIssue({ code: "custom", path: ["deployments", i, "allocation"], message: "exists only in version 2" });
      allocated += BigInt(d.allocation ?? 0);
      const key = `${d.chainId}:${d.token.toLowerCase()}`;
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["deployments", i], message: "lists the same chain and token twice" });
      seen.add(key);
      if (Date.parse(d.blockTimestamp) > Date.parse(doc.asOf)) {
        ctx.addIssue({
          code: "custom",
          path: ["deployments", i, "blockTimestamp"],
          message: "is after asOf: the block must be the last one at or before asOf",
        });
      }
    });
    if (allocated > BigInt(doc.reserves.total)) {
      ctx.addIssue({ code: "custom", path: ["deployments"], message: `allocate ${allocated} in all, more than the reserves' total ${doc.reserves.total}` });
    }
    if ((doc.attestor === undefined) !== (doc.signature === undefined)) {
      ctx.addIssue({ code: "custom", path: ["signature"], message: "attestor and signature come together" });
    }
  });

export type AttestationDocument = z.infer<typeof AttestationDocumentSchema>;

/** Parses and validates a document, naming every field that is wrong. */
export function parseAttestationDocument(json: unknown, source = "attestation"): AttestationDocument {
  const parsed = AttestationDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, "(document)");
    throw new InvalidInputError(`${source} is not a valid reserve attestation`, { details: issues });
  }
  return parsed.data;
}

/** Reads a document from a file. */
export function readAttestationDocument(file: string): AttestationDocument {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new InvalidInputError(`cannot read ${file} as JSON`, { cause });
  }
  return parseAttestationDocument(json, file);
}

/**
 * The oracle call that publishes a signed document: `publishV2` for version 2, `publish` for version 1.
 *
 * @example
 * const { v2, data } = publishData(doc); await (v2 ? oracle.publishV2(data, attestor, sig) : oracle.publish(data, attestor, sig));
 */
export function publishData(doc: AttestationDocument): { v2: true; data: AttestationDataV2 } | { v2: false; data: AttestationData } {
  return doc.version === 2 ? { v2: true, data: toAttestationDataV2(doc) } : { v2: false, data: toAttestationData(doc) };
}

export const toUnixSeconds = (iso: string): bigint => BigInt(Date.parse(iso) / 1000);
export const toIsoSeconds = (seconds: bigint | number): string => new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The signed content of a version-2 document: the EIP-712 message ReserveOracle.publishV2 verifies. */
export function toAttestationDataV2(doc: AttestationDocument): AttestationDataV2 {
  if (doc.version !== 2) throw new InvalidInputError(`the attestation is version ${doc.version}, not 2`);
  const v1 = toAttestationData({ ...doc, version: 1, deployments: doc.deployments.map(({ allocation: _a, ...d }) => d) });
  return { ...v1, deployments: v1.deployments.map((d, i) => ({ ...d, allocation: BigInt(doc.deployments[i].allocation!) })) };
}

/** The signed content of a version-1 document: the EIP-712 message ReserveOracle.publish verifies. */
export function toAttestationData(doc: AttestationDocument): AttestationData {
  if (doc.version !== 1) throw new InvalidInputError(`the attestation is version ${doc.version}, not 1`);
  return {
    issuer: doc.issuer,
    asOf: toUnixSeconds(doc.asOf),
    deployments: doc.deployments.map((d) => ({
      chainId: BigInt(d.chainId),
      token: d.token,
      blockNumber: BigInt(d.blockNumber),
      outstanding: BigInt(d.outstanding),
    })),
    reserves: BigInt(doc.reserves.total),
    lines: doc.reserves.lines.map((l) => ({ kind: l.kind, custodian: l.custodian, amount: BigInt(l.amount) })),
    accountant: doc.accountant,
    reportSha256: doc.report.sha256.toLowerCase(),
  };
}

/** The SHA-256 of a file, as 0x-prefixed hex (the accountant's report). */
export function sha256File(file: string): string {
  try {
    return "0x" + createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch (cause) {
    throw new InvalidInputError(`cannot read the report file ${file}`, { cause });
  }
}

/**
 * The issuer's input to `netd attest create`: who, which accountant and report, and the reserve holdings, amounts
 * in dollars (decimal strings, at most 6 decimals).
 */
export const ReservesInputSchema = z
  .object({
    issuer: z.string().min(1),
    accountant: z.string().min(1),
    report: z.string().min(1).optional(),
    reportSha256: bytes32.optional(),
    lines: z.array(z.object({ kind: z.enum(RESERVE_KINDS), custodian: z.string().min(1), amount: z.string() })).min(1),
  })
  .refine((v) => (v.report === undefined) !== (v.reportSha256 === undefined), {
    message: "give either report (a file path) or reportSha256",
    path: ["report"],
  });
export type ReservesInput = z.infer<typeof ReservesInputSchema>;

/** Reads the reserves input file; amounts become base units, the report its SHA-256. */
export function readReservesInput(file: string): {
  issuer: string;
  accountant: string;
  reportSha256: string;
  reportFile?: string;
  lines: { kind: ReserveKind; custodian: string; amount: bigint }[];
} {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new InvalidInputError(`cannot read ${file} as JSON`, { cause });
  }
  const parsed = ReservesInputSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, "(file)");
    throw new InvalidInputError(`${file} is not a valid reserves input`, { details: issues });
  }
  const v = parsed.data;
  // A report path is relative to the input file.
  const reportPath = v.report === undefined ? undefined : path.resolve(path.dirname(file), v.report);
  return {
    issuer: v.issuer,
    accountant: v.accountant,
    reportSha256: v.reportSha256 ?? sha256File(reportPath!),
    reportFile: v.report,
    lines: v.lines.map((l, i) => ({ kind: l.kind, custodian: l.custodian, amount: parseAmount(l.amount, `lines[${i}].amount`) })),
  };
}
