// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IConditionalEscrow} from "../interfaces/IConditionalEscrow.sol";
import {IERC3009ReceiveBytes} from "../interfaces/IERC3009ReceiveBytes.sol";

/**
 * @title ConditionalEscrow
 * @notice See {IConditionalEscrow}.
 *
 * @dev Design notes:
 * - Stateless terms: the contract stores one word per payment (status, held, refundable) and takes the terms as
 *   calldata, checking them against the id; storing the terms would cost every payer tens of thousands of gas.
 * - Checks, then effects, then interactions everywhere, plus a transient reentrancy guard on every state-changing
 *   function: a token or receiver that calls back finds the guard locked and the state already final.
 * - Pulls are checked against the escrow's balance change; pushes never revert the operation: an undeliverable
 *   payout is credited to the receiver (`withdraw` later, to itself only, so a blocklisted account cannot route
 *   its money elsewhere through the escrow).
 *
 * Not checked, on purpose: that the token is NET Dollar (any ERC-20 without transfer fees works; tokens that charge
 * fees are refused at funding), or that payees can receive it (undeliverable payouts are credited).
 */
contract ConditionalEscrow is IConditionalEscrow, EIP712 {
    using SafeERC20 for IERC20;

    // ================================================================================================================
    // Constants
    // ================================================================================================================

    /// @notice At most this many payees per payment, so that a release always fits in a block.
    uint256 public constant MAX_PAYEES = 10;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _MAX_AMOUNT = type(uint120).max;

    /// @notice The EIP-712 type hash of a payee (account, share in basis points).
    bytes32 public constant PAYEE_TYPEHASH = keccak256("Payee(address account,uint16 shareBps)");
    /// @notice The EIP-712 type hash of a payment: its id is its struct hash in the escrow's domain.
    bytes32 public constant PAYMENT_TYPEHASH = keccak256(
        "Payment(address payer,address token,uint256 amount,Payee[] payees,address operator,address verifier,address arbiter,uint16 minFeeBps,uint16 maxFeeBps,address feeReceiver,uint48 fundBy,uint48 confirmBy,uint48 disputeWindow,uint48 refundBy,uint8 defaultOutcome,uint256 salt)Payee(address account,uint16 shareBps)"
    );
    /// @notice The EIP-712 type hash of the verifier's delivery receipt.
    bytes32 public constant RECEIPT_TYPEHASH = keccak256("DeliveryReceipt(bytes32 paymentId)");

    // ================================================================================================================
    // Storage
    // ================================================================================================================

    /// @dev Per payment, one word: bits 0-7 status, 8-127 held, 128-247 refundable (see {PaymentState}).
    mapping(bytes32 id => uint256) private _states;
    /// @dev The reentrancy lock, in transient storage (EIP-1153): cleared when the transaction ends.
    uint256 private transient _locked;
    mapping(address token => mapping(address account => uint256)) private _claimable;

    constructor() EIP712("NET Dollar Escrow", "1") {}

    /**
     * @dev OpenZeppelin's ReentrancyGuardTransient, written with a Solidity `transient` variable instead of its
     * inline-assembly `tstore` (same behaviour and gas; no compiler warning on every build).
     */
    modifier nonReentrant() {
        if (_locked != 0) revert ReentrancyGuardReentrantCall();
        _locked = 1;
        _;
        _locked = 0;
    }

    // ================================================================================================================
    // Funding
    // ================================================================================================================

    /// @inheritdoc IConditionalEscrow
    function fundWithAuthorization(Payment calldata p, uint256 validAfter, uint256 validBefore, bytes calldata signature)
        external
        nonReentrant
        returns (bytes32 id)
    {
        id = _open(p);
        (address payer, address token, uint256 amount) = (p.payer, p.token, p.amount);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC3009ReceiveBytes(token).receiveWithAuthorization(payer, address(this), amount, validAfter, validBefore, id, signature);
        _checkReceived(token, before, amount);
        emit PaymentFunded(id, payer, token, amount, FundingMethod.Authorization);
    }

    /// @inheritdoc IConditionalEscrow
    function fundWithPermit(Payment calldata p, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (bytes32 id)
    {
        _requireCaller(p.payer);
        id = _open(p);
        // A permit already used by someone who copied it from the mempool is no reason to fail: the allowance is
        // what matters, and transferFrom checks it.
        try IERC20Permit(p.token).permit(p.payer, address(this), p.amount, deadline, v, r, s) {} catch {} // solhint-disable-line no-empty-blocks
        _pull(p.token, p.payer, p.amount);
        emit PaymentFunded(id, p.payer, p.token, p.amount, FundingMethod.Permit);
    }

    /// @inheritdoc IConditionalEscrow
    function fund(Payment calldata p) external nonReentrant returns (bytes32 id) {
        _requireCaller(p.payer);
        id = _open(p);
        _pull(p.token, p.payer, p.amount);
        emit PaymentFunded(id, p.payer, p.token, p.amount, FundingMethod.Approval);
    }

    // ================================================================================================================
    // Release
    // ================================================================================================================

    /// @inheritdoc IConditionalEscrow
    function confirm(Payment calldata p) external nonReentrant {
        _requireCaller(p.verifier);
        (bytes32 id, uint256 state) = _loadActive(p, Status.Funded);
        _requireBefore(p.confirmBy);
        _release(p, id, state, _held(state), p.minFeeBps);
    }

    /// @inheritdoc IConditionalEscrow
    function confirmWithReceipt(Payment calldata p, bytes calldata signature) external nonReentrant {
        (bytes32 id, uint256 state) = _loadActive(p, Status.Funded);
        _requireBefore(p.confirmBy);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RECEIPT_TYPEHASH, id)));
        if (p.verifier == address(0) || !SignatureChecker.isValidSignatureNowCalldata(p.verifier, digest, signature)) {
            revert EscrowInvalidReceipt(p.verifier);
        }
        _release(p, id, state, _held(state), p.minFeeBps);
    }

    /// @inheritdoc IConditionalEscrow
    function capture(Payment calldata p, uint256 amount, uint16 feeBps) external nonReentrant {
        _requireCaller(p.operator);
        (bytes32 id, uint256 state) = _loadActive(p, Status.Funded);
        _requireBefore(p.confirmBy);
        if (amount == 0) revert EscrowZeroAmount();
        uint256 held = _held(state);
        if (amount > held) revert EscrowAmountExceedsHeld(amount, held);
        if (feeBps < p.minFeeBps || feeBps > p.maxFeeBps) revert EscrowFeeOutOfBounds(feeBps, p.minFeeBps, p.maxFeeBps);
        _release(p, id, state, amount, feeBps);
    }

    /// @inheritdoc IConditionalEscrow
    function release(Payment calldata p) external nonReentrant {
        (bytes32 id, uint256 state) = _loadForDefault(p, Outcome.Release);
        _release(p, id, state, _held(state), p.minFeeBps);
    }

    // ================================================================================================================
    // Refunds and disputes
    // ================================================================================================================

    /// @inheritdoc IConditionalEscrow
    function void(Payment calldata p) external nonReentrant {
        _requireCaller(p.operator);
        (bytes32 id, uint256 state) = _loadActive(p, Status.Funded);
        _requireBefore(_disputeDeadline(p));
        _refundHeld(p, id, state, _held(state));
    }

    /// @inheritdoc IConditionalEscrow
    function reclaim(Payment calldata p) external nonReentrant {
        (bytes32 id, uint256 state) = _loadForDefault(p, Outcome.Refund);
        _refundHeld(p, id, state, _held(state));
    }

    /// @inheritdoc IConditionalEscrow
    function refund(Payment calldata p, uint256 amount) external nonReentrant {
        if (msg.sender != p.operator && !_isPayee(p, msg.sender)) revert EscrowNotARefunder(msg.sender);
        bytes32 id = _hashPayment(p);
        uint256 state = _states[id];
        if (_status(state) == Status.None) revert EscrowNotFunded(id);
        _requireBefore(p.refundBy);
        if (amount == 0) revert EscrowZeroAmount();
        uint256 refundable = _refundable(state);
        if (amount > refundable) revert EscrowAmountExceedsRefundable(amount, refundable);
        // Cannot underflow: checked just above.
        unchecked {
            _states[id] = state - (amount << _REFUNDABLE_SHIFT);
        }
        emit PaymentRefunded(id, msg.sender, amount);
        _pull(p.token, msg.sender, amount);
        _payOrCredit(id, p.token, p.payer, amount);
    }

    /// @inheritdoc IConditionalEscrow
    function dispute(Payment calldata p) external nonReentrant {
        if (msg.sender != p.payer && !_isPayee(p, msg.sender)) revert EscrowNotAParty(msg.sender);
        (bytes32 id, uint256 state) = _loadActive(p, Status.Funded);
        if (p.arbiter == address(0)) revert EscrowNoArbiter(id);
        _requireBefore(_disputeDeadline(p));
        _states[id] = _withStatus(state, Status.Disputed);
        emit PaymentDisputed(id, msg.sender);
    }

    /// @inheritdoc IConditionalEscrow
    function rule(Payment calldata p, uint16 payerShareBps) external nonReentrant {
        _requireCaller(p.arbiter);
        (bytes32 id, uint256 state) = _loadActive(p, Status.Disputed);
        _requireBefore(p.refundBy);
        if (payerShareBps > _BPS) revert EscrowInvalidRuling(payerShareBps);
        uint256 held = _held(state);
        uint256 toPayer = (held * payerShareBps) / _BPS;
        uint256 toPayees = held - toPayer;
        emit PaymentRuled(id, msg.sender, payerShareBps);
        // Both halves are recorded before either is paid: a token or receiver called during the payouts sees the
        // payment's final state (review finding I-01).
        state = _withStatus(state, Status.Funded);
        if (toPayer != 0) state = _afterRefund(state, toPayer);
        if (toPayees != 0) state = _afterRelease(state, toPayees);
        _states[id] = state;
        if (toPayer != 0) _payRefund(p, id, toPayer);
        if (toPayees != 0) _payRelease(p, id, toPayees, p.minFeeBps);
    }

    /// @inheritdoc IConditionalEscrow
    function withdraw(address token) external nonReentrant returns (uint256 amount) {
        amount = _claimable[token][msg.sender];
        if (amount == 0) revert EscrowNothingToWithdraw(token, msg.sender);
        delete _claimable[token][msg.sender];
        emit Withdrawn(token, msg.sender, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ================================================================================================================
    // Views
    // ================================================================================================================

    /// @inheritdoc IConditionalEscrow
    function paymentId(Payment calldata p) external view returns (bytes32) {
        return _hashPayment(p);
    }

    /// @inheritdoc IConditionalEscrow
    function paymentState(bytes32 id) external view returns (PaymentState memory) {
        uint256 state = _states[id];
        return PaymentState({status: _status(state), held: uint120(_held(state)), refundable: uint120(_refundable(state))});
    }

    /// @inheritdoc IConditionalEscrow
    function claimable(address token, address account) external view returns (uint256) {
        return _claimable[token][account];
    }

    // ================================================================================================================
    // Internal: the packed state word
    // ================================================================================================================

    uint256 private constant _HELD_SHIFT = 8;
    uint256 private constant _REFUNDABLE_SHIFT = 128;
    uint256 private constant _AMOUNT_MASK = (1 << 120) - 1;

    function _status(uint256 state) private pure returns (Status) {
        return Status(state & 0xff);
    }

    function _held(uint256 state) private pure returns (uint256) {
        return (state >> _HELD_SHIFT) & _AMOUNT_MASK;
    }

    function _refundable(uint256 state) private pure returns (uint256) {
        return state >> _REFUNDABLE_SHIFT;
    }

    function _withStatus(uint256 state, Status status) private pure returns (uint256) {
        return (state & ~uint256(0xff)) | uint256(status);
    }

    // ================================================================================================================
    // Internal: loading and checking
    // ================================================================================================================

    /// @dev Validates new terms, marks them funded (before any external call) and returns their id.
    function _open(Payment calldata p) private returns (bytes32 id) {
        _validate(p);
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp > p.fundBy) revert EscrowDeadlinePassed(p.fundBy, block.timestamp);
        id = _hashPayment(p);
        if (_states[id] != 0) revert EscrowAlreadyFunded(id);
        _states[id] = (p.amount << _HELD_SHIFT) | uint256(Status.Funded);
    }

    function _validate(Payment calldata p) private view {
        if (p.payer == address(0) || p.token == address(0)) revert EscrowZeroAddress();
        if (p.amount == 0) revert EscrowZeroAmount();
        if (p.amount > _MAX_AMOUNT) revert EscrowAmountTooLarge(p.amount, _MAX_AMOUNT);
        uint256 count = p.payees.length;
        if (count == 0 || count > MAX_PAYEES) revert EscrowInvalidPayeeCount(count, MAX_PAYEES);
        uint256 total;
        for (uint256 i; i < count; ++i) {
            Payee calldata payee = p.payees[i];
            // The escrow itself would lock its share for good (review finding I-02).
            if (payee.account == address(0) || payee.account == address(this) || payee.shareBps == 0) revert EscrowInvalidPayee(i);
            total += payee.shareBps;
        }
        if (total != _BPS) revert EscrowSharesNotWhole(total);
        if (p.minFeeBps > p.maxFeeBps || p.maxFeeBps > _BPS) revert EscrowInvalidFeeBounds(p.minFeeBps, p.maxFeeBps);
        if (p.maxFeeBps != 0 && p.feeReceiver == address(0)) revert EscrowMissingFeeReceiver();
        if (p.feeReceiver == address(this)) revert EscrowInvalidFeeReceiver(p.feeReceiver);
        if (p.fundBy > p.confirmBy || uint256(p.confirmBy) + p.disputeWindow > p.refundBy) {
            revert EscrowInvalidDeadlines(p.fundBy, p.confirmBy, p.disputeWindow, p.refundBy);
        }
    }

    /// @dev The id and state of funded terms in `status` with something held.
    function _loadActive(Payment calldata p, Status status) private view returns (bytes32 id, uint256 state) {
        id = _hashPayment(p);
        state = _states[id];
        Status current = _status(state);
        if (current == Status.None) revert EscrowNotFunded(id);
        if (current != status) revert EscrowWrongStatus(id, current);
        if (_held(state) == 0) revert EscrowNothingHeld(id);
    }

    /**
     * @dev For the default outcome: after `confirmBy + disputeWindow` if not disputed, or after `refundBy` if the
     * arbiter never ruled; only when the default outcome is `outcome`.
     */
    function _loadForDefault(Payment calldata p, Outcome outcome) private view returns (bytes32 id, uint256 state) {
        if (p.defaultOutcome != outcome) revert EscrowWrongOutcome(p.defaultOutcome);
        id = _hashPayment(p);
        state = _states[id];
        Status current = _status(state);
        if (current == Status.Disputed) {
            _requireAfter(p.refundBy);
            return (id, _withStatus(state, Status.Funded));
        }
        if (current == Status.None) revert EscrowNotFunded(id);
        if (current != Status.Funded) revert EscrowWrongStatus(id, current);
        if (_held(state) == 0) revert EscrowNothingHeld(id);
        _requireAfter(_disputeDeadline(p));
    }

    function _requireCaller(address expected) private view {
        if (msg.sender != expected || expected == address(0)) revert EscrowUnauthorized(msg.sender, expected);
    }

    function _requireBefore(uint256 deadline) private view {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp > deadline) revert EscrowDeadlinePassed(deadline, block.timestamp);
    }

    function _requireAfter(uint256 deadline) private view {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= deadline) revert EscrowDeadlineNotReached(deadline, block.timestamp);
    }

    function _disputeDeadline(Payment calldata p) private pure returns (uint256) {
        return uint256(p.confirmBy) + p.disputeWindow;
    }

    function _isPayee(Payment calldata p, address account) private pure returns (bool) {
        uint256 count = p.payees.length;
        for (uint256 i; i < count; ++i) {
            if (p.payees[i].account == account) return true;
        }
        return false;
    }

    // ================================================================================================================
    // Internal: moving money
    // ================================================================================================================

    /**
     * @dev Releases `amount` of what is held: the fee (`feeBps` of it, rounded down) to the fee receiver, the rest
     * split by shares, rounded down, with the rounding dust to the first payee, so every base unit goes somewhere.
     * The state is written before any transfer.
     */
    function _release(Payment calldata p, bytes32 id, uint256 state, uint256 amount, uint16 feeBps) private {
        _states[id] = _afterRelease(state, amount);
        _payRelease(p, id, amount, feeBps);
    }

    /// @dev The state after releasing `amount` of what is held: it becomes refundable; Settled once nothing is held.
    function _afterRelease(uint256 state, uint256 amount) private pure returns (uint256) {
        // Cannot underflow or overflow: amount <= held, and held + refundable <= the funded amount < 2^120.
        unchecked {
            state = state - (amount << _HELD_SHIFT) + (amount << _REFUNDABLE_SHIFT);
        }
        return _held(state) == 0 ? _withStatus(state, Status.Settled) : state;
    }

    /// @dev Pays out a release of `amount` (the state already records it).
    function _payRelease(Payment calldata p, bytes32 id, uint256 amount, uint16 feeBps) private {
        uint256 fee = (amount * feeBps) / _BPS;
        emit PaymentReleased(id, msg.sender, amount, fee);
        address token = p.token;
        if (fee != 0) _payOrCredit(id, token, p.feeReceiver, fee);
        uint256 net = amount - fee;
        Payee[] calldata payees = p.payees;
        uint256 first = net;
        for (uint256 i = 1; i < payees.length; ++i) {
            uint256 share = (net * payees[i].shareBps) / _BPS;
            first -= share;
            _payOrCredit(id, token, payees[i].account, share);
        }
        _payOrCredit(id, token, payees[0].account, first);
    }

    /// @dev Sends `amount` of what is held back to the payer; returns the new state.
    function _refundHeld(Payment calldata p, bytes32 id, uint256 state, uint256 amount) private returns (uint256) {
        state = _afterRefund(state, amount);
        _states[id] = state;
        _payRefund(p, id, amount);
        return state;
    }

    /**
     * @dev The state after refunding `amount` of what is held: Settled once nothing is held. A payment refunded in
     * full keeps that terminal word (it is never deleted), so its id can never be funded again and no signature
     * bound to it (an unused EIP-3009 funding authorization, a verifier's receipt) works any more (review finding
     * L-02; keeping the word costs the settling transaction the 4,800 gas refund a deletion would earn).
     */
    function _afterRefund(uint256 state, uint256 amount) private pure returns (uint256) {
        // Cannot underflow: amount <= held.
        unchecked {
            state -= amount << _HELD_SHIFT;
        }
        return _held(state) == 0 ? _withStatus(state, Status.Settled) : state;
    }

    /// @dev Pays a refund of `amount` to the payer (the state already records it).
    function _payRefund(Payment calldata p, bytes32 id, uint256 amount) private {
        emit PaymentRefunded(id, msg.sender, amount);
        _payOrCredit(id, p.token, p.payer, amount);
    }

    /// @dev Pushes a payout; if the token refuses it (blocklist, pause, a reverting hook), credits it instead.
    function _payOrCredit(bytes32 id, address token, address to, uint256 amount) private {
        if (amount == 0) return;
        if (!IERC20(token).trySafeTransfer(to, amount)) {
            _claimable[token][to] += amount;
            emit PayoutCredited(id, token, to, amount);
        }
    }

    /// @dev Pulls exactly `amount` from `from` (approval), checking the escrow's balance change.
    function _pull(address token, address from, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        _checkReceived(token, before, amount);
    }

    function _checkReceived(address token, uint256 before, uint256 amount) private view {
        uint256 balance = IERC20(token).balanceOf(address(this));
        uint256 received = balance > before ? balance - before : 0;
        if (received != amount) revert EscrowBalanceMismatch(amount, received);
    }

    /**
     * @dev The EIP-712 hash of the terms: the payment id. Hashes the calldata words directly (the ABI head of
     * `Payment` is its 16 fields in order, with the payees' offset where their hash goes) and refuses a
     * non-canonical encoding (dirty high bits), so that one set of terms has exactly one id.
     */
    function _hashPayment(Payment calldata p) private view returns (bytes32) {
        Payee[] calldata payees = p.payees; // Solidity checks the offset and length against the calldata size
        bytes32 payeeTypehash = PAYEE_TYPEHASH;
        bytes32 paymentTypehash = PAYMENT_TYPEHASH;
        bytes32 structHash;
        uint256 dirty;
        assembly ("memory-safe") {
            let m := mload(0x40) // scratch memory past the free memory pointer; not allocated
            let hashes := add(m, 0x60)
            let n := payees.length
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let src := add(payees.offset, shl(6, i))
                let account := calldataload(src)
                let share := calldataload(add(src, 0x20))
                dirty := or(dirty, or(shr(160, account), shr(16, share)))
                mstore(m, payeeTypehash)
                mstore(add(m, 0x20), account)
                mstore(add(m, 0x40), share)
                mstore(add(hashes, shl(5, i)), keccak256(m, 0x60))
            }
            let payeesHash := keccak256(hashes, shl(5, n))
            mstore(m, paymentTypehash)
            calldatacopy(add(m, 0x20), p, 0x200)
            mstore(add(m, 0x80), payeesHash)
            // addresses: payer, token, operator, verifier, arbiter, feeReceiver
            dirty := or(dirty, shr(160, or(or(calldataload(p), calldataload(add(p, 0x20))), calldataload(add(p, 0x80)))))
            dirty := or(dirty, shr(160, or(or(calldataload(add(p, 0xa0)), calldataload(add(p, 0xc0))), calldataload(add(p, 0x120)))))
            // fee bounds (uint16), deadlines (uint48), outcome (0 or 1)
            dirty := or(dirty, shr(16, or(calldataload(add(p, 0xe0)), calldataload(add(p, 0x100)))))
            dirty := or(dirty, shr(48, or(or(calldataload(add(p, 0x140)), calldataload(add(p, 0x160))), or(calldataload(add(p, 0x180)), calldataload(add(p, 0x1a0))))))
            dirty := or(dirty, shr(1, calldataload(add(p, 0x1c0))))
            structHash := keccak256(m, 0x220)
        }
        if (dirty != 0) revert EscrowNonCanonicalEncoding();
        return _hashTypedDataV4(structHash);
    }
}
