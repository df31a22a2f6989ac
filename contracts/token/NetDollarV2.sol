// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NetDollar} from "./NetDollar.sol";
import {INetDollarV2} from "../interfaces/INetDollarV2.sol";
import {IReserveOracle} from "../interfaces/IReserveOracle.sol";

/**
 * @title NetDollarV2
 * @notice NetDollar with a reserve guard: minting cannot exceed attested reserves. See {INetDollarV2}.
 *
 * @dev An upgrade of {NetDollar} (a fresh deployment uses V1's `initialize`, inherited; an existing proxy upgrades
 * through `scripts/upgrade.ts`, which has the OpenZeppelin Upgrades plugin check the layout). No new storage: the
 * guard lives in bits 8-215 of V1's `flags` word, which every mint already reads for the pause check, so the guard
 * costs one call to the oracle (whose latest round is one word) and no extra storage read:
 *
 *   bits 0-7     pause flag (V1)
 *   bits 8-167   oracle address (zero: guard off)
 *   bits 168-199 maximum attestation age, seconds
 *   bits 200-215 buffer, basis points of the reserves kept unminted
 *
 * @custom:oz-upgrades-from NetDollar
 * @custom:oz-upgrades-unsafe-allow missing-initializer
 */
contract NetDollarV2 is NetDollar, INetDollarV2 {
    uint256 private constant _ORACLE_SHIFT = 8;
    uint256 private constant _MAX_AGE_SHIFT = 168;
    uint256 private constant _BUFFER_SHIFT = 200;
    /// @dev Bits 8-255 of `flags`: everything but the pause flag's byte.
    uint256 private constant _GUARD_MASK = ~uint256(0xff);
    uint256 private constant _BPS = 10_000;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() NetDollar() {}

    /// @inheritdoc INetDollarV2
    function configureReserveGuard(address oracle, uint32 maxAge, uint16 bufferBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // The zero address has no code: the code-size check refuses it too.
        if (maxAge == 0 || bufferBps > _BPS - 1 || oracle.code.length == 0) {
            revert NetDollarInvalidReserveGuard(oracle, maxAge, bufferBps);
        }
        // Fail now, not at the next mint, if it is not a reserve oracle, or the reserve oracle of another token.
        try IReserveOracle(oracle).latestReserves() returns (uint256, uint256) {} catch { // solhint-disable-line no-empty-blocks
            revert NetDollarInvalidReserveGuard(oracle, maxAge, bufferBps);
        }
        try IReserveOracle(oracle).token() returns (address oracleToken) {
            if (oracleToken != address(this)) revert NetDollarReserveOracleWrongToken(oracle, oracleToken);
        } catch {
            revert NetDollarInvalidReserveGuard(oracle, maxAge, bufferBps);
        }
        uint256 guard = (uint256(uint160(oracle)) << _ORACLE_SHIFT) | (uint256(maxAge) << _MAX_AGE_SHIFT) |
            (uint256(bufferBps) << _BUFFER_SHIFT);
        _setFlags((_flags() & ~_GUARD_MASK) | guard);
        emit ReserveGuardConfigured(oracle, maxAge, bufferBps);
    }

    /// @inheritdoc INetDollarV2
    function disableReserveGuard() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFlags(_flags() & ~_GUARD_MASK);
        emit ReserveGuardDisabled(msg.sender);
    }

    /// @inheritdoc INetDollarV2
    function reserveGuard() external view returns (address oracle, uint32 maxAge, uint16 bufferBps) {
        uint256 flags = _flags();
        return (address(uint160(flags >> _ORACLE_SHIFT)), uint32(flags >> _MAX_AGE_SHIFT), uint16(flags >> _BUFFER_SHIFT));
    }

    /**
     * @dev The reserve guard. With the guard on, a mint is refused when the latest attestation is older than the
     * maximum age (or missing), or when the supply after the mint exceeds reserves * (10,000 - buffer) / 10,000.
     * An oracle that reverts makes the mint revert too: the guard fails closed.
     */
    function _checkMint(uint256 newSupply, uint256 flags) internal view override {
        address oracle = address(uint160(flags >> _ORACLE_SHIFT));
        if (oracle == address(0)) return;
        (uint256 reserves, uint256 asOf) = IReserveOracle(oracle).latestReserves();
        uint256 maxAge = uint32(flags >> _MAX_AGE_SHIFT);
        // solhint-disable-next-line gas-strict-inequalities
        if (asOf == 0 || block.timestamp > asOf + maxAge) revert NetDollarReserveAttestationStale(asOf, maxAge, block.timestamp);
        uint256 allowed = (reserves * (_BPS - uint16(flags >> _BUFFER_SHIFT))) / _BPS;
        if (newSupply > allowed) revert NetDollarReservesExceeded(newSupply, allowed, reserves);
    }
}
