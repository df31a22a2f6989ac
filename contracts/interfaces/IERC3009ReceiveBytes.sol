// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @title EIP-3009 receiveWithAuthorization, bytes signature form
/// @notice The EIP-3009 `bytes` signature form of `receiveWithAuthorization` (NET Dollar, USDC v2.2).
interface IERC3009ReceiveBytes {
    /**
     * @notice Moves `value` from `from` to the caller (`to` must be the caller) with `from`'s signature.
     * @param from The payer.
     * @param to The payee: the caller.
     * @param value The amount.
     * @param validAfter The authorization is valid after this time (unix seconds).
     * @param validBefore The authorization is valid before this time (unix seconds).
     * @param nonce The authorization's unique nonce.
     * @param signature The payer's signature (65-byte ECDSA, or any bytes for an ERC-1271 wallet).
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;
}
