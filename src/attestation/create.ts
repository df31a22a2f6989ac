import type { Provider, Signer } from "ethers";
import { NetDollar__factory } from "../../typechain-types";
import { ChainUnreachableError, InvalidInputError } from "../errors";
import { findBlockAtOrBefore } from "./chain";
import { toAttestationData, toAttestationDataV2, toIsoSeconds, type AttestationDocument, type ReserveKind } from "./document";
import { recoverAttestor, recoverAttestorV2, signAttestationData, signAttestationDataV2 } from "./typedData";

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
  /**
   * Each deployment's allocation of the reserves, by chain id (base units), e.g. `{ "1": 600n, "8453": 400n }`;
   * default: proportional to its supply at asOf, the headroom shared the same way (all of it to a single deployment).
   */
  allocations?: Record<string, bigint>;
}

/**
 * Allocations of `total` to deployments: the given ones (every deployment must have one, summing to at most `total`),
 * or proportional to `outstanding` (equal shares when nothing is outstanding), rounded down, the remainder to the
 * first deployment, so they sum to exactly `total`.
 */
export function allocate(total: bigint, deployments: { chainId: string; outstanding: bigint }[], given?: Record<string, bigint>): bigint[] {
  if (given) {
    const out = deployments.map((d) => {
      const a = given[d.chainId];
      if (a === undefined)
        throw new InvalidInputError(`no allocation given for chain ${d.chainId}`, {
          details: "give one --allocate CHAINID=DOLLARS per chain covered, or none for a proportional split",
        });
      return a;
    });
    const unknown = Object.keys(given).filter((c) => !deployments.some((d) => d.chainId === c));
    if (unknown.length) throw new InvalidInputError(`an allocation is given for chain ${unknown[0]}, which the attestation does not cover`);
    const sum = out.reduce((a, b) => a + b, 0n);
    if (sum > total) throw new InvalidInputError(`the allocations add up to ${sum} base units, more than the reserves' ${total}`);
    return out;
  }
  const supply = deployments.reduce((a, d) => a + d.outstanding, 0n);
  const out = deployments.map((d) => (supply === 0n ? total / BigInt(deployments.length) : (total * d.outstanding) / supply));
  out[0] += total - out.reduce((a, b) => a + b, 0n);
  return out;
}

/**
 * Builds an unsigned attestation (version 2): for each deployment, the last block at or before `asOf`, the tokens
 * outstanding (total supply) at that block, read with a historical call, and its allocation of the reserves.
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
  const allocations = allocate(
    total,
    deployments.map((d) => ({ chainId: d.chainId, outstanding: BigInt(d.outstanding) })),
    params.allocations,
  );
  deployments.forEach((d, i) => (d.allocation = allocations[i].toString()));
  return {
    type: "netd/reserve-attestation",
    version: 2,
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
  const signature =
    doc.version === 2 ? await signAttestationDataV2(attestor, toAttestationDataV2(doc)) : await signAttestationData(attestor, toAttestationData(doc));
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
    recovered = doc.version === 2 ? recoverAttestorV2(toAttestationDataV2(doc), doc.signature) : recoverAttestor(toAttestationData(doc), doc.signature);
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
