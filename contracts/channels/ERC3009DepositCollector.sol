// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDepositCollector} from "../interfaces/IBatchSettlement.sol";
import {IERC3009ReceiveBytes} from "../interfaces/IERC3009ReceiveBytes.sol";

/**
 * @title ERC3009DepositCollector
 * @notice Pulls a channel deposit with the payer's EIP-3009 `receiveWithAuthorization` signature and forwards it to
 * the channel contract, the only caller it accepts.
 *
 * The payer signs a `ReceiveWithAuthorization` to this collector whose nonce is `keccak256(abi.encode(channelId,
 * salt))`: the signature can fund that one channel only, once, and only through the channel contract's `deposit`,
 * which computes `channelId` from the config it is given. `collectorData` is `abi.encode(uint256 validAfter, uint256
 * validBefore, uint256 salt, bytes signature)`, as the x402 reference facilitator builds it.
 *
 * It holds nothing between calls: what it receives it forwards in the same call.
 */
contract ERC3009DepositCollector is IDepositCollector {
    using SafeERC20 for IERC20;

    /// @notice The channel contract this collector serves.
    address public immutable BATCH_SETTLEMENT;

    /// @notice The channel contract given is the zero address.
    error DepositCollectorZeroBatchSettlement();

    /// @notice Binds the collector to the one channel contract it serves.
    /// @param batchSettlement_ The channel contract (its canonical address when this code is copied there).
    constructor(address batchSettlement_) {
        if (batchSettlement_ == address(0)) revert DepositCollectorZeroBatchSettlement();
        BATCH_SETTLEMENT = batchSettlement_;
    }

    /// @inheritdoc IDepositCollector
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external
    {
        if (msg.sender != BATCH_SETTLEMENT) revert DepositCollectorUnauthorizedCaller(msg.sender);
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) =
            abi.decode(collectorData, (uint256, uint256, uint256, bytes));
        bytes32 nonce = keccak256(abi.encode(channelId, salt));
        IERC3009ReceiveBytes(token).receiveWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, signature
        );
        IERC20(token).safeTransfer(msg.sender, amount);
    }
}
