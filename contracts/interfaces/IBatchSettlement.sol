// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/**
 * @title Payment channels for the x402 `batch-settlement` scheme
 * @notice A payer deposits into a channel once, signs a cumulative voucher per paid request, and the receiver claims
 * many channels' vouchers in one transaction, then sweeps what it claimed with one transfer (`settle`).
 *
 * ABI-compatible with the x402 reference contract (`x402BatchSettlement`): the same functions, structs, events,
 * EIP-712 domain (`"x402 Batch Settlement"`, `"1"`) and type hashes, so the reference client, server and facilitator
 * work against it unchanged. Errors differ: they carry diagnostic arguments.
 *
 * A channel is identified by the EIP-712 hash of its immutable {ChannelConfig} under this contract's domain (chain id
 * and address included, so a config names a different channel on every chain and deployment). It holds two numbers:
 * `balance` (deposited, minus refunds and withdrawals) and `totalClaimed` (the receiver's cumulative claim, part of
 * `balance`). What the payer can still get back is `balance - totalClaimed`.
 *
 * Who may do what:
 * - `deposit`: anyone, through a deposit collector that pulls the payer's tokens with the payer's signature
 *   (the contract checks its own balance rose by exactly the amount).
 * - `claim`: the channel's `receiver` or `receiverAuthorizer`; `claimWithSignature`: anyone, with the
 *   `receiverAuthorizer`'s signature over the whole batch. Each row needs the payer's voucher signature (ECDSA by
 *   `payerAuthorizer`, or the payer's ERC-1271 `isValidSignature` when `payerAuthorizer` is zero) and can raise
 *   `totalClaimed` up to the voucher's `maxClaimableAmount` and the channel's balance, never lower it.
 * - `settle`: anyone; pays the receiver everything it claimed and was not yet paid.
 * - `refund`: the `receiver` or `receiverAuthorizer`; `refundWithSignature`: anyone, with the `receiverAuthorizer`'s
 *   signature over (channel, refund nonce, amount). Returns unclaimed escrow to the payer, and shrinks (or cancels) a
 *   pending withdrawal by what it returned.
 * - `initiateWithdraw` / `finalizeWithdraw`: the `payer` or `payerAuthorizer`; the timed exit when the receiver side
 *   does not cooperate. The receiver has `withdrawDelay` seconds to claim its vouchers before `finalizeWithdraw` can
 *   take the unclaimed escrow.
 *
 * There is no owner, no upgrade and no pause: the money in a channel answers to the signatures above only.
 */
interface IBatchSettlement {
    /// @notice A channel's immutable parameters; their EIP-712 hash is the channel id.
    struct ChannelConfig {
        /// @dev Whose tokens are deposited and to whom refunds and withdrawals go.
        address payer;
        /// @dev The EOA that signs vouchers (ECDSA), or zero for the payer's own ERC-1271 signatures.
        address payerAuthorizer;
        /// @dev Who is paid what is claimed.
        address receiver;
        /// @dev Who authorizes claim batches and refunds (never zero).
        address receiverAuthorizer;
        /// @dev The ERC-20 held in the channel.
        address token;
        /// @dev Seconds between `initiateWithdraw` and `finalizeWithdraw`, 15 minutes to 30 days.
        uint40 withdrawDelay;
        /// @dev Distinguishes channels with otherwise equal parameters.
        bytes32 salt;
    }

    /// @notice What the payer signs (the signature travels in {VoucherClaim}): the channel and a cumulative ceiling.
    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }

    /// @notice One row of a claim: a signed voucher and the cumulative total the receiver claims under it.
    struct VoucherClaim {
        Voucher voucher;
        bytes signature;
        uint128 totalClaimed;
    }

    /// @notice Emitted when a channel receives a deposit while it holds nothing and has no claims.
    /// @param channelId The new channel's id.
    /// @param config The channel's configuration (payer, receiver, token, authorizers, withdraw delay, salt).
    event ChannelCreated(bytes32 indexed channelId, ChannelConfig config);

    /// @notice Emitted when a refund or withdrawal leaves a channel with no balance and no claims.
    /// @param channelId The closed channel's id.
    /// @param config The channel's configuration (payer, receiver, token, authorizers, withdraw delay, salt).
    event ChannelClosed(bytes32 indexed channelId, ChannelConfig config);

    /// @notice Emitted after every deposit.
    /// @param channelId The channel's id (see getChannelId).
    /// @param sender The account that sent the transaction.
    /// @param amount The amount deposited.
    /// @param newBalance The channel's balance after it.
    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance);

    /// @notice Emitted when a claim raises a channel's `totalClaimed` (by `claimAmount`, to `newTotalClaimed`).
    /// @param channelId The channel's id (see getChannelId).
    /// @param sender The account that sent the transaction.
    /// @param claimAmount What this claim added.
    /// @param newTotalClaimed The total claimed on the channel after it.
    event Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed);

    /// @notice Emitted when a receiver is paid what it claimed.
    /// @param receiver The receiver paid.
    /// @param token The token paid.
    /// @param sender The account that sent the transaction.
    /// @param amount The amount transferred to the receiver.
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);

    /// @notice Emitted when unclaimed escrow is refunded to the payer.
    /// @param channelId The channel's id (see getChannelId).
    /// @param sender The account that sent the transaction.
    /// @param amount The amount refunded to the payer.
    event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount);

    /// @notice Emitted when the payer side starts a timed withdrawal, which can be finalized from `finalizeAfter`.
    /// @param channelId The channel's id (see getChannelId).
    /// @param amount The amount to withdraw.
    /// @param finalizeAfter When the withdrawal can be finalized (Unix time).
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter);

    /// @notice Emitted when a timed withdrawal completes (`amount` may be below the requested amount, even zero).
    /// @param channelId The channel's id (see getChannelId).
    /// @param sender The account that finalized.
    /// @param amount The amount returned to the payer.
    event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount);

    /// @notice A config field that must not be zero is zero (`field` names it: "payer", "receiver", ...).
    error BatchSettlementZeroAddress(string field);

    /// @notice `withdrawDelay` is outside [`MIN_WITHDRAW_DELAY`, `MAX_WITHDRAW_DELAY`].
    error BatchSettlementWithdrawDelayOutOfRange(uint40 withdrawDelay, uint40 min, uint40 max);

    /// @notice A deposit, refund or withdrawal of zero.
    error BatchSettlementZeroAmount();

    /// @notice The deposit would take the channel's balance past 2^128 - 1.
    error BatchSettlementDepositOverflow(uint128 balance, uint128 amount);

    /// @notice The collector did not raise this contract's token balance by exactly the deposit.
    error BatchSettlementDepositNotReceived(uint256 expected, uint256 received);

    /// @notice An empty claim batch.
    error BatchSettlementEmptyBatch();

    /// @notice `caller` is neither the channel's receiver nor its receiver authorizer.
    error BatchSettlementNotReceiverSide(bytes32 channelId, address caller);

    /// @notice `caller` is neither the channel's payer nor its payer authorizer.
    error BatchSettlementNotPayerSide(bytes32 channelId, address caller);

    /// @notice A row of a signed claim batch names another receiver authorizer than the batch's (row 0's).
    error BatchSettlementAuthorizerMismatch(uint256 row, address expected, address actual);

    /// @notice The receiver authorizer's signature (of a claim batch or a refund) is not valid.
    error BatchSettlementInvalidAuthorizerSignature(address authorizer);

    /// @notice The payer's voucher signature is not valid (`signer` is the payer authorizer, or the payer for ERC-1271).
    error BatchSettlementInvalidVoucherSignature(bytes32 channelId, address signer);

    /// @notice The claimed total is above the voucher's ceiling.
    error BatchSettlementClaimExceedsCeiling(bytes32 channelId, uint128 totalClaimed, uint128 maxClaimableAmount);

    /// @notice The claimed total is above what the channel holds.
    error BatchSettlementClaimExceedsBalance(bytes32 channelId, uint128 totalClaimed, uint128 balance);

    /// @notice A withdrawal is already pending on the channel.
    error BatchSettlementWithdrawalPending(bytes32 channelId, uint40 initiatedAt);

    /// @notice No withdrawal is pending on the channel.
    error BatchSettlementNoWithdrawalPending(bytes32 channelId);

    /// @notice The withdrawal delay has not elapsed: it can be finalized from `finalizeAfter`.
    error BatchSettlementWithdrawDelayNotElapsed(bytes32 channelId, uint256 finalizeAfter);

    /// @notice The withdrawal asks for more than the channel's unclaimed escrow.
    error BatchSettlementWithdrawExceedsAvailable(bytes32 channelId, uint128 amount, uint128 available);

    /// @notice A signed refund's nonce is not the channel's current refund nonce.
    error BatchSettlementInvalidRefundNonce(bytes32 channelId, uint256 nonce, uint256 expected);

    /// @notice The shortest withdraw delay a channel may have, in seconds.
    /// @return The shortest withdrawal delay a channel may have (15 minutes).
    function MIN_WITHDRAW_DELAY() external view returns (uint40);

    /// @notice The longest withdraw delay a channel may have, in seconds.
    /// @return The longest withdrawal delay a channel may have (30 days).
    function MAX_WITHDRAW_DELAY() external view returns (uint40);

    /// @notice The EIP-712 type hash of a channel configuration.
    /// @return keccak256 of the `ChannelConfig(...)` EIP-712 type.
    function CHANNEL_CONFIG_TYPEHASH() external view returns (bytes32);

    /**
     * @notice Deposits `amount` of `config.token` from `config.payer` into the channel of `config`, creating it if
     * needed. `collector` pulls the tokens (for example by the payer's EIP-3009 `receiveWithAuthorization`, with the
     * authorization in `collectorData`); this contract's token balance must rise by exactly `amount`.
     *
     * Requirements: payer, receiver, receiverAuthorizer, token and collector non-zero; `withdrawDelay` within
     * bounds; `amount > 0`; the new balance fits 128 bits.
     * @param config The channel.
     * @param amount The amount to deposit, in the token's base units.
     * @param collector The deposit collector that pulls the tokens.
     * @param collectorData What the collector needs (signature, validity, salt), opaque here.
     */
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData)
        external;

    /**
     * @notice Raises each row's channel to the row's `totalClaimed` (a row at or below the channel's current total
     * changes nothing). The caller must be the receiver or receiver authorizer of every row's channel.
     * @param voucherClaims The rows: signed vouchers and the totals claimed under them.
     */
    function claim(VoucherClaim[] calldata voucherClaims) external;

    /**
     * @notice As {claim}, submitted by anyone with the receiver authorizer's EIP-712 `ClaimBatch` signature over the
     * rows; every row must have the same receiver authorizer.
     * @param voucherClaims The rows: signed vouchers and the totals claimed under them.
     * @param authorizerSignature The receiver authorizer's signature of {getClaimBatchDigest}.
     */
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature) external;

    /**
     * @notice Pays `receiver` everything it claimed in `token` and was not yet paid (nothing happens when that is zero).
     * @param receiver The receiver to pay.
     * @param token The token.
     */
    function settle(address receiver, address token) external;

    /**
     * @notice Starts a timed withdrawal of `amount` (at most the unclaimed escrow); called by the payer or payer
     * authorizer.
     * @param config The channel.
     * @param amount The amount to withdraw.
     */
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external;

    /**
     * @notice Completes a pending withdrawal after the delay; pays the payer the requested amount, capped at the
     * unclaimed escrow at this moment. Called by the payer or payer authorizer.
     * @param config The channel.
     */
    function finalizeWithdraw(ChannelConfig calldata config) external;

    /**
     * @notice Refunds up to `amount` of unclaimed escrow to the payer (capped at what is unclaimed); called by the
     * receiver or receiver authorizer. Always advances the refund nonce, even when nothing is left to refund.
     * @param config The channel.
     * @param amount The amount to refund (non-zero).
     */
    function refund(ChannelConfig calldata config, uint128 amount) external;

    /**
     * @notice As {refund}, submitted by anyone with the receiver authorizer's EIP-712 `Refund` signature of
     * (channel id, `nonce`, `amount`); `nonce` must be the channel's current refund nonce.
     * @param config The channel.
     * @param amount The amount to refund (non-zero).
     * @param nonce The channel's current refund nonce.
     * @param receiverAuthorizerSignature The receiver authorizer's signature of {getRefundDigest}.
     */
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external;

    /**
     * @notice Runs several calls to this contract in one transaction (each as if called directly by the sender).
     * @param data The calls' calldata.
     * @return results Each call's return data.
     */
    function multicall(bytes[] calldata data) external returns (bytes[] memory results);

    /**
     * @notice A channel's balance and what was claimed from it.
     * @param channelId The channel.
     * @return balance Deposited minus refunded and withdrawn.
     * @return totalClaimed Claimed by the receiver so far (part of `balance`).
     */
    function channels(bytes32 channelId) external view returns (uint128 balance, uint128 totalClaimed);

    /**
     * @notice A channel's pending withdrawal.
     * @param channelId The channel.
     * @return amount The amount of the pending withdrawal (zero when none).
     * @return initiatedAt When it was initiated (zero when none).
     */
    function pendingWithdrawals(bytes32 channelId) external view returns (uint128 amount, uint40 initiatedAt);

    /**
     * @notice What a receiver has claimed and settled of a token over all its channels.
     * @param receiver The receiver.
     * @param token The token.
     * @return totalClaimed Everything the receiver claimed in `token`, across its channels.
     * @return totalSettled What of it was paid out by `settle`.
     */
    function receivers(address receiver, address token)
        external
        view
        returns (uint128 totalClaimed, uint128 totalSettled);

    /**
     * @notice The nonce the next cooperative refund of a channel must carry.
     * @param channelId The channel.
     * @return The nonce the next signed refund must carry.
     */
    function refundNonce(bytes32 channelId) external view returns (uint256);

    /**
     * @notice The id of a channel configuration.
     * @param config The channel's parameters.
     * @return The channel id: the EIP-712 hash of `config` under this contract's domain.
     */
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32);

    /**
     * @notice The EIP-712 digest a payer signs for a voucher.
     * @param channelId The channel.
     * @param maxClaimableAmount The voucher's cumulative ceiling.
     * @return The EIP-712 digest the payer signs for a `Voucher`.
     */
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32);

    /**
     * @notice The EIP-712 digest the receiver authorizer signs for a refund.
     * @param channelId The channel.
     * @param nonce The refund nonce.
     * @param amount The refund amount.
     * @return The EIP-712 digest the receiver authorizer signs for a `Refund`.
     */
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32);

    /**
     * @notice The EIP-712 digest the receiver authorizer signs for a claim batch.
     * @param voucherClaims The rows of a claim batch.
     * @return The EIP-712 digest the receiver authorizer signs for a `ClaimBatch` of these rows.
     */
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32);
}

/// @title A deposit collector of the batch-settlement channels
/// @notice Pulls a payer's tokens into the channel contract that calls it (see {IBatchSettlement-deposit}).
interface IDepositCollector {
    /// @notice `caller` is not the channel contract this collector serves.
    error DepositCollectorUnauthorizedCaller(address caller);

    /**
     * @notice Pulls `amount` of `token` from `payer` and sends it to the caller (the channel contract).
     * @param payer Whose tokens.
     * @param token The token.
     * @param amount The amount.
     * @param channelId The channel the deposit is for (collectors bind the payer's signature to it).
     * @param collectorData Collector-specific data (signature, validity, salt).
     */
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external;
}
