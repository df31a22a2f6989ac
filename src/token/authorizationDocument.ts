import { readFileSync } from "node:fs";
import { getAddress, isHexString } from "ethers";
import { z } from "zod";
import { InvalidInputError, describeIssues } from "../errors";
import type { AuthorizationKind, TransferAuthorization } from "../eip712";

const uint = z
  .string()
  .regex(/^\d+$/, "must be a whole number in a decimal string")
  .refine((v) => BigInt(v) < 2n ** 256n, "above 2^256 - 1");
const address = z.string().refine((v): boolean => isHexString(v, 20), "not an address");
const bytes32 = z.string().refine((v): boolean => isHexString(v, 32), "not 32 bytes of hex");

/**
 * A signed EIP-3009 authorization as a file: what `netd authorize` prints and `netd submit-authorization` relays.
 * Amounts and times are decimal strings (JSON numbers lose precision above 2^53).
 */
export const AuthorizationDocumentSchema = z.object({
  type: z.literal("netd/eip3009-authorization"),
  version: z.literal(1),
  chainId: uint,
  token: address,
  kind: z.enum(["transfer", "receive"]),
  authorization: z.object({
    from: address,
    to: address,
    value: uint,
    validAfter: uint,
    validBefore: uint,
    nonce: bytes32,
  }),
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]*$/, "not hex")
    .refine((v) => v.length > 2, "empty"),
});

export type AuthorizationDocument = z.infer<typeof AuthorizationDocumentSchema>;

/** Builds the document for a signed authorization. */
export function toAuthorizationDocument(
  chainId: bigint,
  token: string,
  kind: AuthorizationKind,
  auth: TransferAuthorization,
  signature: string,
): AuthorizationDocument {
  return {
    type: "netd/eip3009-authorization",
    version: 1,
    chainId: chainId.toString(),
    token: getAddress(token),
    kind,
    authorization: {
      from: getAddress(auth.from),
      to: getAddress(auth.to),
      value: auth.value.toString(),
      validAfter: auth.validAfter.toString(),
      validBefore: auth.validBefore.toString(),
      nonce: auth.nonce,
    },
    signature,
  };
}

/** Parses and validates a document (from a file's text), naming every field that is wrong. */
export function parseAuthorizationDocument(
  text: string,
  source = "authorization",
): {
  doc: AuthorizationDocument;
  auth: TransferAuthorization;
} {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${source} is not valid JSON`, { cause });
  }
  const parsed = AuthorizationDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, "(document)");
    throw new InvalidInputError(`${source} is not a valid authorization document`, { details: issues });
  }
  const doc = parsed.data;
  const a = doc.authorization;
  return {
    doc,
    auth: {
      from: getAddress(a.from.toLowerCase()),
      to: getAddress(a.to.toLowerCase()),
      value: BigInt(a.value),
      validAfter: BigInt(a.validAfter),
      validBefore: BigInt(a.validBefore),
      nonce: a.nonce.toLowerCase(),
    },
  };
}

/** Reads a document from a file. */
export function readAuthorizationDocument(file: string): ReturnType<typeof parseAuthorizationDocument> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new InvalidInputError(`cannot read ${file}`, { cause });
  }
  return parseAuthorizationDocument(text, file);
}
