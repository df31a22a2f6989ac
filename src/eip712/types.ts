import type { TypedDataField } from "ethers";

/** EIP-712 domain of a token, as returned by its ERC-5267 `eip712Domain()`. */
export interface TokenDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}

/** EIP-3009 type names: `transfer` may be relayed by anyone, `receive` only by the payee. */
export type AuthorizationKind = "transfer" | "receive";

/** The fields of an EIP-3009 transfer authorization, amounts in base units. */
export interface TransferAuthorization {
  from: string;
  to: string;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  /** A random 32-byte value, unique per authorizer. */
  nonce: string;
}

/** The fields of an EIP-3009 cancellation. */
export interface CancelAuthorization {
  authorizer: string;
  nonce: string;
}

/** The fields of an EIP-2612 permit. */
export interface Permit {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** A 65-byte signature and its parts, as the token's `(v, r, s)` and `bytes` overloads take it. */
export interface SplitSignature {
  signature: string;
  v: number;
  r: string;
  s: string;
}

const authorizationFields: TypedDataField[] = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

/** Typed-data definitions, with Circle's FiatToken type names (and so its type hashes). */
export const TYPES = {
  TransferWithAuthorization: { TransferWithAuthorization: authorizationFields },
  ReceiveWithAuthorization: { ReceiveWithAuthorization: authorizationFields },
  CancelAuthorization: {
    CancelAuthorization: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
  },
  Permit: {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
} as const satisfies Record<string, Record<string, TypedDataField[]>>;

/** The typed-data type set for an authorization kind. */
export function authorizationTypes(kind: AuthorizationKind): Record<string, TypedDataField[]> {
  return kind === "transfer" ? TYPES.TransferWithAuthorization : TYPES.ReceiveWithAuthorization;
}
