// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AccessControlDefaultAdminRulesUpgradeable
} from "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IERC3009, IERC3009Cancel} from "@openzeppelin/contracts/interfaces/draft-IERC3009.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {INetDollar} from "../interfaces/INetDollar.sol";

/**
 * @title NetDollar
 * @notice The NET Dollar token: see {INetDollar} for the behaviour and the roles.
 *
 * @dev Upgradeable (UUPS behind an ERC-1967 proxy) with ERC-7201 namespaced storage.
 *
 * Storage is laid out for gas, because every user pays it on every call:
 * - an account's blocklist flag lives in bit 255 of its balance word (as in Circle's FiatTokenV2_2), so a transfer
 *   reads two slots, not four. The supply is capped at 2^255 - 1 so that no balance ever reaches that bit;
 * - a minter's flag lives in bit 255 of its allowance word, so a mint reads one slot for both;
 * - the pause flag is bit 0 of the last word of the struct, `flags`; the other bits of that word are kept for
 *   configuration that later versions read in the same operations (NetDollarV2 packs its reserve guard there), so
 *   that it costs no extra storage read.
 *
 * The EIP-712 domain is built from constants and `address(this)` on every call instead of being cached: in an
 * implementation behind a proxy an immutable cache would hold the implementation's address and miss every time,
 * and a cache in storage costs a cold read (2,100 gas), more than building it (about 250).
 *
 * OpenZeppelin 5.7's ERC-3009 extensions are not used: they extend OpenZeppelin's ERC20, whose private balance
 * mapping cannot hold the blocklist flag (the transfer gas budget needs it packed), `draft-ERC3009` has no
 * `bytes`/ERC-1271 forms, and `ERC20TransferAuthorization` (which has them) uses keyed sequential nonces that
 * refuse the random 32-byte nonces x402 clients send.
 *
 * Not checked, on purpose: `approve`, `permit` and `cancelAuthorization` work while paused and for blocklisted
 * accounts (they move no value; every path that later moves it checks both).
 */
contract NetDollar is INetDollar, AccessControlDefaultAdminRulesUpgradeable, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    // ================================================================================================================
    // Constants
    // ================================================================================================================

    /// @notice Configures minters and approves redeemers.
    bytes32 public constant MINTER_ADMIN_ROLE = keccak256("MINTER_ADMIN_ROLE");
    /// @notice Pauses and unpauses the token.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Adds accounts to and removes them from the blocklist.
    bytes32 public constant BLOCKLISTER_ROLE = keccak256("BLOCKLISTER_ROLE");
    /// @notice Burns the balance of blocklisted accounts.
    bytes32 public constant SEIZER_ROLE = keccak256("SEIZER_ROLE");
    /// @notice Sends other tokens sent to this contract by mistake back out.
    bytes32 public constant RESCUER_ROLE = keccak256("RESCUER_ROLE");
    /// @notice Upgrades the implementation.
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
    /// @notice Issuer-approved holders who may redeem; administered by `MINTER_ADMIN_ROLE`.
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");

    /// @notice EIP-2612 permit type hash.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    /// @notice EIP-3009 type hashes, exactly as in Circle's FiatToken.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice The EIP-712 type hash of ReceiveWithAuthorization (as in FiatToken).
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice The EIP-712 type hash of CancelAuthorization (as in FiatToken).
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH = keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    string private constant _NAME = "NET Dollar";
    string private constant _VERSION = "1";
    bytes32 private constant _NAME_HASH = keccak256(bytes(_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(_VERSION));
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @dev Bit 255 of an account's balance word: the account is blocklisted.
    uint256 private constant _BLOCKLISTED = 1 << 255;
    /// @dev Bit 255 of a minter's allowance word: the account is a minter.
    uint256 private constant _MINTER = 1 << 255;
    /// @dev Largest total supply and minter allowance: every value below bit 255.
    uint256 private constant _MAX_AMOUNT = (1 << 255) - 1;
    /// @dev Bit 0 of `flags`: the token is paused.
    uint256 private constant _PAUSED = 1;

    // ================================================================================================================
    // Storage
    // ================================================================================================================

    /// @custom:storage-location erc7201:netdollar.storage.NetDollar
    struct NetDollarStorage {
        /// Bit 255: blocklisted. Bits 0-254: balance.
        mapping(address account => uint256) balanceAndBlocklistState;
        mapping(address owner => mapping(address spender => uint256)) allowances;
        /// Bit 255: is a minter. Bits 0-254: allowance left.
        mapping(address minter => uint256) minterState;
        mapping(address authorizer => mapping(bytes32 nonce => bool)) authorizationStates;
        mapping(address owner => uint256) nonces;
        uint256 totalSupply;
        string symbol;
        /// Bit 0: paused. Bits 8-255: configuration of later versions (see {_flags}).
        uint256 flags;
    }

    // keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollar")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400;

    function _storage() private pure returns (NetDollarStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _STORAGE_LOCATION
        }
    }

    // ================================================================================================================
    // Initialization and upgrades
    // ================================================================================================================

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Sets the symbol and the first holder of every role, and blocklists the token's own address so that
     * tokens cannot be sent to it by mistake.
     * @param params The token's name, symbol, role holders, admin delay and supply cap.
     */
    function initialize(InitParams calldata params) external initializer {
        if (bytes(params.symbol).length == 0) revert NetDollarEmptySymbol();
        __AccessControlDefaultAdminRules_init(params.adminTransferDelay, params.admin);
        _grantInitialRole(MINTER_ADMIN_ROLE, params.minterAdmin);
        _grantInitialRole(PAUSER_ROLE, params.pauser);
        _grantInitialRole(BLOCKLISTER_ROLE, params.blocklister);
        _grantInitialRole(SEIZER_ROLE, params.seizer);
        _grantInitialRole(RESCUER_ROLE, params.rescuer);
        _grantInitialRole(UPGRADER_ROLE, params.upgrader);
        _setRoleAdmin(REDEEMER_ROLE, MINTER_ADMIN_ROLE);

        NetDollarStorage storage $ = _storage();
        $.symbol = params.symbol;
        $.balanceAndBlocklistState[address(this)] = _BLOCKLISTED;
        emit Blocklisted(address(this));
    }

    function _grantInitialRole(bytes32 role, address account) private {
        if (account == address(0)) revert NetDollarInvalidRoleHolder(role);
        _grantRole(role, account);
    }

    /// @dev Only `UPGRADER_ROLE` may upgrade; the modifier is the whole check.
    // solhint-disable-next-line no-empty-blocks
    function _authorizeUpgrade(address) internal view override onlyRole(UPGRADER_ROLE) {}

    // ================================================================================================================
    // ERC-20
    // ================================================================================================================

    /// @inheritdoc IERC20Metadata
    function name() external pure returns (string memory) {
        return _NAME;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external view returns (string memory) {
        return _storage().symbol;
    }

    /// @inheritdoc IERC20Metadata
    function decimals() external pure returns (uint8) {
        return 6;
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _storage().totalSupply;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) external view returns (uint256) {
        return _storage().balanceAndBlocklistState[account] & _MAX_AMOUNT;
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) external view returns (uint256) {
        return _storage().allowances[owner][spender];
    }

    /// @inheritdoc IERC20
    function transfer(address to, uint256 value) external returns (bool) {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(msg.sender, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        NetDollarStorage storage $ = _storage();
        if ($.balanceAndBlocklistState[msg.sender] & _BLOCKLISTED != 0) revert NetDollarBlocklisted(msg.sender);
        uint256 current = $.allowances[from][msg.sender];
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(msg.sender, current, value);
            // Cannot underflow: checked just above.
            unchecked {
                $.allowances[from][msg.sender] = current - value;
            }
        }
        _transfer(from, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    // ================================================================================================================
    // Minting, burning and redemption
    // ================================================================================================================

    /// @inheritdoc INetDollar
    function configureMinter(address minter, uint256 minterAllowedAmount)
        external
        onlyRole(MINTER_ADMIN_ROLE)
        returns (bool)
    {
        if (minter == address(0)) revert NetDollarZeroAddress();
        if (minterAllowedAmount > _MAX_AMOUNT) {
            revert NetDollarMinterAllowanceTooLarge(minterAllowedAmount, _MAX_AMOUNT);
        }
        _storage().minterState[minter] = _MINTER | minterAllowedAmount;
        emit MinterConfigured(minter, minterAllowedAmount);
        return true;
    }

    /// @inheritdoc INetDollar
    function removeMinter(address minter) external onlyRole(MINTER_ADMIN_ROLE) returns (bool) {
        delete _storage().minterState[minter];
        emit MinterRemoved(minter);
        return true;
    }

    /// @inheritdoc INetDollar
    function isMinter(address account) external view returns (bool) {
        return _storage().minterState[account] & _MINTER != 0;
    }

    /// @inheritdoc INetDollar
    function minterAllowance(address minter) external view returns (uint256) {
        return _storage().minterState[minter] & _MAX_AMOUNT;
    }

    /// @inheritdoc INetDollar
    function mint(address to, uint256 amount) external returns (bool) {
        NetDollarStorage storage $ = _storage();
        uint256 state = $.minterState[msg.sender];
        if (state & _MINTER == 0) revert NetDollarNotMinter(msg.sender);
        if ($.balanceAndBlocklistState[msg.sender] & _BLOCKLISTED != 0) revert NetDollarBlocklisted(msg.sender);
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        if (amount == 0) revert NetDollarZeroAmount();
        uint256 allowanceLeft = state & _MAX_AMOUNT;
        if (amount > allowanceLeft) revert NetDollarMinterAllowanceExceeded(msg.sender, allowanceLeft, amount);
        // Cannot underflow into the flag: amount <= allowanceLeft, the bits below it.
        unchecked {
            $.minterState[msg.sender] = state - amount;
        }
        _update(address(0), to, amount);
        emit Mint(msg.sender, to, amount);
        return true;
    }

    /// @inheritdoc INetDollar
    function burn(uint256 amount) external {
        if (_storage().minterState[msg.sender] & _MINTER == 0) revert NetDollarNotMinter(msg.sender);
        if (amount == 0) revert NetDollarZeroAmount();
        _update(msg.sender, address(0), amount);
        emit Burn(msg.sender, amount);
    }

    /// @inheritdoc INetDollar
    function redeem(uint256 amount, bytes32 referenceId) external onlyRole(REDEEMER_ROLE) {
        if (amount == 0) revert NetDollarZeroAmount();
        _update(msg.sender, address(0), amount);
        emit Redeemed(msg.sender, amount, referenceId);
    }

    // ================================================================================================================
    // Pause, blocklist, seizure and rescue
    // ================================================================================================================

    /// @inheritdoc INetDollar
    function pause() external onlyRole(PAUSER_ROLE) {
        NetDollarStorage storage $ = _storage();
        uint256 flags = $.flags;
        if (flags & _PAUSED != 0) revert NetDollarPaused();
        $.flags = flags | _PAUSED;
        emit Paused(msg.sender);
    }

    /// @inheritdoc INetDollar
    function unpause() external onlyRole(PAUSER_ROLE) {
        NetDollarStorage storage $ = _storage();
        uint256 flags = $.flags;
        if (flags & _PAUSED == 0) revert NetDollarNotPaused();
        $.flags = flags & ~_PAUSED;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc INetDollar
    function paused() external view returns (bool) {
        return _storage().flags & _PAUSED != 0;
    }

    /// @inheritdoc INetDollar
    function blocklist(address account) external onlyRole(BLOCKLISTER_ROLE) {
        _storage().balanceAndBlocklistState[account] |= _BLOCKLISTED;
        emit Blocklisted(account);
    }

    /// @inheritdoc INetDollar
    function unblocklist(address account) external onlyRole(BLOCKLISTER_ROLE) {
        _storage().balanceAndBlocklistState[account] &= _MAX_AMOUNT;
        emit Unblocklisted(account);
    }

    /// @inheritdoc INetDollar
    function isBlocklisted(address account) external view returns (bool) {
        return _storage().balanceAndBlocklistState[account] & _BLOCKLISTED != 0;
    }

    /// @inheritdoc INetDollar
    function seize(address account) external onlyRole(SEIZER_ROLE) returns (uint256 amount) {
        NetDollarStorage storage $ = _storage();
        if ($.flags & _PAUSED != 0) revert NetDollarPaused();
        uint256 state = $.balanceAndBlocklistState[account];
        if (state & _BLOCKLISTED == 0) revert NetDollarNotBlocklisted(account);
        amount = state & _MAX_AMOUNT;
        $.balanceAndBlocklistState[account] = _BLOCKLISTED;
        // Cannot underflow: a balance is part of the total supply.
        unchecked {
            $.totalSupply -= amount;
        }
        emit Transfer(account, address(0), amount);
        emit Seized(account, msg.sender, amount);
    }

    /// @inheritdoc INetDollar
    function rescueERC20(IERC20 token, address to, uint256 amount) external onlyRole(RESCUER_ROLE) {
        if (to == address(0)) revert NetDollarZeroAddress();
        token.safeTransfer(to, amount);
        emit TokensRescued(address(token), to, amount);
    }

    // ================================================================================================================
    // EIP-712, EIP-2612 and EIP-5267
    // ================================================================================================================

    /// @inheritdoc INetDollar
    function version() external pure returns (string memory) {
        return _VERSION;
    }

    // The name is EIP-2612's.
    // solhint-disable func-name-mixedcase
    /// @inheritdoc IERC20Permit
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }
    // solhint-enable func-name-mixedcase

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version_,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) external view returns (uint256) {
        return _storage().nonces[owner];
    }

    /// @inheritdoc IERC20Permit
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        bytes32 digest = _permitDigest(owner, spender, value, deadline);
        _requireValidSignature(owner, digest, v, r, s);
        _approve(owner, spender, value);
    }

    /// @inheritdoc INetDollar
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external
    {
        bytes32 digest = _permitDigest(owner, spender, value, deadline);
        _requireValidSignature(owner, digest, signature);
        _approve(owner, spender, value);
    }

    /// @dev Checks the deadline, consumes the owner's nonce and returns the digest to be signed.
    function _permitDigest(address owner, address spender, uint256 value, uint256 deadline)
        private
        returns (bytes32)
    {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp > deadline) revert NetDollarPermitExpired(deadline, block.timestamp);
        uint256 nonce;
        // Cannot overflow: one increment per signed permit. Post-increment: the permit signs the current nonce.
        unchecked {
            // solhint-disable-next-line gas-increment-by-one
            nonce = _storage().nonces[owner]++;
        }
        return _hashTypedData(keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    // ================================================================================================================
    // EIP-3009
    // ================================================================================================================

    /// @inheritdoc IERC3009
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _storage().authorizationStates[authorizer][nonce];
    }

    /// @inheritdoc IERC3009
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 digest = _authorizationDigest(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce
        );
        _requireValidSignature(from, digest, v, r, s);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc INetDollar
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        bytes32 digest = _authorizationDigest(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce
        );
        _requireValidSignature(from, digest, signature);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (to != msg.sender) revert NetDollarCallerNotPayee(msg.sender, to);
        bytes32 digest = _authorizationDigest(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce
        );
        _requireValidSignature(from, digest, v, r, s);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc INetDollar
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (to != msg.sender) revert NetDollarCallerNotPayee(msg.sender, to);
        bytes32 digest = _authorizationDigest(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce
        );
        _requireValidSignature(from, digest, signature);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009Cancel
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _requireUnusedAuthorization(authorizer, nonce);
        _requireValidSignature(authorizer, _cancelDigest(authorizer, nonce), v, r, s);
        _cancelAuthorization(authorizer, nonce);
    }

    /// @inheritdoc INetDollar
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _requireUnusedAuthorization(authorizer, nonce);
        _requireValidSignature(authorizer, _cancelDigest(authorizer, nonce), signature);
        _cancelAuthorization(authorizer, nonce);
    }

    /// @dev Checks the validity window and the nonce, and returns the digest the authorizer must have signed.
    function _authorizationDigest(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) private view returns (bytes32) {
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp <= validAfter) revert NetDollarAuthorizationNotYetValid(validAfter, block.timestamp);
        // solhint-disable-next-line gas-strict-inequalities
        if (block.timestamp >= validBefore) revert NetDollarAuthorizationExpired(validBefore, block.timestamp);
        _requireUnusedAuthorization(from, nonce);
        return _hashTypedData(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
    }

    function _cancelDigest(address authorizer, bytes32 nonce) private view returns (bytes32) {
        return _hashTypedData(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
    }

    function _requireUnusedAuthorization(address authorizer, bytes32 nonce) private view {
        if (_storage().authorizationStates[authorizer][nonce]) {
            revert NetDollarAuthorizationAlreadyUsed(authorizer, nonce);
        }
    }

    function _useAuthorization(address authorizer, bytes32 nonce) private {
        _storage().authorizationStates[authorizer][nonce] = true;
        emit AuthorizationUsed(authorizer, nonce);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce) private {
        _storage().authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    // ================================================================================================================
    // Signatures
    // ================================================================================================================

    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(DOMAIN_SEPARATOR(), structHash);
    }

    /**
     * @dev Accepts an ECDSA signature by `signer` (low-s only) or, failing that, one that `signer` accepts through
     * ERC-1271. ECDSA is tried first so that externally owned accounts never pay for a code-size check; a contract
     * wallet's `(v, r, s)` is passed to it packed as `r ‖ s ‖ v`, as Circle's FiatTokenV2_2 does.
     */
    function _requireValidSignature(address signer, bytes32 digest, uint8 v, bytes32 r, bytes32 s) private view {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecover(digest, v, r, s);
        if (error == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNow(signer, digest, abi.encodePacked(r, s, v))) {
            revert NetDollarInvalidSignature(signer);
        }
    }

    /// @dev As above, with the signature as bytes.
    function _requireValidSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (error == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)) {
            revert NetDollarInvalidSignature(signer);
        }
    }

    // ================================================================================================================
    // Internal value movements
    // ================================================================================================================

    function _transfer(address from, address to, uint256 value) private {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(from, to, value);
    }

    function _approve(address owner, address spender, uint256 value) private {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _storage().allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    /**
     * @dev The one place where balances and the supply change (except {seize}, which must take from a blocklisted
     * account): moves `value` from `from` to `to`, minting when `from` is zero and burning when `to` is zero.
     *
     * Requirements: the token is not paused; neither `from` nor `to` is blocklisted; `from` holds `value`; a mint
     * keeps the supply at most 2^255 - 1.
     */
    function _update(address from, address to, uint256 value) internal virtual {
        NetDollarStorage storage $ = _storage();
        uint256 flags = $.flags;
        if (flags & _PAUSED != 0) revert NetDollarPaused();

        if (from == address(0)) {
            uint256 supply = $.totalSupply;
            if (value > _MAX_AMOUNT - supply) revert NetDollarSupplyCapExceeded(supply, value, _MAX_AMOUNT);
            // Cannot overflow: checked against the cap just above.
            unchecked {
                supply += value;
            }
            _checkMint(supply, flags);
            $.totalSupply = supply;
        } else {
            bytes32 slot = _balanceSlot(from);
            uint256 fromState = _load(slot);
            if (fromState & _BLOCKLISTED != 0) revert NetDollarBlocklisted(from);
            if (fromState < value) revert ERC20InsufficientBalance(from, fromState, value);
            // Cannot underflow: checked just above; the flag bit is clear.
            unchecked {
                _store(slot, fromState - value);
            }
        }

        if (to == address(0)) {
            // Cannot underflow: `value` was part of `from`'s balance, which is part of the supply.
            unchecked {
                $.totalSupply -= value;
            }
        } else {
            bytes32 slot = _balanceSlot(to);
            uint256 toState = _load(slot);
            if (toState & _BLOCKLISTED != 0) revert NetDollarBlocklisted(to);
            // Cannot overflow or reach the flag bit: every balance plus `value` is at most the supply, < 2^255.
            unchecked {
                _store(slot, toState + value);
            }
        }

        emit Transfer(from, to, value);
    }

    /**
     * @dev Called on every mint with the supply it would lead to and the `flags` word (already read for the pause
     * check); reverts to refuse the mint. Nothing to check in this version; NetDollarV2 checks its reserve guard.
     */
    // solhint-disable-next-line no-empty-blocks
    function _checkMint(uint256 newSupply, uint256 flags) internal view virtual {}

    /// @dev The `flags` word: bit 0 is the pause flag; later versions keep their configuration in bits 8-255.
    function _flags() internal view returns (uint256) {
        return _storage().flags;
    }

    /// @dev Writes the `flags` word. Callers must keep bit 0 (the pause flag) as it is.
    function _setFlags(uint256 flags) internal {
        _storage().flags = flags;
    }

    /// @dev The slot of `account`'s balance word, computed once per update instead of once per access.
    function _balanceSlot(address account) private pure returns (bytes32 slot) {
        // The mapping is the struct's first member, at `_STORAGE_LOCATION`: Solidity's mapping slot formula.
        assembly ("memory-safe") {
            mstore(0x00, and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(0x20, _STORAGE_LOCATION)
            slot := keccak256(0x00, 0x40)
        }
    }

    function _load(bytes32 slot) private view returns (uint256 value) {
        assembly ("memory-safe") {
            value := sload(slot)
        }
    }

    function _store(bytes32 slot, uint256 value) private {
        assembly ("memory-safe") {
            sstore(slot, value)
        }
    }
}
