// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice What a receiver of {MockCallbackToken} is told (an ERC-777/ERC-1363-style hook).
interface ITokenReceiverHook {
    function onTokenReceived(address from, uint256 amount) external;
}

/**
 * @notice Test-only malicious token. During every transfer it can:
 * - call back into a target with given calldata (to try to re-enter the escrow), recording whether that call
 *   reverted and with what; and
 * - call the `onTokenReceived` hook of receivers registered with {setHooked} (so a malicious or reverting
 *   receiver can act), without catching its revert.
 * It also offers the EIP-3009 `receiveWithAuthorization(bytes)` entry point, accepting any signature, so that the
 * escrow's authorization funding path can be attacked too.
 */
contract MockCallbackToken is ERC20 {
    address public callbackTarget;
    bytes public callbackData;
    bool public callbackAttempted;
    bool public callbackSucceeded;
    bytes public callbackError;
    mapping(address receiver => bool) public hooked;
    mapping(address account => bool) public blocked;

    error MockBlocked(address account);

    constructor() ERC20("Callback", "CALL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setCallback(address target, bytes calldata data) external {
        callbackTarget = target;
        callbackData = data;
        callbackAttempted = false;
        callbackSucceeded = false;
        delete callbackError;
    }

    /// @notice Makes transfers to `receiver` call its `onTokenReceived` hook (as ERC-777/ERC-1363 tokens do).
    function setHooked(address receiver, bool on) external {
        hooked[receiver] = on;
    }

    /// @notice Makes transfers to `account` revert (a stand-in for a blocklist in an arbitrary token).
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256,
        uint256,
        bytes32,
        bytes calldata
    ) external {
        require(to == msg.sender, MockBlocked(msg.sender));
        _transfer(from, to, value);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert MockBlocked(to);
        super._update(from, to, value);
        if (callbackTarget != address(0) && !callbackAttempted) {
            callbackAttempted = true;
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory result) = callbackTarget.call(callbackData);
            callbackSucceeded = ok;
            callbackError = result;
        }
        if (hooked[to] && from != address(0)) {
            ITokenReceiverHook(to).onTokenReceived(from, value);
        }
    }
}
