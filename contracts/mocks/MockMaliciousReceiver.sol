// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITokenReceiverHook} from "./MockCallbackToken.sol";

/**
 * @notice Test-only payee contract for tokens with receiver hooks: on receipt it either reverts (a receiver that
 * blocks payouts) or calls back into a target with given calldata (trying to re-enter the escrow), recording the
 * result of that call.
 */
contract MockMaliciousReceiver is ITokenReceiverHook {
    enum Mode {
        Accept,
        Revert,
        Reenter
    }

    error MockReceiverRefuses();

    Mode public mode;
    address public reentryTarget;
    bytes public reentryData;
    bool public reentryAttempted;
    bool public reentrySucceeded;
    bytes public reentryError;

    function configure(Mode mode_, address target_, bytes calldata data_) external {
        mode = mode_;
        reentryTarget = target_;
        reentryData = data_;
        reentryAttempted = false;
    }

    function onTokenReceived(address, uint256) external {
        if (mode == Mode.Revert) revert MockReceiverRefuses();
        if (mode == Mode.Reenter && !reentryAttempted) {
            reentryAttempted = true;
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory result) = reentryTarget.call(reentryData);
            reentrySucceeded = ok;
            reentryError = result;
        }
    }

    /// @notice Lets the test act as this contract (e.g. to withdraw credited payouts).
    function call(address to, bytes calldata payload) external returns (bytes memory) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = to.call(payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }
}
