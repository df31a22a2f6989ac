import type { Provider, Signer } from "ethers";
import { NetDollar__factory } from "../../typechain-types";
import { ChainUnreachableError, InvalidInputError } from "../errors";
import { findBlockAtOrBefore } from "./chain";
import { toAttestationData, toIsoSeconds, type AttestationDocument, type ReserveKind } from "./document";
import { recoverAttestor, signAttestationData } from "./typedData";

/** Parameters of {@link createAttestation}. */
export interface CreateAttestationParameters {
  issuer: string;
  accountant: string;
  reportSha256: string;
  reportFile?: string;
  lines: { kind: ReserveKind; custodian: string; amount: bigint }[];
  /** Unix seconds the attestation is as of. */
  asOf: bigint;
  /** The token deployments covered, each with an endpoint of its chain. */
  deployments: { provider: Provider; token: string }[];
}

/**
 * Builds an unsigned attestation: for each deployment, the last block at or before `asOf` and the tokens
 * outstanding (total supply) at that block, read with a historical call.
 *
 * @example
 * const doc = await createAttestation({ ...readReservesInput("reserves.json"), asOf, deployments: [{ provider, token }] });
 */
export async function createAttestation(params: CreateAttestationParameters): Promise<AttestationDocument> {
  const deployments: AttestationDocument["deployments"] = [];
  for (const { provider, token } of params.deployments) {
    const { chainId } = await provider.getNetwork();
    const head = await provider.getBlock("latest");
    if (head && BigInt(head.timestamp) < params.asOf) {
      throw new InvalidInputError(`asOf ${toIsoSeconds(params.asOf)} is after the latest block of chain ${chainId} (${toIsoSeconds(head.timestamp)})`, {
        details: "a later block could still be dated at or before asOf: wait until the chain has a block after asOf",
      });
    }
    const block = await findBlockAtOrBefore(provider, params.asOf);
    const supply = await NetDollar__factory.connect(token, provider)
      .totalSupply({ blockTag: block.number })
      .catch((cause: unknown) => {
        throw new ChainUnreachableError(`cannot read the supply of ${token} at block ${block.number} on chain ${chainId}`, { cause });
      });
    deployments.push({
      chainId: chainId.toString(),
      token,
      blockNumber: block.number.toString(),
      blockTimestamp: toIsoSeconds(block.timestamp),
      outstanding: supply.toString(),
    });
  }
  const total = params.lines.reduce((a, l) => a + l.amount, 0n);
  return {
    type: "netd/reserve-attestation",
    version: 1,
    issuer: params.issuer,
    asOf: toIsoSeconds(params.asOf),
    deployments,
    reserves: { total: total.toString(), lines: params.lines.map((l) => ({ ...l, amount: l.amount.toString() })) },
    accountant: params.accountant,
    report: { sha256: params.reportSha256.toLowerCase(), ...(params.reportFile ? { file: params.reportFile } : {}) },
  };
}

/** Signs a document with the attestor's key (EIP-712, as ReserveOracle verifies it). */
export async function signAttestation(doc: AttestationDocument, attestor: Signer): Promise<AttestationDocument> {
  const { attestor: _a, signature: _s, ...unsigned } = doc;
  void _a;
  void _s;
  const signature = await signAttestationData(attestor, toAttestationData(doc));
  return { ...unsigned, attestor: await attestor.getAddress(), signature };
}

/** Result of {@link verifyAttestationSignature}. */
export interface SignatureCheck {
  signed: boolean;
  attestor?: string;
  /** The signature is the named attestor's (ECDSA). */
  valid: boolean;
  /** The attestor is one of the trusted ones. */
  trusted: boolean;
  problem?: string;
}

/** Checks a document's signature off-chain (ECDSA) and whether its attestor is trusted. */
export function verifyAttestationSignature(doc: AttestationDocument, trustedAttestors: string[]): SignatureCheck {
  if (!doc.signature || !doc.attestor) return { signed: false, valid: false, trusted: false, problem: "the attestation is not signed" };
  let recovered: string;
  try {
    recovered = recoverAttestor(toAttestationData(doc), doc.signature);
  } catch {
    return { signed: true, attestor: doc.attestor, valid: false, trusted: false, problem: "the signature is malformed" };
  }
  const valid = recovered.toLowerCase() === doc.attestor.toLowerCase();
  const trusted = trustedAttestors.some((t) => t.toLowerCase() === doc.attestor!.toLowerCase());
  return {
    signed: true,
    attestor: doc.attestor,
    valid,
    trusted,
    problem: !valid
      ? `the signature is not ${doc.attestor}'s (a field was changed after signing, or another key signed)`
      : !trusted
        ? `the attestor ${doc.attestor} is not among the trusted attestors`
        : undefined,
  };
}
