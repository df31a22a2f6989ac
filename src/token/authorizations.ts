import type { ContractTransactionResponse, Overrides } from "ethers";
import type { NetDollar } from "../../typechain-types";
import type { AuthorizationKind, SplitSignature, TransferAuthorization } from "../eip712";
import type { WriteMethod } from "../tx";

/**
 * Typed calls of the token's overloaded signature functions (typechain names overloads by signature only).
 * The `bytes` forms are used: they take both EOA (65-byte ECDSA) and ERC-1271 smart-wallet signatures.
 */

/** Relays an EIP-3009 `transferWithAuthorization`; anyone may send it. */
export function submitTransferWithAuthorization(
  token: NetDollar,
  auth: TransferAuthorization,
  signature: SplitSignature | string,
  overrides: Overrides = {},
): Promise<ContractTransactionResponse> {
  const sig = typeof signature === "string" ? signature : signature.signature;
  return token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
    auth.from,
    auth.to,
    auth.value,
    auth.validAfter,
    auth.validBefore,
    auth.nonce,
    sig,
    overrides,
  );
}

/** Sends an EIP-3009 `receiveWithAuthorization`; the token requires the sender to be the payee (`auth.to`). */
export function submitReceiveWithAuthorization(
  token: NetDollar,
  auth: TransferAuthorization,
  signature: SplitSignature | string,
  overrides: Overrides = {},
): Promise<ContractTransactionResponse> {
  const sig = typeof signature === "string" ? signature : signature.signature;
  return token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
    auth.from,
    auth.to,
    auth.value,
    auth.validAfter,
    auth.validBefore,
    auth.nonce,
    sig,
    overrides,
  );
}

/** Relays an EIP-3009 `cancelAuthorization`. */
export function submitCancelAuthorization(
  token: NetDollar,
  authorizer: string,
  nonce: string,
  signature: SplitSignature | string,
  overrides: Overrides = {},
): Promise<ContractTransactionResponse> {
  const sig = typeof signature === "string" ? signature : signature.signature;
  return token["cancelAuthorization(address,bytes32,bytes)"](authorizer, nonce, sig, overrides);
}

/** Relays an EIP-2612 `permit`. */
export function submitPermit(
  token: NetDollar,
  permit: { owner: string; spender: string; value: bigint; deadline: bigint },
  signature: SplitSignature | string,
  overrides: Overrides = {},
): Promise<ContractTransactionResponse> {
  const sig = typeof signature === "string" ? signature : signature.signature;
  return token["permit(address,address,uint256,uint256,bytes)"](permit.owner, permit.spender, permit.value, permit.deadline, sig, overrides);
}

/**
 * An authorization as a {@link WriteMethod} (send, or simulate with `staticCall`), for `simulateAndSend`.
 *
 * @example
 * await simulateAndSend(authorizationCall(token, "transfer", auth, signature), [], { symbol: "NETD" });
 */
export function authorizationCall(token: NetDollar, kind: AuthorizationKind, auth: TransferAuthorization, signature: string): WriteMethod<[]> {
  const fn =
    kind === "receive"
      ? token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"]
      : token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"];
  const args = [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature] as const;
  return Object.assign(() => fn(...args), { staticCall: () => fn.staticCall(...args) });
}
