import { TypedDataEncoder, verifyTypedData, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";

/**
 * The EIP-712 typed data of a reserve attestation, exactly as ReserveOracle verifies it on-chain.
 * The domain has no chain id or verifying contract: one attestation may cover deployments on several chains, each
 * listed (chain id and token) in the signed data.
 */
export const ATTESTATION_DOMAIN: TypedDataDomain = { name: "NET Dollar Reserve Attestation", version: "1" };

export const ATTESTATION_TYPES: Record<string, TypedDataField[]> = {
  ReserveAttestation: [
    { name: "issuer", type: "string" },
    { name: "asOf", type: "uint64" },
    { name: "deployments", type: "Deployment[]" },
    { name: "reserves", type: "uint256" },
    { name: "lines", type: "ReserveLine[]" },
    { name: "accountant", type: "string" },
    { name: "reportSha256", type: "bytes32" },
  ],
  Deployment: [
    { name: "chainId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "blockNumber", type: "uint64" },
    { name: "outstanding", type: "uint256" },
  ],
  ReserveLine: [
    { name: "kind", type: "string" },
    { name: "custodian", type: "string" },
    { name: "amount", type: "uint256" },
  ],
};

/** The signed content of an attestation, with bigints (as typechain's `IReserveOracle.AttestationStruct`). */
export interface AttestationData {
  issuer: string;
  asOf: bigint;
  deployments: { chainId: bigint; token: string; blockNumber: bigint; outstanding: bigint }[];
  reserves: bigint;
  lines: { kind: string; custodian: string; amount: bigint }[];
  accountant: string;
  reportSha256: string;
}

/** The EIP-712 digest the attestor signs (and ReserveOracle.attestationDigest returns). */
export function attestationDigest(data: AttestationData): string {
  return TypedDataEncoder.hash(ATTESTATION_DOMAIN, ATTESTATION_TYPES, data);
}

/** Signs attestation data with any ethers signer. */
export function signAttestationData(signer: Signer, data: AttestationData): Promise<string> {
  return signer.signTypedData(ATTESTATION_DOMAIN, ATTESTATION_TYPES, data);
}

/** The address whose key signed (ECDSA; contract attestors are checked on-chain through ERC-1271). */
export function recoverAttestor(data: AttestationData, signature: string): string {
  return verifyTypedData(ATTESTATION_DOMAIN, ATTESTATION_TYPES, data, signature);
}

/**
 * Version 2 (review finding M-01): every deployment has an `allocation`, its share of the reserves (the allocations
 * sum to at most `reserves`). ReserveOracle.publishV2 stores the allocation of its own chain and token.
 */
export const ATTESTATION_DOMAIN_V2: TypedDataDomain = { name: "NET Dollar Reserve Attestation", version: "2" };

export const ATTESTATION_TYPES_V2: Record<string, TypedDataField[]> = {
  ReserveAttestation: ATTESTATION_TYPES.ReserveAttestation,
  Deployment: [...ATTESTATION_TYPES.Deployment, { name: "allocation", type: "uint256" }],
  ReserveLine: ATTESTATION_TYPES.ReserveLine,
};

/** The signed content of a version-2 attestation (as typechain's `IReserveOracle.AttestationV2Struct`). */
export interface AttestationDataV2 extends Omit<AttestationData, "deployments"> {
  deployments: { chainId: bigint; token: string; blockNumber: bigint; outstanding: bigint; allocation: bigint }[];
}

/** The EIP-712 digest of a version-2 attestation (ReserveOracle.attestationDigestV2). */
export function attestationDigestV2(data: AttestationDataV2): string {
  return TypedDataEncoder.hash(ATTESTATION_DOMAIN_V2, ATTESTATION_TYPES_V2, data);
}

/** Signs version-2 attestation data. */
export function signAttestationDataV2(signer: Signer, data: AttestationDataV2): Promise<string> {
  return signer.signTypedData(ATTESTATION_DOMAIN_V2, ATTESTATION_TYPES_V2, data);
}

/** The address whose key signed version-2 data (ECDSA). */
export function recoverAttestorV2(data: AttestationDataV2, signature: string): string {
  return verifyTypedData(ATTESTATION_DOMAIN_V2, ATTESTATION_TYPES_V2, data, signature);
}
