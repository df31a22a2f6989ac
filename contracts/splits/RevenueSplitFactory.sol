// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IRevenueSplitFactory} from "../interfaces/IRevenueSplit.sol";
import {RevenueSplit} from "./RevenueSplit.sol";

/**
 * @title RevenueSplitFactory
 * @notice Creates revenue splits as EIP-1167 minimal proxies of one {RevenueSplit}, their definitions in their code,
 * at CREATE2 addresses derived from the definition alone: the same recipients, shares, remainder recipient and fee
 * always give the same address, created at most once. No owner, nothing to configure.
 */
contract RevenueSplitFactory is IRevenueSplitFactory {
    uint256 private constant _BPS = 10_000;
    /// @notice The most recipients a split may have (a distribution to 200 stays well inside a block).
    uint256 public constant MAX_RECIPIENTS = 200;
    /// @notice The highest distributor fee, in basis points (10%).
    uint256 public constant MAX_DISTRIBUTOR_FEE_BPS = 1_000;

    address private immutable _IMPLEMENTATION = address(new RevenueSplit());

    /// @inheritdoc IRevenueSplitFactory
    function implementation() public view returns (address) {
        return _IMPLEMENTATION;
    }

    /// @inheritdoc IRevenueSplitFactory
    function createSplit(address[] calldata recipients, uint16[] calldata sharesBps, address remainderRecipient, uint16 distributorFeeBps)
        external
        returns (address split)
    {
        bytes memory args = _encode(recipients, sharesBps, remainderRecipient, distributorFeeBps);
        split = Clones.predictDeterministicAddressWithImmutableArgs(_IMPLEMENTATION, args, 0);
        if (split.code.length != 0) return split;
        Clones.cloneDeterministicWithImmutableArgs(_IMPLEMENTATION, args, 0);
        emit SplitCreated(split, recipients, sharesBps, remainderRecipient, distributorFeeBps);
    }

    /// @inheritdoc IRevenueSplitFactory
    function predictSplit(address[] calldata recipients, uint16[] calldata sharesBps, address remainderRecipient, uint16 distributorFeeBps)
        external
        view
        returns (address split)
    {
        return Clones.predictDeterministicAddressWithImmutableArgs(_IMPLEMENTATION, _encode(recipients, sharesBps, remainderRecipient, distributorFeeBps), 0);
    }

    /// @dev Checks a definition and packs it: fee (2 bytes), remainder index (1), then address (20) and share (2) each.
    function _encode(address[] calldata recipients, uint16[] calldata sharesBps, address remainderRecipient, uint16 distributorFeeBps)
        private
        pure
        returns (bytes memory args)
    {
        uint256 n = recipients.length;
        if (n < 2 || n > MAX_RECIPIENTS) revert RevenueSplitInvalidRecipientCount(n, MAX_RECIPIENTS);
        if (sharesBps.length != n) revert RevenueSplitLengthMismatch(n, sharesBps.length);
        if (distributorFeeBps > MAX_DISTRIBUTOR_FEE_BPS) revert RevenueSplitFeeTooHigh(distributorFeeBps, MAX_DISTRIBUTOR_FEE_BPS);
        uint256 total;
        uint256 remainderIndex = type(uint256).max;
        address previous;
        args = abi.encodePacked(distributorFeeBps, uint8(0));
        for (uint256 i; i < n; ++i) {
            address recipient = recipients[i];
            // Ascending and above zero: no duplicates, and one address for one set of recipients.
            // solhint-disable-next-line gas-strict-inequalities
            if (recipient <= previous) revert RevenueSplitRecipientsNotAscending(i);
            if (sharesBps[i] == 0) revert RevenueSplitZeroShare(i);
            if (recipient == remainderRecipient) remainderIndex = i;
            total += sharesBps[i];
            previous = recipient;
            args = abi.encodePacked(args, recipient, sharesBps[i]);
        }
        if (total != _BPS) revert RevenueSplitSharesNotWhole(total);
        if (remainderIndex == type(uint256).max) revert RevenueSplitInvalidRemainderRecipient(remainderRecipient);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore8(add(args, 34), remainderIndex)
        }
    }
}
