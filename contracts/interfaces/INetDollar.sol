// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC3009, IERC3009Cancel} from "@openzeppelin/contracts/interfaces/draft-IERC3009.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/**
 * @title NET Dollar
 * @notice A USD-backed ERC-20 token with 6 decimals for payments between agents, developers and creators.
 *
 * Function names follow Circle's FiatToken (USDC) wherever FiatToken has the same operation, so that USDC tooling
 * and x402 clients work unchanged: `configureMinter`, `minterAllowance`, `mint`, `burn`, `pause`,
 * `transferWithAuthorization`, `receiveWithAuthorization`, `cancelAuthorization`, `authorizationState`, the `bytes`
 * signature overloads, `rescueERC20`, `version`.
 *
 * Administration is split between roles (OpenZeppelin AccessControl); no role can do another role's job:
 *
 * | role                 | may call                                                    |
 * |----------------------|-------------------------------------------------------------|
 * | `DEFAULT_ADMIN_ROLE` | grant and revoke the roles below; transferred in two steps  |
 * | `MINTER_ADMIN_ROLE`  | `configureMinter`, `removeMinter`, grant `REDEEMER_ROLE`    |
 * | `PAUSER_ROLE`        | `pause`, `unpause`                                          |
 * | `BLOCKLISTER_ROLE`   | `blocklist`, `unblocklist`                                  |
 * | `SEIZER_ROLE`        | `seize` (burn the balance of a blocklisted account)         |
 * | `RESCUER_ROLE`       | `rescueERC20` (other tokens sent to this contract)          |
 * | `UPGRADER_ROLE`      | `upgradeToAndCall`                                          |
 * | `REDEEMER_ROLE`      | `redeem` its own balance (issuer-approved holders)          |
 *
 * Minters are not a role: each has an allowance that minting spends (FiatToken's model).
 *
 * What moves value and what is checked:
 *
 * - transfer, transferFrom, mint, burn, redeem, seize and the EIP-3009 transfers revert while the token is paused;
 * - a blocklisted account cannot send, receive, spend an allowance (`transferFrom` caller), mint, be minted to,
 *   burn, redeem, or sign or receive an EIP-3009 transfer;
 * - `approve`, `permit` and `cancelAuthorization` move no value and check neither pause nor the blocklist: every
 *   path that later uses an allowance or an authorization checks both, so the check would only cost gas.
 */
interface INetDollar is IERC20Metadata, IERC20Permit, IERC20Errors, IERC5267, IERC3009, IERC3009Cancel {
    /// @notice Parameters of {initialize}: the symbol and the first holder of every role.
    /// @param symbol The token symbol, e.g. "NETD".
    /// @param admin The `DEFAULT_ADMIN_ROLE` holder (transferable only in two steps).
    /// @param adminTransferDelay Seconds between scheduling and accepting a default admin transfer.
    struct InitParams {
        string symbol;
        address admin;
        uint48 adminTransferDelay;
        address minterAdmin;
        address pauser;
        address blocklister;
        address seizer;
        address rescuer;
        address upgrader;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The token is paused and the operation would move value.
    error NetDollarPaused();

    /// @notice `unpause` was called while the token is not paused.
    error NetDollarNotPaused();

    /// @notice `account` is blocklisted and may not take part in the operation.
    error NetDollarBlocklisted(address account);

    /// @notice `seize` was called on an `account` that is not blocklisted.
    error NetDollarNotBlocklisted(address account);

    /// @notice `account` is not a configured minter.
    error NetDollarNotMinter(address account);

    /// @notice Minting `needed` exceeds the `allowance` left to `minter`.
    error NetDollarMinterAllowanceExceeded(address minter, uint256 allowance, uint256 needed);

    /// @notice A minter allowance above `max` (2^255 - 1, above any possible supply) was requested.
    error NetDollarMinterAllowanceTooLarge(uint256 allowance, uint256 max);

    /// @notice Minting `amount` on top of `totalSupply` would exceed the supply cap `max` (2^255 - 1).
    error NetDollarSupplyCapExceeded(uint256 totalSupply, uint256 amount, uint256 max);

    /// @notice A mint, burn or redemption of zero was requested.
    error NetDollarZeroAmount();

    /// @notice The zero address was given where an account is required.
    error NetDollarZeroAddress();

    /// @notice A role holder given to {initialize} for `role` is the zero address.
    error NetDollarInvalidRoleHolder(bytes32 role);

    /// @notice The symbol given to {initialize} is empty.
    error NetDollarEmptySymbol();

    /// @notice The signature is neither an ECDSA signature by `signer` nor accepted by `signer` through ERC-1271.
    error NetDollarInvalidSignature(address signer);

    /// @notice The permit's `deadline` is before the current block `timestamp`.
    error NetDollarPermitExpired(uint256 deadline, uint256 timestamp);

    /// @notice The authorization is valid only after `validAfter`; the block `timestamp` is not later than it.
    error NetDollarAuthorizationNotYetValid(uint256 validAfter, uint256 timestamp);

    /// @notice The authorization was valid only before `validBefore`; the block `timestamp` is not earlier.
    error NetDollarAuthorizationExpired(uint256 validBefore, uint256 timestamp);

    /// @notice `authorizer` has already used or cancelled `nonce`.
    error NetDollarAuthorizationAlreadyUsed(address authorizer, bytes32 nonce);

    /// @notice `receiveWithAuthorization` was called by `caller`, but only the payee `payee` may call it.
    error NetDollarCallerNotPayee(address caller, address payee);

    // ------------------------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------------------------

    /// @notice `minter` minted `amount` to `to`.
    /// @param minter The minter.
    /// @param to The receiving address.
    /// @param amount The amount, in the token's base units.
    event Mint(address indexed minter, address indexed to, uint256 amount);

    /// @notice `burner` (a minter) burned `amount` of its own balance.
    /// @param burner The minter that burned.
    /// @param amount The amount, in the token's base units.
    event Burn(address indexed burner, uint256 amount);

    /// @notice `minter` may now mint up to `minterAllowedAmount`.
    /// @param minter The minter.
    /// @param minterAllowedAmount How much the minter may mint from now on, in base units.
    event MinterConfigured(address indexed minter, uint256 minterAllowedAmount);

    /// @notice `oldMinter` may no longer mint.
    /// @param oldMinter The former minter.
    event MinterRemoved(address indexed oldMinter);

    /// @notice `account` redeemed `amount` for US dollars; `referenceId` ties the off-chain payout to this record.
    /// @param account The redeemer whose tokens were burned.
    /// @param amount The amount burned, to be paid out in US dollars, in base units.
    /// @param referenceId The off-chain reference of the redemption (the wire or payout record).
    event Redeemed(address indexed account, uint256 amount, bytes32 indexed referenceId);

    /// @notice `account` paused the token.
    /// @param account The pauser that paused.
    event Paused(address account);

    /// @notice `account` unpaused the token.
    /// @param account The pauser that unpaused.
    event Unpaused(address account);

    /// @notice `account` was blocklisted.
    /// @param account The account blocked from sending, receiving and spending.
    event Blocklisted(address indexed account);

    /// @notice `account` was removed from the blocklist.
    /// @param account The account no longer blocked.
    event Unblocklisted(address indexed account);

    /// @notice `seizer` burned the whole balance, `amount`, of the blocklisted `account`.
    /// @param account The blocklisted account whose balance was burned.
    /// @param seizer The holder of SEIZER_ROLE that seized.
    /// @param amount The balance burned, in base units.
    event Seized(address indexed account, address indexed seizer, uint256 amount);

    /// @notice `amount` of `token`, sent to this contract by mistake, was sent to `to`.
    /// @param token The other token that was sent to the contract by mistake.
    /// @param to Where it was sent.
    /// @param amount The amount, in the token's base units.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    // ------------------------------------------------------------------------------------------------------------
    // Minting, burning and redemption
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice Makes `minter` a minter that may mint up to `minterAllowedAmount` (replacing any previous allowance).
     * @dev Emits {MinterConfigured}.
     *
     * Requirements:
     * - the caller has `MINTER_ADMIN_ROLE`;
     * - `minter` is not the zero address;
     * - `minterAllowedAmount` is at most 2^255 - 1.
     * @param minter The account that may mint.
     * @param minterAllowedAmount How much the minter may mint from now on, in base units.
     */
    function configureMinter(address minter, uint256 minterAllowedAmount) external returns (bool);

    /**
     * @notice Removes `minter`: it can no longer mint or burn and its allowance becomes zero.
     * @dev Emits {MinterRemoved}. Requirements: the caller has `MINTER_ADMIN_ROLE`.
     * @param minter The minter to remove.
     */
    function removeMinter(address minter) external returns (bool);

    /// @notice Whether `account` is a configured minter.
    /// @param account The account to look up.
    function isMinter(address account) external view returns (bool);

    /// @notice How much `minter` may still mint.
    /// @param minter The minter to look up.
    function minterAllowance(address minter) external view returns (uint256);

    /**
     * @notice Mints `amount` to `to`, spending the caller's minter allowance.
     * @dev Emits {Transfer} from the zero address and {Mint}.
     *
     * Requirements:
     * - the token is not paused;
     * - the caller is a minter, is not blocklisted and has an allowance of at least `amount`;
     * - `to` is not the zero address and is not blocklisted;
     * - `amount` is not zero.
     * @param to The account credited.
     * @param amount The amount minted, in base units.
     */
    function mint(address to, uint256 amount) external returns (bool);

    /**
     * @notice Burns `amount` of the caller's own balance.
     * @dev Emits {Transfer} to the zero address and {Burn}.
     *
     * Requirements: the token is not paused; the caller is a minter, is not blocklisted and holds `amount`;
     * `amount` is not zero.
     * @param amount The amount burned, in base units.
     */
    function burn(uint256 amount) external;

    /**
     * @notice Burns `amount` of the caller's balance and records a redemption for US dollars under `referenceId`
     * (an issuer-side identifier, e.g. the hash of the payout instruction).
     * @dev Emits {Transfer} to the zero address and {Redeemed}.
     *
     * Requirements: the caller has `REDEEMER_ROLE`, is not blocklisted and holds `amount`; the token is not paused;
     * `amount` is not zero.
     * @param amount The amount burned from the caller, in base units.
     * @param referenceId The off-chain reference of the redemption (the wire or payout record).
     */
    function redeem(uint256 amount, bytes32 referenceId) external;

    // ------------------------------------------------------------------------------------------------------------
    // Pause, blocklist, seizure and rescue
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Stops every movement of value. Emits {Paused}. Requirements: `PAUSER_ROLE`; not paused.
    function pause() external;

    /// @notice Resumes movements of value. Emits {Unpaused}. Requirements: `PAUSER_ROLE`; paused.
    function unpause() external;

    /// @notice Whether the token is paused.
    function paused() external view returns (bool);

    /// @notice Blocks `account` from sending, receiving and spending. Emits {Blocklisted}. Requires `BLOCKLISTER_ROLE`.
    /// @param account The account to block.
    function blocklist(address account) external;

    /// @notice Lifts the block on `account`. Emits {Unblocklisted}. Requires `BLOCKLISTER_ROLE`.
    /// @param account The account to unblock.
    function unblocklist(address account) external;

    /// @notice Whether `account` is blocklisted.
    /// @param account The account to look up.
    function isBlocklisted(address account) external view returns (bool);

    /**
     * @notice Burns the whole balance of the blocklisted `account` and returns the amount burned.
     * @dev Emits {Transfer} to the zero address and {Seized}.
     *
     * Requirements: the caller has `SEIZER_ROLE`; the token is not paused; `account` is blocklisted.
     * @param account The blocklisted account.
     * @return amount The balance burned.
     */
    function seize(address account) external returns (uint256 amount);

    /**
     * @notice Sends `amount` of `token`, sent to this contract by mistake, to `to`.
     * @dev Emits {TokensRescued}. Requirements: the caller has `RESCUER_ROLE`; `to` is not the zero address.
     * @param token The other token sent to the contract by mistake.
     * @param to Where to send it.
     * @param amount How much, in that token's units.
     */
    function rescueERC20(IERC20 token, address to, uint256 amount) external;

    // ------------------------------------------------------------------------------------------------------------
    // Signatures: EIP-2612 and EIP-3009 with ERC-1271 support
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The EIP-712 domain version, also used by x402 clients as `extra.version`.
    function version() external pure returns (string memory);

    /**
     * @notice {IERC20Permit-permit} with a packed 65-byte signature, or any signature the `owner` contract accepts
     * through ERC-1271.
     * @param owner The account whose tokens are approved.
     * @param spender The account approved to spend them.
     * @param value The allowance to set, in base units.
     * @param deadline The permit is valid until this Unix time.
     * @param signature The signature: 65-byte ECDSA, or anything an ERC-1271 wallet accepts.
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external;

    /**
     * @notice {IERC3009-transferWithAuthorization} with a packed 65-byte signature, or any signature the `from`
     * contract accepts through ERC-1271.
     * @param from The payer, who signed the authorization.
     * @param to The payee.
     * @param value The amount, in base units.
     * @param validAfter The authorization is valid only after this Unix time.
     * @param validBefore The authorization is valid only before this Unix time.
     * @param nonce The authorization's 32-byte nonce (unique per authorizer).
     * @param signature The signature: 65-byte ECDSA, or anything an ERC-1271 wallet accepts.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /**
     * @notice {IERC3009-receiveWithAuthorization} with a packed 65-byte signature, or any signature the `from`
     * contract accepts through ERC-1271.
     * @param from The payer, who signed the authorization.
     * @param to The payee: must be the caller.
     * @param value The amount, in base units.
     * @param validAfter The authorization is valid only after this Unix time.
     * @param validBefore The authorization is valid only before this Unix time.
     * @param nonce The authorization's 32-byte nonce (unique per authorizer).
     * @param signature The signature: 65-byte ECDSA, or anything an ERC-1271 wallet accepts.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /**
     * @notice {IERC3009Cancel-cancelAuthorization} with a packed 65-byte signature, or any signature the
     * `authorizer` contract accepts through ERC-1271.
     * @param authorizer The payer whose authorization is cancelled (the signer).
     * @param nonce The nonce to cancel.
     * @param signature The signature: 65-byte ECDSA, or anything an ERC-1271 wallet accepts.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;
}
