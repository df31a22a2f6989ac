import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { SDJwtInstance } from "@sd-jwt/core";
import { InvalidInputError } from "../errors";

/**
 * The SD-JWT layer of AP2 v0.2 mandates (draft-gco-oauth-delegate-sd-jwt): every hop is an SD-JWT signed with ES256
 * whose payload carries the mandate as the one element of `delegate_payload`, selectively disclosed. The first hop
 * (the user's open mandate) names the agent's key in `cnf.jwk`; the next hop, a `kb+sd-jwt` signed by that key,
 * binds itself to the first with `sd_hash` and carries `aud`, `nonce` and `iat`. A chain is the hops joined by "~"
 * (each ends with "~", so hops are separated by "~~"). @sd-jwt/core issues and checks each hop; node:crypto signs.
 */

export type PublicJwk = { kty: "EC"; crv: "P-256"; x: string; y: string };
export type PrivateJwk = PublicJwk & { d: string };

export const TYP_ROOT = "dc+sd-jwt";
export const TYP_TERMINAL = "kb+sd-jwt";
export const TYP_INTERMEDIATE = "kb+sd-jwt+kb";

/** A new ES256 key pair (P-256), as JWKs. */
export function generateMandateKey(): { privateJwk: PrivateJwk; publicJwk: PublicJwk } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const privateJwk = privateKey.export({ format: "jwk" }) as PrivateJwk;
  return { privateJwk, publicJwk: publicJwkOf(privateJwk) };
}

/** The public half of a P-256 JWK (private or public), checked. */
export function publicJwkOf(jwk: unknown): PublicJwk {
  const k = jwk as Partial<PrivateJwk> | null;
  if (!k || k.kty !== "EC" || k.crv !== "P-256" || typeof k.x !== "string" || typeof k.y !== "string")
    throw new InvalidInputError("not an ES256 key: expected a JWK with kty EC, crv P-256, x and y");
  try {
    createPublicKey({ key: { kty: "EC", crv: "P-256", x: k.x, y: k.y }, format: "jwk" });
  } catch {
    throw new InvalidInputError("not an ES256 key: x and y are not a point on P-256");
  }
  return { kty: "EC", crv: "P-256", x: k.x, y: k.y };
}

function privateKeyOf(jwk: PrivateJwk): KeyObject {
  if (typeof jwk?.d !== "string") throw new InvalidInputError("not an ES256 private key: the JWK has no d");
  try {
    return createPrivateKey({ key: jwk, format: "jwk" });
  } catch {
    throw new InvalidInputError("not an ES256 private key: the JWK does not load as a P-256 key");
  }
}

/** The RFC 7638 thumbprint of a key (base64url SHA-256 of its required members in lexicographic order), used as `kid`. */
export async function keyThumbprint(jwk: PublicJwk): Promise<string> {
  const k = publicJwkOf(jwk);
  return b64url(
    createHash("sha256")
      .update(JSON.stringify({ crv: k.crv, kty: k.kty, x: k.x, y: k.y }))
      .digest(),
  );
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString("base64url");

/** base64url(SHA-256(ascii)), the SD-JWT hash (`_sd_alg` sha-256) of a string. */
export function sdHash(value: string): string {
  return b64url(createHash("sha256").update(value, "ascii").digest());
}

function instance(options: { privateJwk?: PrivateJwk; publicJwk?: PublicJwk }): SDJwtInstance<Record<string, unknown>> {
  const priv = options.privateJwk ? privateKeyOf(options.privateJwk) : undefined;
  const pub = options.publicJwk ? createPublicKey({ key: options.publicJwk, format: "jwk" }) : undefined;
  return new SDJwtInstance<Record<string, unknown>>({
    signAlg: "ES256",
    hashAlg: "sha-256",
    hasher: (data: string | ArrayBuffer) =>
      new Uint8Array(
        createHash("sha256")
          .update(typeof data === "string" ? data : Buffer.from(data))
          .digest(),
      ),
    saltGenerator: (length: number) => b64url(randomBytes(length)),
    signer: priv ? async (data: string) => b64url(sign("sha256", Buffer.from(data), { key: priv, dsaEncoding: "ieee-p1363" })) : undefined,
    verifier: pub
      ? async (data: string, signature: string) =>
          verify("sha256", Buffer.from(data), { key: pub, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"))
      : undefined,
  } as never);
}

/** Issues one hop: `mandate` as the selectively disclosed element of `delegate_payload`, beside `claims`. */
export async function issueHop(
  mandate: Record<string, unknown>,
  signer: PrivateJwk,
  header: { typ: string; kid?: string; jwk?: PublicJwk },
  claims: Record<string, unknown> = {},
): Promise<string> {
  return instance({ privateJwk: signer }).issue({ ...claims, delegate_payload: [mandate] }, { delegate_payload: { _sd: [0] } } as never, { header });
}

export interface Hop {
  /** The hop as serialized, ending with "~". */
  token: string;
  header: Record<string, unknown>;
  /** The payload, with `delegate_payload[0]` replaced by the disclosed mandate. */
  payload: Record<string, unknown>;
  mandate: Record<string, unknown>;
}

/** Splits a chain into its hops (each an issuer JWT followed by its disclosures), without checking anything. */
export function splitChain(chain: string): string[] {
  if (typeof chain !== "string" || !chain.trim()) throw new InvalidInputError("the mandate is empty");
  const text = chain.trim();
  if (!text.endsWith("~")) throw new InvalidInputError("not an AP2 mandate: an SD-JWT ends with '~'");
  const hops: string[] = [];
  let current: string[] = [];
  for (const part of text.slice(0, -1).split("~")) {
    if (part === "") {
      // "~~" separates hops.
      if (!current.length) throw new InvalidInputError("not an AP2 mandate: an empty SD-JWT in the chain");
      hops.push(`${current.join("~")}~`);
      current = [];
      continue;
    }
    const isJwt = part.split(".").length === 3;
    if (isJwt && current.length) throw new InvalidInputError("not an AP2 mandate: two JWTs in one hop (hops are separated by '~~')");
    if (!isJwt && !current.length) throw new InvalidInputError("not an AP2 mandate: a hop must start with a JWT (header.payload.signature)");
    current.push(part);
  }
  if (!current.length) throw new InvalidInputError("not an AP2 mandate: the chain ends with an empty SD-JWT");
  hops.push(`${current.join("~")}~`);
  return hops;
}

/** Joins hops into a chain. */
export function joinChain(hops: string[]): string {
  return hops.join("~");
}

/** Checks a hop's signature with `key` and discloses its mandate; an InvalidInputError says what was wrong. */
export async function verifyHop(token: string, key: PublicJwk, label: string, now: number): Promise<Hop> {
  let result: { payload: unknown; header?: Record<string, unknown> };
  try {
    // A hop's own iat (a kb+sd-jwt's) may not be in the future, a minute's skew allowed; the mandate's iat and exp
    // (inside delegate_payload) are checked by the caller.
    result = await instance({ publicJwk: key }).validate(token, { currentDate: now, skewSeconds: 60 } as never);
  } catch (error) {
    const message = (error as Error).message;
    throw new InvalidInputError(`${label}: ${/signature/i.test(message) ? "the signature does not verify with the expected key" : message}`);
  }
  const payload = result.payload as Record<string, unknown>;
  const items = payload.delegate_payload;
  if (!Array.isArray(items) || items.length !== 1 || typeof items[0] !== "object" || items[0] === null || "..." in items[0])
    throw new InvalidInputError(`${label}: delegate_payload must disclose exactly one mandate`);
  return { token, header: result.header ?? {}, payload, mandate: items[0] as Record<string, unknown> };
}

/** Decodes a hop without checking its signature (to find which key should have signed it). */
export function peekHeader(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new InvalidInputError("not an AP2 mandate: the JWT header is not base64url JSON");
  }
}
