// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IDepositCollector} from "../interfaces/IBatchSettlement.sol";

/**
 * @notice Test-only deposit collector that pays deposits from its own balance, short by `shortfall` (to prove the
 * channel contract refuses a deposit it did not fully receive), and can call back into a target while collecting.
 */
contract MockDepositCollector is IDepositCollector {
    uint256 public shortfall;
    address public callbackTarget;
    bytes public callbackData;
    bytes public callbackError;

    error MockDepositCollectorTransferFailed();

    function setShortfall(uint256 shortfall_) external {
        shortfall = shortfall_;
    }

    function setCallback(address target, bytes calldata data) external {
        callbackTarget = target;
        callbackData = data;
    }

    function collect(address, address token, uint256 amount, bytes32, bytes calldata) external {
        if (callbackTarget != address(0)) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory result) = callbackTarget.call(callbackData);
            if (!ok) callbackError = result;
        }
        if (!IERC20(token).transfer(msg.sender, amount - shortfall)) revert MockDepositCollectorTransferFailed();
    }
}
