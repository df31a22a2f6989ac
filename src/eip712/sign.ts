import { randomBytes } from "node:crypto";
import { Signature, TypedDataEncoder, hexlify, verifyTypedData, type Signer, type TypedDataDomain } from "ethers";
import { InvalidInputError } from "../errors";
import {
  TYPES,
  authorizationTypes,
  type AuthorizationKind,
  type CancelAuthorization,
  type Permit,
  type SplitSignature,
  type TokenDomain,
  type TransferAuthorization,
} from "./types";

/** Anything with the token's ERC-5267 view: a typechain `NetDollar`, or any ERC-5267 token. */
export interface Eip712DomainReader {
  eip712Domain(): Promise<[string, string, string, bigint, string, ...unknown[]]>;
}

/**
 * Reads a token's EIP-712 domain from its `eip712Domain()` (ERC-5267), so signatures always match the deployed
 * name, version, chain and address.
 *
 * @example
 * const domain = await readTokenDomain(NetDollar__factory.connect(address, provider));
 */
export async function readTokenDomain(token: Eip712DomainReader): Promise<TokenDomain> {
  const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
  return { name, version, chainId, verifyingContract };
}

function toTypedDataDomain(domain: TokenDomain): TypedDataDomain {
  return { ...domain };
}

/** A random 32-byte nonce, as x402 clients and `netd authorize` use. */
export function randomNonce(): string {
  return hexlify(randomBytes(32));
}

/** Splits a 65-byte signature into the `(v, r, s)` the token's first overloads take. */
export function splitSignature(signature: string): SplitSignature {
  let parsed: Signature;
  try {
    parsed = Signature.from(signature);
  } catch (cause) {
    throw new InvalidInputError("signature is not a 65-byte ECDSA signature", { details: signature, cause });
  }
  return { signature: parsed.serialized, v: parsed.v, r: parsed.r, s: parsed.s };
}

/** Parameters of {@link buildAuthorization}. */
export interface BuildAuthorizationParameters {
  from: string;
  to: string;
  value: bigint;
  /** Seconds from `now` until the authorization expires. */
  validForSeconds: number | bigint;
  /** Unix seconds; defaults to the local clock. */
  now?: bigint;
  /** Unix seconds after which it is valid; defaults to 0 (valid at once). */
  validAfter?: bigint;
  nonce?: string;
}

/**
 * Builds an EIP-3009 authorization valid from `validAfter` (default 0) until `now + validForSeconds`, with a
 * random nonce unless one is given.
 */
export function buildAuthorization(params: BuildAuthorizationParameters): TransferAuthorization {
  const validFor = BigInt(params.validForSeconds);
  if (validFor <= 0n) throw new InvalidInputError(`validity of ${validFor} seconds is not positive`);
  const now = params.now ?? BigInt(Math.floor(Date.now() / 1000));
  return {
    from: params.from,
    to: params.to,
    value: params.value,
    validAfter: params.validAfter ?? 0n,
    validBefore: now + validFor,
    nonce: params.nonce ?? randomNonce(),
  };
}

/**
 * Signs an EIP-3009 `TransferWithAuthorization` (kind `transfer`, default) or `ReceiveWithAuthorization`
 * (kind `receive`) with any ethers signer.
 *
 * @example
 * const auth = buildAuthorization({ from: payer.address, to, value: 1_000n, validForSeconds: 60 });
 * const { v, r, s } = await signTransferAuthorization(payer, domain, auth);
 * await token.transferWithAuthorization(auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, v, r, s);
 */
export async function signTransferAuthorization(
  signer: Signer,
  domain: TokenDomain,
  authorization: TransferAuthorization,
  kind: AuthorizationKind = "transfer",
): Promise<SplitSignature> {
  const signature = await signer.signTypedData(toTypedDataDomain(domain), authorizationTypes(kind), authorization);
  return splitSignature(signature);
}

/** Signs an EIP-3009 `CancelAuthorization`. */
export async function signCancelAuthorization(signer: Signer, domain: TokenDomain, cancel: CancelAuthorization): Promise<SplitSignature> {
  const signature = await signer.signTypedData(toTypedDataDomain(domain), TYPES.CancelAuthorization, cancel);
  return splitSignature(signature);
}

/** Signs an EIP-2612 `Permit`; `nonce` must be the owner's current `nonces(owner)`. */
export async function signPermit(signer: Signer, domain: TokenDomain, permit: Permit): Promise<SplitSignature> {
  const signature = await signer.signTypedData(toTypedDataDomain(domain), TYPES.Permit, permit);
  return splitSignature(signature);
}

/** The EIP-712 digest of an authorization: what an ERC-1271 wallet is asked to accept. */
export function authorizationDigest(domain: TokenDomain, authorization: TransferAuthorization, kind: AuthorizationKind = "transfer"): string {
  return TypedDataEncoder.hash(toTypedDataDomain(domain), authorizationTypes(kind), authorization);
}

/** The address whose key produced `signature` over `authorization` (ECDSA only; contract wallets use ERC-1271). */
export function recoverAuthorizationSigner(
  domain: TokenDomain,
  authorization: TransferAuthorization,
  signature: string,
  kind: AuthorizationKind = "transfer",
): string {
  return verifyTypedData(toTypedDataDomain(domain), authorizationTypes(kind), authorization, signature);
}
