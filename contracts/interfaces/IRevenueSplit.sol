// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title A revenue split
 * @notice An immutable list of recipients and their shares in basis points, fixed when the split is created. Anyone
 * pays it like any address (an x402 `payTo`, a channel's receiver); anyone calls `distribute(token, distributor)`, which
 * pays every recipient its share of what the split holds in one transaction. A recipient that cannot be paid (a
 * blocklisted account, a token that refuses) is credited instead and withdraws later: it never blocks the others.
 * Rounding leftovers go to the remainder recipient, so nothing is left as dust.
 */
interface IRevenueSplit {
    /// @notice `amount` of `token` held by the split was distributed; `fee` of it went to `distributor`.
    /// @param token The token distributed.
    /// @param amount What was distributed: the split's balance less what is credited for withdrawal.
    /// @param distributor Who received the distributor fee.
    /// @param fee The distributor fee, part of `amount`.
    event Distributed(IERC20 indexed token, uint256 amount, address indexed distributor, uint256 fee);

    /// @notice A payment of `amount` to `account` could not be delivered and was credited for withdrawal.
    /// @param token The token credited.
    /// @param account The recipient credited.
    /// @param amount The amount credited.
    event Credited(IERC20 indexed token, address indexed account, uint256 amount);

    /// @notice `account` received its credited `amount` of `token`.
    /// @param token The token withdrawn.
    /// @param account The recipient paid.
    /// @param amount The amount paid.
    event Withdrawn(IERC20 indexed token, address indexed account, uint256 amount);

    /// @notice The split was called other than through a clone made by its factory.
    error RevenueSplitNotAClone();

    /// @notice `account` has nothing of `token` credited.
    /// @param token The token.
    /// @param account The account.
    error RevenueSplitNothingToWithdraw(IERC20 token, address account);

    /// @notice The token refused every payment of a distribution (paused, or the split itself blocklisted): nothing
    /// was paid or credited; distribute again once the token allows it.
    /// @param token The token.
    error RevenueSplitTokenRefused(IERC20 token);

    /// @notice A credited payment to `account` was refused again by the token (still blocklisted?).
    /// @param token The token.
    /// @param account The account.
    error RevenueSplitTransferFailed(IERC20 token, address account);

    /**
     * @notice Pays every recipient its share of the split's `token` balance (less what is credited for withdrawal),
     * the distributor fee to `distributor` first, any rounding leftover to the remainder recipient.
     * @param token The token to distribute.
     * @param distributor Who receives the distributor fee (ignored when the split's fee is zero).
     * @return amount What was distributed (zero when there was nothing).
     */
    function distribute(IERC20 token, address distributor) external returns (uint256 amount);

    /**
     * @notice Pays `account` what was credited to it. Anyone may call it; the money goes to `account` only.
     * @param token The token.
     * @param account The credited recipient.
     * @return amount What was paid.
     */
    function withdraw(IERC20 token, address account) external returns (uint256 amount);

    /**
     * @notice The split's definition, read from its code.
     * @return recipients The recipients, in ascending address order.
     * @return sharesBps Each recipient's share in basis points (they sum to 10,000).
     * @return remainderRecipient Who receives the rounding leftover of each distribution.
     * @return distributorFeeBps The distributor fee in basis points of each distribution.
     */
    function split()
        external
        view
        returns (address[] memory recipients, uint16[] memory sharesBps, address remainderRecipient, uint16 distributorFeeBps);

    /// @notice What is credited to `account` in `token` and waits for withdrawal.
    /// @param token The token.
    /// @param account The account.
    /// @return The amount credited.
    function credited(IERC20 token, address account) external view returns (uint256);

    /// @notice All that is credited in `token`, held for withdrawal and never distributed again.
    /// @param token The token.
    /// @return The amount credited in all.
    function totalCredited(IERC20 token) external view returns (uint256);
}

/**
 * @title The factory of revenue splits
 * @notice Creates each split once, as a minimal proxy (EIP-1167) whose definition is in its code: its address is
 * derived from the definition alone (`predictSplit`), so anyone recomputes it, and creating it costs no storage.
 */
interface IRevenueSplitFactory {
    /// @notice The split at `split` was created.
    /// @param split The new split's address.
    /// @param recipients The recipients, ascending.
    /// @param sharesBps Their shares in basis points.
    /// @param remainderRecipient Who receives rounding leftovers.
    /// @param distributorFeeBps The distributor fee in basis points.
    event SplitCreated(address indexed split, address[] recipients, uint16[] sharesBps, address remainderRecipient, uint16 distributorFeeBps);

    /// @notice There are `count` recipients: between 2 and `max` are allowed.
    /// @param count The number given.
    /// @param max The most allowed.
    error RevenueSplitInvalidRecipientCount(uint256 count, uint256 max);

    /// @notice `recipients` and `sharesBps` have different lengths.
    /// @param recipients The number of recipients.
    /// @param shares The number of shares.
    error RevenueSplitLengthMismatch(uint256 recipients, uint256 shares);

    /// @notice Recipient `index` is the zero address, or not above the one before it (recipients must ascend: no duplicates).
    /// @param index The position in the list.
    error RevenueSplitRecipientsNotAscending(uint256 index);

    /// @notice Recipient `index` has a share of zero.
    /// @param index The position in the list.
    error RevenueSplitZeroShare(uint256 index);

    /// @notice The shares add up to `total` basis points, not 10,000.
    /// @param total Their sum.
    error RevenueSplitSharesNotWhole(uint256 total);

    /// @notice `remainderRecipient` is not one of the recipients.
    /// @param remainderRecipient The address given.
    error RevenueSplitInvalidRemainderRecipient(address remainderRecipient);

    /// @notice A distributor fee of `feeBps` is above the maximum of `max` basis points.
    /// @param feeBps The fee given.
    /// @param max The most allowed.
    error RevenueSplitFeeTooHigh(uint256 feeBps, uint256 max);

    /**
     * @notice Creates the split, or returns it when it already exists (nothing is changed then).
     * @param recipients The recipients, in strictly ascending address order (2 to 200).
     * @param sharesBps Each one's share in basis points, above zero, summing to 10,000.
     * @param remainderRecipient One of the recipients: it receives the rounding leftover of each distribution.
     * @param distributorFeeBps Paid to whoever calls `distribute`, in basis points (at most 1,000: 10%).
     * @return split The split's address.
     */
    function createSplit(address[] calldata recipients, uint16[] calldata sharesBps, address remainderRecipient, uint16 distributorFeeBps)
        external
        returns (address split);

    /**
     * @notice The address of the split with this definition, created or not (the definition is checked first).
     * @param recipients The recipients, ascending.
     * @param sharesBps Their shares.
     * @param remainderRecipient Who receives rounding leftovers.
     * @param distributorFeeBps The distributor fee.
     * @return split The split's address.
     */
    function predictSplit(address[] calldata recipients, uint16[] calldata sharesBps, address remainderRecipient, uint16 distributorFeeBps)
        external
        view
        returns (address split);

    /// @notice The implementation every split delegates to.
    /// @return The implementation's address.
    function implementation() external view returns (address);
}
