// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";

/**
 * @title RevenueSplit
 * @notice The implementation behind every split (see {IRevenueSplit}); each split is a minimal proxy made by
 * {RevenueSplitFactory} whose definition is appended to its code: `distributorFeeBps` (2 bytes), the remainder
 * recipient's index (1 byte), then per recipient its address (20 bytes) and share (2 bytes). No owner, no upgrade,
 * nothing to configure: the only state is what is credited for withdrawal.
 * @dev Push with a pull fallback, as 0xSplits' SplitMain: each payment is a `transfer` whose failure (a revert, or
 * `false`) credits the recipient instead, so one recipient never blocks the others. A token that re-enters is stopped
 * by the transient reentrancy guard.
 */
contract RevenueSplit is IRevenueSplit, ReentrancyGuardTransient {
    uint256 private constant _BPS = 10_000;
    uint256 private constant _HEADER = 3;
    uint256 private constant _ENTRY = 22;

    /// @dev The implementation's own address: it is never a split itself.
    address private immutable _SELF = address(this);

    mapping(IERC20 token => mapping(address account => uint256)) private _credited;
    mapping(IERC20 token => uint256) private _totalCredited;

    /// @inheritdoc IRevenueSplit
    function distribute(IERC20 token, address distributor) external nonReentrant returns (uint256 amount) {
        bytes memory args = _args();
        amount = token.balanceOf(address(this)) - _totalCredited[token];
        if (amount == 0) return 0;
        uint256 n = (args.length - _HEADER) / _ENTRY;
        uint256 feeBps;
        uint256 remainderIndex;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let word := mload(add(args, 32))
            feeBps := shr(240, word)
            remainderIndex := and(shr(232, word), 0xff)
        }
        uint256 fee = (amount * feeBps) / _BPS;
        uint256 rest = amount - fee;
        uint256 paid;
        uint256 delivered;
        uint256 remainderShare;
        address remainderRecipient;
        for (uint256 i; i < n; ++i) {
            (address recipient, uint256 share) = _entry(args, i);
            uint256 part = (rest * share) / _BPS;
            if (i == remainderIndex) {
                remainderRecipient = recipient;
                remainderShare = part;
            } else {
                delivered += _payOrCredit(token, recipient, part);
            }
            paid += part;
        }
        // The rounding leftover (less than one base unit per recipient) goes with the remainder recipient's share.
        delivered += _payOrCredit(token, remainderRecipient, remainderShare + (rest - paid));
        if (fee != 0) delivered += _payOrCredit(token, distributor == address(0) ? msg.sender : distributor, fee);
        // Not one payment went through: the token refuses the split itself (paused, the split blocklisted), not a
        // recipient. Revert, so that nothing is credited and the same distribution can run once the token allows it.
        if (delivered == 0) revert RevenueSplitTokenRefused(token);
        emit Distributed(token, amount, distributor, fee);
    }

    /// @inheritdoc IRevenueSplit
    function withdraw(IERC20 token, address account) external nonReentrant returns (uint256 amount) {
        _args();
        amount = _credited[token][account];
        if (amount == 0) revert RevenueSplitNothingToWithdraw(token, account);
        _credited[token][account] = 0;
        _totalCredited[token] -= amount;
        if (!_transfer(token, account, amount)) revert RevenueSplitTransferFailed(token, account);
        emit Withdrawn(token, account, amount);
    }

    /// @inheritdoc IRevenueSplit
    function split()
        external
        view
        returns (address[] memory recipients, uint16[] memory sharesBps, address remainderRecipient, uint16 distributorFeeBps)
    {
        bytes memory args = _args();
        uint256 n = (args.length - _HEADER) / _ENTRY;
        recipients = new address[](n);
        sharesBps = new uint16[](n);
        for (uint256 i; i < n; ++i) {
            (address recipient, uint256 share) = _entry(args, i);
            recipients[i] = recipient;
            sharesBps[i] = uint16(share);
        }
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := mload(add(args, 32))
        }
        distributorFeeBps = uint16(word >> 240);
        remainderRecipient = recipients[(word >> 232) & 0xff];
    }

    /// @inheritdoc IRevenueSplit
    function credited(IERC20 token, address account) external view returns (uint256) {
        return _credited[token][account];
    }

    /// @inheritdoc IRevenueSplit
    function totalCredited(IERC20 token) external view returns (uint256) {
        return _totalCredited[token];
    }

    /// @dev The split's definition, from its own code; the implementation itself has none.
    function _args() private view returns (bytes memory args) {
        if (address(this) == _SELF) revert RevenueSplitNotAClone();
        args = Clones.fetchCloneArgs(address(this));
    }

    /// @dev Recipient `i`: 20 bytes of address and 2 of share, after the 3-byte header.
    function _entry(bytes memory args, uint256 i) private pure returns (address recipient, uint256 share) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let word := mload(add(add(args, 32), add(3, mul(i, 22))))
            recipient := shr(96, word)
            share := and(shr(80, word), 0xffff)
        }
    }

    /// @dev Pays `amount` to `to`, or credits it when the token refuses; returns what was paid (0 when credited).
    function _payOrCredit(IERC20 token, address to, uint256 amount) private returns (uint256 paid) {
        if (amount == 0) return 0;
        if (_transfer(token, to, amount)) return amount;
        _credited[token][to] += amount;
        _totalCredited[token] += amount;
        emit Credited(token, to, amount);
        return 0;
    }

    /// @dev `token.transfer(to, amount)`: true when it neither reverted nor returned false. At most 32 bytes of its
    /// answer are copied, so a token cannot make this run out of memory with a huge revert reason.
    function _transfer(IERC20 token, address to, uint256 amount) private returns (bool ok) {
        bytes memory data = abi.encodeCall(IERC20.transfer, (to, amount));
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0, 0)
            ok := call(gas(), token, 0, add(data, 32), mload(data), 0, 32)
            // No answer (a token that returns nothing) or true; `balanceOf` above proved the token has code.
            ok := and(ok, or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0), 1))))
        }
    }
}
