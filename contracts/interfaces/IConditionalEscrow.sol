// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/**
 * @title Conditional escrow with split payouts: "pay when delivery is confirmed"
 * @notice Holds an ERC-20 payment until a condition is met, then pays one or many payees; refunds, disputes and
 * deadlines make sure the money always ends up with the payer or the payees, never stuck.
 *
 * A payment is described by a {Payment}: EIP-712 typed data bound to this escrow's address and chain. Its id is the
 * typed-data hash, and the contract stores only one word of state per id; every call passes the whole {Payment},
 * whose hash must match.
 *
 * Lifecycle (`T = confirmBy + disputeWindow`):
 *
 * - **fund** (until `fundBy`): by the payer's EIP-3009 `receiveWithAuthorization` signature whose nonce is the payment
 *   id (gasless for the payer, usable for this payment only, by anyone), or by the payer itself with a permit or a
 *   prior approval. Every pull is checked against the escrow's balance change (fee-on-transfer tokens are refused).
 * - **release** to the payees, split by their shares (dust to the first payee), minus a fee within the bounds:
 *   `confirm` by the verifier or `confirmWithReceipt` with the verifier's signed receipt (until `confirmBy`, whole
 *   amount, minimum fee); `capture` by the operator (until `confirmBy`, full or partial, fee chosen within bounds);
 *   `release` by anyone after `T` when the default outcome is Release.
 * - **refund** to the payer: `void` by the operator (until `T`); `reclaim` by anyone after `T` when the default
 *   outcome is Refund; `refund` of released money by the operator or a payee, paid from their own funds, until
 *   `refundBy`.
 * - **dispute** by the payer or a payee (until `T`, when an arbiter is named) freezes the payment; the arbiter
 *   `rule`s how it is split (until `refundBy`); after `refundBy` an unruled dispute falls back to the default outcome.
 *
 * A payout that cannot be delivered (blocklisted receiver, paused token, a receiver that reverts) is credited to a
 * claimable balance that its owner withdraws later; it never blocks the other payouts. Every state-changing function
 * is non-reentrant. There is no owner, no upgrade and no way to send money anywhere but to the payer, the payees and
 * the fee receiver named in the payment.
 */
interface IConditionalEscrow {
    /// @notice What happens to money still held when nobody acts before the deadline.
    enum Outcome {
        Refund,
        Release
    }

    enum Status {
        None,
        Funded,
        Disputed,
        Settled
    }

    enum FundingMethod {
        Authorization,
        Permit,
        Approval
    }

    /// @notice A payee and its share of every release, in basis points (all shares sum to 10,000).
    struct Payee {
        address account;
        uint16 shareBps;
    }

    /**
     * @notice The terms of a payment, agreed before funding. Its EIP-712 hash (domain "NET Dollar Escrow", "1", this
     * chain, this contract) is the payment id.
     * @param payer Who pays, and who receives refunds.
     * @param token The ERC-20 token paid (NET Dollar, or any token without transfer fees).
     * @param amount The amount escrowed, in the token's base units (at most 2^120 - 1).
     * @param payees Who is paid on release, with their shares (1 to MAX_PAYEES entries).
     * @param operator May capture (release) and void (refund); the zero address for none.
     * @param verifier Confirms delivery, releasing the whole amount; the zero address for none.
     * @param arbiter Rules on disputes; the zero address for none (then nobody can dispute).
     * @param minFeeBps Fee on releases that are not the operator's captures.
     * @param maxFeeBps Highest fee the operator may choose for a capture.
     * @param feeReceiver Receives the fee; required when `maxFeeBps` is not zero.
     * @param fundBy Last second at which the payment can be funded.
     * @param confirmBy Last second for the verifier to confirm or the operator to capture.
     * @param disputeWindow Seconds after `confirmBy` during which a dispute can still be opened and the default
     * outcome waits.
     * @param refundBy Last second for the arbiter to rule and for refunds of released money.
     * @param defaultOutcome What happens to money still held after `confirmBy + disputeWindow`.
     * @param salt Makes otherwise identical payments distinct.
     */
    struct Payment {
        address payer;
        address token;
        uint256 amount;
        Payee[] payees;
        address operator;
        address verifier;
        address arbiter;
        uint16 minFeeBps;
        uint16 maxFeeBps;
        address feeReceiver;
        uint48 fundBy;
        uint48 confirmBy;
        uint48 disputeWindow;
        uint48 refundBy;
        Outcome defaultOutcome;
        uint256 salt;
    }

    /**
     * @notice The one word stored per payment.
     * @param status None until funded; Funded; Disputed; Settled once nothing is held (a payment refunded in full
     * too: the record is never deleted, so its id cannot be funded again).
     * @param held What the escrow still holds for the payment.
     * @param refundable What was released and may still be refunded (`refund`).
     */
    struct PaymentState {
        Status status;
        uint120 held;
        uint120 refundable;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The fee receiver is the escrow itself (its fees would be locked for good).
    error EscrowInvalidFeeReceiver(address feeReceiver);

    /// @notice The payer or the token is the zero address.
    error EscrowZeroAddress();
    /// @notice The amount is zero.
    error EscrowZeroAmount();
    /// @notice The amount is above `max` (2^120 - 1).
    error EscrowAmountTooLarge(uint256 amount, uint256 max);
    /// @notice There are `count` payees; between 1 and `max` are allowed.
    error EscrowInvalidPayeeCount(uint256 count, uint256 max);
    /// @notice The payee at `index` is the zero address or has a zero share.
    error EscrowInvalidPayee(uint256 index);
    /// @notice The payees' shares sum to `totalBps` instead of 10,000.
    error EscrowSharesNotWhole(uint256 totalBps);
    /// @notice The fee bounds are not `minFeeBps <= maxFeeBps <= 10,000`.
    error EscrowInvalidFeeBounds(uint16 minFeeBps, uint16 maxFeeBps);
    /// @notice A fee is possible but no fee receiver is named.
    error EscrowMissingFeeReceiver();
    /// @notice The deadlines are not ordered `fundBy <= confirmBy` and `confirmBy + disputeWindow <= refundBy`.
    error EscrowInvalidDeadlines(uint48 fundBy, uint48 confirmBy, uint48 disputeWindow, uint48 refundBy);
    /// @notice The payment `id` was already funded.
    error EscrowAlreadyFunded(bytes32 id);
    /// @notice The payment `id` was never funded.
    error EscrowNotFunded(bytes32 id);
    /// @notice The operation needs another status than `status`.
    error EscrowWrongStatus(bytes32 id, Status status);
    /// @notice Nothing is held for the payment `id`.
    error EscrowNothingHeld(bytes32 id);
    /// @notice `deadline` has passed: the block `timestamp` is later.
    error EscrowDeadlinePassed(uint256 deadline, uint256 timestamp);
    /// @notice `deadline` has not passed yet: the block `timestamp` is not later.
    error EscrowDeadlineNotReached(uint256 deadline, uint256 timestamp);
    /// @notice The operation applies only when the default outcome is not `defaultOutcome`.
    error EscrowWrongOutcome(Outcome defaultOutcome);
    /// @notice Only `expected` (the payer, verifier, operator or arbiter) may do this, not `caller`.
    error EscrowUnauthorized(address caller, address expected);
    /// @notice Only the payer or a payee may open a dispute.
    error EscrowNotAParty(address caller);
    /// @notice Only the operator or a payee may refund released money.
    error EscrowNotARefunder(address caller);
    /// @notice The payment names no arbiter, so it cannot be disputed.
    error EscrowNoArbiter(bytes32 id);
    /// @notice The verifier's receipt signature is not valid.
    error EscrowInvalidReceipt(address verifier);
    /// @notice A capture of `amount` is more than the `held` amount.
    error EscrowAmountExceedsHeld(uint256 amount, uint256 held);
    /// @notice A refund of `amount` is more than the `refundable` (released, not yet refunded) amount.
    error EscrowAmountExceedsRefundable(uint256 amount, uint256 refundable);
    /// @notice The fee `feeBps` is outside the payment's bounds.
    error EscrowFeeOutOfBounds(uint16 feeBps, uint16 minFeeBps, uint16 maxFeeBps);
    /// @notice The arbiter's payer share `payerShareBps` is above 10,000.
    error EscrowInvalidRuling(uint16 payerShareBps);
    /// @notice A pull of `expected` changed the escrow's balance by `received` (e.g. a fee-on-transfer token).
    error EscrowBalanceMismatch(uint256 expected, uint256 received);
    /// @notice The terms are not in canonical ABI encoding (dirty high bits in a field).
    error EscrowNonCanonicalEncoding();
    /// @notice A state-changing function was entered again before it returned (OpenZeppelin's name for it).
    error ReentrancyGuardReentrantCall();
    /// @notice `account` has nothing to withdraw in `token`.
    error EscrowNothingToWithdraw(address token, address account);

    // ------------------------------------------------------------------------------------------------------------
    // Events (the payment id is always indexed)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The payment `id` was funded with `amount` of `token` by `payer`, by `method`.
    /// @param id The payment's id (see paymentId).
    /// @param payer The payer.
    /// @param token The token held.
    /// @param amount The amount now held.
    /// @param method How it was funded (authorization, permit or approval).
    event PaymentFunded(bytes32 indexed id, address indexed payer, address indexed token, uint256 amount, FundingMethod method);
    /// @notice `amount` of the payment `id` was released to its payees by `by`, of which `fee` went to the fee receiver.
    /// @param id The payment's id (see paymentId).
    /// @param by The account that called.
    /// @param amount The amount released (fee included).
    /// @param fee The part of `amount` that went to the fee receiver.
    event PaymentReleased(bytes32 indexed id, address indexed by, uint256 amount, uint256 fee);
    /// @notice `amount` of the payment `id` went back to the payer, by `by` (void, reclaim, ruling or refund).
    /// @param id The payment's id (see paymentId).
    /// @param by The account that called.
    /// @param amount The amount paid back.
    event PaymentRefunded(bytes32 indexed id, address indexed by, uint256 amount);
    /// @notice `by` disputed the payment `id`.
    /// @param id The payment's id (see paymentId).
    /// @param by The account that called.
    event PaymentDisputed(bytes32 indexed id, address indexed by);
    /// @notice The arbiter ruled that `payerShareBps` of what the payment `id` held goes back to the payer.
    /// @param id The payment's id (see paymentId).
    /// @param arbiter The arbiter that ruled.
    /// @param payerShareBps The share of what is held that goes back to the payer, in basis points.
    event PaymentRuled(bytes32 indexed id, address indexed arbiter, uint16 payerShareBps);
    /// @notice A payout of `amount` to `account` could not be delivered and was credited for withdrawal.
    /// @param id The payment's id (see paymentId).
    /// @param token The token credited.
    /// @param account The payee or receiver credited.
    /// @param amount The amount credited.
    event PayoutCredited(bytes32 indexed id, address indexed token, address indexed account, uint256 amount);
    /// @notice `account` withdrew its credited `amount` of `token`.
    /// @param token The token withdrawn.
    /// @param account The account that withdrew.
    /// @param amount The amount withdrawn.
    event Withdrawn(address indexed token, address indexed account, uint256 amount);

    // ------------------------------------------------------------------------------------------------------------
    // Funding
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice Funds `p` with the payer's EIP-3009 `ReceiveWithAuthorization` signature (to this escrow, for
     * `p.amount`, with the payment id as nonce). Anyone may submit it: the signature can fund this payment only.
     * @dev Emits {PaymentFunded}. Requirements: `p` is valid and unfunded; the block time is at most `p.fundBy`; the
     * token accepts the authorization and the escrow's balance grows by exactly `p.amount`.
     * @param p The payment (its id is paymentId(p)).
     * @param validAfter The funding authorization is valid only after this Unix time.
     * @param validBefore The funding authorization is valid only before this Unix time.
     * @param signature The payer's ReceiveWithAuthorization signature, with the payment id as nonce.
     * @return id The payment's id.
     */
    function fundWithAuthorization(Payment calldata p, uint256 validAfter, uint256 validBefore, bytes calldata signature)
        external
        returns (bytes32 id);

    /// @notice Funds `p` with an EIP-2612 permit for `p.amount`; only the payer may call it.
    /// @param p The payment (its id is paymentId(p)).
    /// @param deadline The permit is valid until this Unix time.
    /// @param v The signature's recovery id.
    /// @param r The signature's r.
    /// @param s The signature's s.
    /// @return id The payment's id.
    function fundWithPermit(Payment calldata p, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external returns (bytes32 id);

    /// @notice Funds `p` from the payer's prior approval; only the payer may call it.
    /// @param p The payment (its id is paymentId(p)).
    /// @return id The payment's id.
    function fund(Payment calldata p) external returns (bytes32 id);

    // ------------------------------------------------------------------------------------------------------------
    // Release
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The verifier confirms delivery: everything held is released (minimum fee). Until `confirmBy`.
    /// @param p The payment (its id is paymentId(p)).
    function confirm(Payment calldata p) external;

    /// @notice Anyone relays the verifier's EIP-712 `DeliveryReceipt(bytes32 paymentId)` signature (ECDSA or ERC-1271).
    /// @param p The payment (its id is paymentId(p)).
    /// @param signature The verifier's EIP-712 DeliveryReceipt signature.
    function confirmWithReceipt(Payment calldata p, bytes calldata signature) external;

    /// @notice The operator releases `amount` (full or partial) with a fee of `feeBps` within the bounds. Until `confirmBy`.
    /// @param p The payment (its id is paymentId(p)).
    /// @param amount The amount to release to the payees now.
    /// @param feeBps The fee, in basis points, within the payment's bounds.
    function capture(Payment calldata p, uint256 amount, uint16 feeBps) external;

    /// @notice After `confirmBy + disputeWindow`, anyone releases what is held when the default outcome is Release
    /// (or, after `refundBy`, what an unruled dispute holds).
    /// @param p The payment (its id is paymentId(p)).
    function release(Payment calldata p) external;

    // ------------------------------------------------------------------------------------------------------------
    // Refunds and disputes
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The operator refunds everything held to the payer. Until `confirmBy + disputeWindow`, not in dispute.
    /// @param p The payment (its id is paymentId(p)).
    function void(Payment calldata p) external;

    /// @notice After `confirmBy + disputeWindow`, anyone refunds what is held to the payer when the default outcome is
    /// Refund (or, after `refundBy`, what an unruled dispute holds).
    /// @param p The payment (its id is paymentId(p)).
    function reclaim(Payment calldata p) external;

    /// @notice The operator or a payee refunds `amount` of released money to the payer, paying it from its own
    /// balance (approval to this escrow). Until `refundBy`.
    /// @param p The payment (its id is paymentId(p)).
    /// @param amount The amount to pay back from the caller's own balance.
    function refund(Payment calldata p, uint256 amount) external;

    /// @notice The payer or a payee disputes the payment; the arbiter decides. Until `confirmBy + disputeWindow`.
    /// @param p The payment (its id is paymentId(p)).
    function dispute(Payment calldata p) external;

    /// @notice The arbiter splits what is held: `payerShareBps` back to the payer, the rest released. Until `refundBy`.
    /// @param p The payment (its id is paymentId(p)).
    /// @param payerShareBps The share of what is held that goes back to the payer, in basis points.
    function rule(Payment calldata p, uint16 payerShareBps) external;

    /// @notice Withdraws the caller's credited payouts in `token`.
    /// @param token The token to withdraw.
    /// @return amount The amount withdrawn.
    function withdraw(address token) external returns (uint256 amount);

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The id of `p`: its EIP-712 typed-data hash.
    /// @param p The payment.
    function paymentId(Payment calldata p) external view returns (bytes32);

    /// @notice The stored state of the payment `id`.
    /// @param id The payment's id.
    function paymentState(bytes32 id) external view returns (PaymentState memory);

    /// @notice What `account` can withdraw in `token`.
    /// @param token The token.
    /// @param account The account credited.
    function claimable(address token, address account) external view returns (uint256);
}
