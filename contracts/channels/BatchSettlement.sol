// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBatchSettlement, IDepositCollector} from "../interfaces/IBatchSettlement.sol";

/**
 * @title BatchSettlement
 * @notice See {IBatchSettlement}.
 *
 * @dev Design notes:
 * - Stateless channels: the contract stores two words per channel (balances, pending withdrawal) and a refund nonce;
 *   every call passes the whole {ChannelConfig}, whose EIP-712 hash is the id.
 * - The EIP-712 domain separator is an immutable built for the contract's *home* address (a constructor argument,
 *   so that runtime code copied to a canonical address, as a devnet does, is right there); at any other address or
 *   chain it is rebuilt on each use, so signatures are always bound to where the code runs.
 * - A signed claim batch hashes each row's channel id once and reuses it for the row's voucher digest, and adds up
 *   what consecutive rows owe the same receiver in memory: one storage write per receiver run, not per row.
 * - Checks, then effects, then interactions, plus a transient reentrancy guard on every state-changing function.
 *   Deposits are checked against the contract's own balance change, so a collector (or token) that delivers less
 *   than the amount is refused: fee-on-transfer and rebasing tokens cannot be deposited.
 *
 * Not checked, on purpose: that the token is NET Dollar (any ERC-20 without transfer fees works), that payer and
 * receiver can receive it (a refund, withdrawal or settle to a blocklisted account reverts and changes nothing; the
 * money stays where it is), or the payer's off-chain spending (vouchers carry only a cumulative ceiling).
 */
contract BatchSettlement is IBatchSettlement, IERC5267, Multicall, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------------------------------------------------
    // Constants
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IBatchSettlement
    uint40 public constant MIN_WITHDRAW_DELAY = 15 minutes;
    /// @inheritdoc IBatchSettlement
    uint40 public constant MAX_WITHDRAW_DELAY = 30 days;

    /// @inheritdoc IBatchSettlement
    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    /// @notice keccak256 of the `Voucher(...)` EIP-712 type.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    /// @notice keccak256 of the `Refund(...)` EIP-712 type.
    bytes32 public constant REFUND_TYPEHASH = keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    /// @notice keccak256 of the `ClaimEntry(...)` EIP-712 type (one row of a signed claim batch).
    bytes32 public constant CLAIM_ENTRY_TYPEHASH =
        keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");
    /// @notice keccak256 of the `ClaimBatch(...)` EIP-712 type.
    bytes32 public constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );

    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string private constant _NAME = "x402 Batch Settlement";
    string private constant _VERSION = "1";
    bytes32 private constant _NAME_HASH = keccak256(bytes(_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(_VERSION));

    // ------------------------------------------------------------------------------------------------------------
    // Storage
    // ------------------------------------------------------------------------------------------------------------

    struct Channel {
        uint128 balance;
        uint128 totalClaimed;
    }

    struct Withdrawal {
        uint128 amount;
        uint40 initiatedAt;
    }

    struct Receiver {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    /// @dev What consecutive rows of a claim owe one (receiver, token), written once per run.
    struct ReceiverRun {
        address receiver;
        address token;
        uint128 amount;
    }

    address private immutable _HOME;
    uint256 private immutable _HOME_CHAIN_ID;
    bytes32 private immutable _HOME_DOMAIN_SEPARATOR;

    mapping(bytes32 channelId => Channel) private _channels;
    mapping(bytes32 channelId => Withdrawal) private _withdrawals;
    mapping(bytes32 channelId => uint256) private _refundNonces;
    mapping(address receiver => mapping(address token => Receiver)) private _receivers;

    /**
     * @notice Builds the EIP-712 domain for the address the contract serves from.
     * @param home The address the contract will serve from (its own address when zero). A devnet that copies this
     * runtime code to the canonical address deploys it with that address here.
     */
    constructor(address home) {
        address self = home == address(0) ? address(this) : home;
        _HOME = self;
        _HOME_CHAIN_ID = block.chainid;
        _HOME_DOMAIN_SEPARATOR = _buildDomainSeparator(self);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IBatchSettlement
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData)
        external
        nonReentrant
    {
        _checkConfig(config);
        if (amount == 0) revert BatchSettlementZeroAmount();
        if (collector == address(0)) revert BatchSettlementZeroAddress("collector");

        bytes32 channelId = _channelId(config);
        Channel storage ch = _channels[channelId];
        uint128 balance = ch.balance;
        if (amount > type(uint128).max - balance) revert BatchSettlementDepositOverflow(balance, amount);
        uint128 newBalance;
        unchecked {
            newBalance = balance + amount; // checked just above
        }
        ch.balance = newBalance;

        IERC20 token = IERC20(config.token);
        uint256 before = token.balanceOf(address(this));
        IDepositCollector(collector).collect(config.payer, config.token, amount, channelId, collectorData);
        uint256 afterwards = token.balanceOf(address(this));
        if (afterwards != before + amount) {
            revert BatchSettlementDepositNotReceived(amount, afterwards > before ? afterwards - before : 0);
        }

        // A channel holds nothing only when it has no claims either (claims never exceed the balance).
        if (balance == 0) emit ChannelCreated(channelId, config);
        emit Deposited(channelId, msg.sender, amount, newBalance);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Claims and settlement
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IBatchSettlement
    function claim(VoucherClaim[] calldata voucherClaims) external nonReentrant {
        uint256 n = voucherClaims.length;
        if (n == 0) revert BatchSettlementEmptyBatch();
        bytes32 domainSeparator = _domainSeparator();
        ReceiverRun memory run;
        for (uint256 i; i < n; ++i) {
            VoucherClaim calldata row = voucherClaims[i];
            ChannelConfig calldata c = row.voucher.channel;
            bytes32 channelId = _channelId(c, domainSeparator);
            if (msg.sender != c.receiver && msg.sender != c.receiverAuthorizer) {
                revert BatchSettlementNotReceiverSide(channelId, msg.sender);
            }
            _claimRow(row, channelId, domainSeparator, run);
        }
        _flush(run);
    }

    /// @inheritdoc IBatchSettlement
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external
        nonReentrant
    {
        uint256 n = voucherClaims.length;
        if (n == 0) revert BatchSettlementEmptyBatch();
        bytes32 domainSeparator = _domainSeparator();
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        for (uint256 i = 1; i < n; ++i) {
            address rowAuthorizer = voucherClaims[i].voucher.channel.receiverAuthorizer;
            if (rowAuthorizer != authorizer) revert BatchSettlementAuthorizerMismatch(i, authorizer, rowAuthorizer);
        }
        (bytes32 digest, bytes32[] memory ids) = _claimBatch(voucherClaims, domainSeparator);
        if (!_isValidSignature(authorizer, digest, authorizerSignature)) {
            revert BatchSettlementInvalidAuthorizerSignature(authorizer);
        }
        ReceiverRun memory run;
        for (uint256 i; i < n; ++i) {
            _claimRow(voucherClaims[i], ids[i], domainSeparator, run);
        }
        _flush(run);
    }

    /// @inheritdoc IBatchSettlement
    function settle(address receiver, address token) external nonReentrant {
        Receiver storage r = _receivers[receiver][token];
        uint128 claimed = r.totalClaimed;
        uint128 amount = claimed - r.totalSettled;
        if (amount == 0) return;
        r.totalSettled = claimed;
        emit Settled(receiver, token, msg.sender, amount);
        IERC20(token).safeTransfer(receiver, amount);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Refunds and withdrawals
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IBatchSettlement
    function refund(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(config);
        if (msg.sender != config.receiver && msg.sender != config.receiverAuthorizer) {
            revert BatchSettlementNotReceiverSide(channelId, msg.sender);
        }
        if (amount == 0) revert BatchSettlementZeroAmount();
        _refund(config, channelId, amount, _refundNonces[channelId]);
    }

    /// @inheritdoc IBatchSettlement
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external nonReentrant {
        if (amount == 0) revert BatchSettlementZeroAmount();
        bytes32 domainSeparator = _domainSeparator();
        bytes32 channelId = _channelId(config, domainSeparator);
        uint256 expected = _refundNonces[channelId];
        if (nonce != expected) revert BatchSettlementInvalidRefundNonce(channelId, nonce, expected);
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            domainSeparator, keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount))
        );
        if (!_isValidSignature(config.receiverAuthorizer, digest, receiverAuthorizerSignature)) {
            revert BatchSettlementInvalidAuthorizerSignature(config.receiverAuthorizer);
        }
        _refund(config, channelId, amount, nonce);
    }

    /// @inheritdoc IBatchSettlement
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(config);
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) {
            revert BatchSettlementNotPayerSide(channelId, msg.sender);
        }
        if (amount == 0) revert BatchSettlementZeroAmount();
        Withdrawal storage w = _withdrawals[channelId];
        uint40 initiatedAt = w.initiatedAt;
        if (initiatedAt != 0) revert BatchSettlementWithdrawalPending(channelId, initiatedAt);
        Channel storage ch = _channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        if (amount > available) revert BatchSettlementWithdrawExceedsAvailable(channelId, amount, available);
        uint40 now40 = uint40(block.timestamp);
        w.amount = amount;
        w.initiatedAt = now40;
        emit WithdrawInitiated(channelId, amount, now40 + config.withdrawDelay);
    }

    /// @inheritdoc IBatchSettlement
    function finalizeWithdraw(ChannelConfig calldata config) external nonReentrant {
        bytes32 channelId = _channelId(config);
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) {
            revert BatchSettlementNotPayerSide(channelId, msg.sender);
        }
        Withdrawal storage w = _withdrawals[channelId];
        uint40 initiatedAt = w.initiatedAt;
        if (initiatedAt == 0) revert BatchSettlementNoWithdrawalPending(channelId);
        uint256 finalizeAfter = uint256(initiatedAt) + config.withdrawDelay;
        if (block.timestamp < finalizeAfter) revert BatchSettlementWithdrawDelayNotElapsed(channelId, finalizeAfter);

        Channel storage ch = _channels[channelId];
        uint128 balance = ch.balance;
        uint128 available = balance - ch.totalClaimed;
        uint128 requested = w.amount;
        uint128 amount = requested < available ? requested : available;
        delete _withdrawals[channelId];
        uint128 newBalance = balance - amount;
        ch.balance = newBalance;
        emit WithdrawFinalized(channelId, msg.sender, amount);
        if (newBalance == 0) emit ChannelClosed(channelId, config);
        if (amount != 0) IERC20(config.token).safeTransfer(config.payer, amount);
    }

    /// @inheritdoc IBatchSettlement
    function multicall(bytes[] calldata data)
        public
        override(IBatchSettlement, Multicall)
        returns (bytes[] memory results)
    {
        return super.multicall(data);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IBatchSettlement
    function channels(bytes32 channelId) external view returns (uint128 balance, uint128 totalClaimed) {
        Channel storage ch = _channels[channelId];
        return (ch.balance, ch.totalClaimed);
    }

    /// @inheritdoc IBatchSettlement
    function pendingWithdrawals(bytes32 channelId) external view returns (uint128 amount, uint40 initiatedAt) {
        Withdrawal storage w = _withdrawals[channelId];
        return (w.amount, w.initiatedAt);
    }

    /// @inheritdoc IBatchSettlement
    function receivers(address receiver, address token)
        external
        view
        returns (uint128 totalClaimed, uint128 totalSettled)
    {
        Receiver storage r = _receivers[receiver][token];
        return (r.totalClaimed, r.totalSettled);
    }

    /// @inheritdoc IBatchSettlement
    function refundNonce(bytes32 channelId) external view returns (uint256) {
        return _refundNonces[channelId];
    }

    /// @inheritdoc IBatchSettlement
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32) {
        return _channelId(config);
    }

    /// @inheritdoc IBatchSettlement
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32) {
        return _voucherDigest(channelId, maxClaimableAmount, _domainSeparator());
    }

    /// @inheritdoc IBatchSettlement
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(
            _domainSeparator(), keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount))
        );
    }

    /// @inheritdoc IBatchSettlement
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32 digest) {
        (digest,) = _claimBatch(voucherClaims, _domainSeparator());
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------------------------

    function _checkConfig(ChannelConfig calldata config) private pure {
        if (config.payer == address(0)) revert BatchSettlementZeroAddress("payer");
        if (config.receiver == address(0)) revert BatchSettlementZeroAddress("receiver");
        if (config.receiverAuthorizer == address(0)) revert BatchSettlementZeroAddress("receiverAuthorizer");
        if (config.token == address(0)) revert BatchSettlementZeroAddress("token");
        uint40 delay = config.withdrawDelay;
        if (delay < MIN_WITHDRAW_DELAY || delay > MAX_WITHDRAW_DELAY) {
            revert BatchSettlementWithdrawDelayOutOfRange(delay, MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY);
        }
    }

    /**
     * @dev Applies one claim row whose channel id is `channelId`: nothing when it claims no more than already claimed
     * (a replayed or superseded row); otherwise checks the ceiling, the balance and the payer's voucher signature,
     * records the new total and adds the difference to the receiver's run.
     */
    function _claimRow(VoucherClaim calldata row, bytes32 channelId, bytes32 domainSeparator, ReceiverRun memory run)
        private
    {
        Channel storage ch = _channels[channelId];
        uint128 claimed = ch.totalClaimed;
        uint128 target = row.totalClaimed;
        // solhint-disable-next-line gas-strict-inequalities
        if (target <= claimed) return;
        uint128 ceiling = row.voucher.maxClaimableAmount;
        if (target > ceiling) revert BatchSettlementClaimExceedsCeiling(channelId, target, ceiling);
        uint128 balance = ch.balance;
        if (target > balance) revert BatchSettlementClaimExceedsBalance(channelId, target, balance);

        ChannelConfig calldata c = row.voucher.channel;
        bytes32 digest = _voucherDigest(channelId, ceiling, domainSeparator);
        address payerAuthorizer = c.payerAuthorizer;
        if (payerAuthorizer != address(0)) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, row.signature);
            if (err != ECDSA.RecoverError.NoError || recovered != payerAuthorizer) {
                revert BatchSettlementInvalidVoucherSignature(channelId, payerAuthorizer);
            }
        } else if (!_isValidSignature(c.payer, digest, row.signature)) {
            revert BatchSettlementInvalidVoucherSignature(channelId, c.payer);
        }

        ch.totalClaimed = target;
        uint128 delta;
        unchecked {
            delta = target - claimed; // target > claimed
        }
        emit Claimed(channelId, msg.sender, delta, target);

        address receiver = c.receiver;
        address token = c.token;
        if (run.receiver != receiver || run.token != token) {
            _flush(run);
            run.receiver = receiver;
            run.token = token;
        }
        run.amount += delta; // checked: a token whose claims pass 2^128 - 1 cannot be claimed further
    }

    /// @dev Adds a receiver run to the receiver's claimed total.
    function _flush(ReceiverRun memory run) private {
        if (run.amount == 0) return;
        _receivers[run.receiver][run.token].totalClaimed += run.amount;
        run.amount = 0;
    }

    /// @dev The EIP-712 digest of a claim batch and each row's channel id.
    function _claimBatch(VoucherClaim[] calldata voucherClaims, bytes32 domainSeparator)
        private
        pure
        returns (bytes32 digest, bytes32[] memory ids)
    {
        uint256 n = voucherClaims.length;
        ids = new bytes32[](n);
        bytes32[] memory entries = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            VoucherClaim calldata row = voucherClaims[i];
            bytes32 channelId = _channelId(row.voucher.channel, domainSeparator);
            ids[i] = channelId;
            entries[i] =
                keccak256(abi.encode(CLAIM_ENTRY_TYPEHASH, channelId, row.voucher.maxClaimableAmount, row.totalClaimed));
        }
        digest = MessageHashUtils.toTypedDataHash(
            domainSeparator, keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, keccak256(abi.encodePacked(entries))))
        );
    }

    /**
     * @dev Refunds up to `amount` of the channel's unclaimed escrow to the payer, after advancing the refund nonce
     * from `nonce` (the current one); shrinks or cancels a pending withdrawal by what it refunds.
     */
    function _refund(ChannelConfig calldata config, bytes32 channelId, uint128 amount, uint256 nonce) private {
        unchecked {
            _refundNonces[channelId] = nonce + 1; // a counter of transactions: never near 2^256
        }
        Channel storage ch = _channels[channelId];
        uint128 balance = ch.balance;
        uint128 available = balance - ch.totalClaimed;
        uint128 refunded = amount < available ? amount : available;
        if (refunded == 0) return;
        uint128 newBalance = balance - refunded;
        ch.balance = newBalance;

        Withdrawal storage w = _withdrawals[channelId];
        if (w.initiatedAt != 0) {
            uint128 pending = w.amount;
            if (refunded < pending) w.amount = pending - refunded;
            else delete _withdrawals[channelId];
        }
        emit Refunded(channelId, msg.sender, refunded);
        if (newBalance == 0) emit ChannelClosed(channelId, config);
        IERC20(config.token).safeTransfer(config.payer, refunded);
    }

    /**
     * @dev ECDSA first, ERC-1271 only when that fails: an EOA signer never pays for a code-size check (2,600 gas cold),
     * as in NetDollar. A contract's address has no private key, so an ECDSA match is always the signer's own.
     */
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    function _channelId(ChannelConfig calldata config) private view returns (bytes32) {
        return _channelId(config, _domainSeparator());
    }

    function _channelId(ChannelConfig calldata config, bytes32 domainSeparator) private pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator, keccak256(abi.encode(CHANNEL_CONFIG_TYPEHASH, config)));
    }

    function _voucherDigest(bytes32 channelId, uint128 maxClaimableAmount, bytes32 domainSeparator)
        private
        pure
        returns (bytes32)
    {
        return MessageHashUtils.toTypedDataHash(
            domainSeparator, keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, maxClaimableAmount))
        );
    }

    function _domainSeparator() private view returns (bytes32) {
        if (address(this) == _HOME && block.chainid == _HOME_CHAIN_ID) return _HOME_DOMAIN_SEPARATOR;
        return _buildDomainSeparator(address(this));
    }

    function _buildDomainSeparator(address verifyingContract) private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, verifyingContract));
    }
}
