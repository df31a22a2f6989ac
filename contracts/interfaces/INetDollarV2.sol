// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {INetDollar} from "./INetDollar.sol";

/**
 * @title NET Dollar, version 2: minting cannot exceed attested reserves
 * @notice Adds a reserve guard to {INetDollar}: when configured, every mint checks the latest reserve attestation
 * of a {IReserveOracle} and refuses, with the figures, a mint that would take the supply above the attested
 * reserves less a buffer, or any mint when the attestation is older than a maximum age (fail closed). The default
 * admin configures it; it is off until configured and can be turned off only explicitly, with an event.
 */
interface INetDollarV2 is INetDollar {
    /// @notice Minting would take the supply to `supplyAfterMint`, above `allowedSupply` (the attested `reserves`
    /// less the buffer).
    error NetDollarReservesExceeded(uint256 supplyAfterMint, uint256 allowedSupply, uint256 reserves);

    /// @notice The latest attestation, as of `asOf`, is older than `maxAge` seconds at block time `timestamp`
    /// (or there is none: `asOf` is zero).
    error NetDollarReserveAttestationStale(uint256 asOf, uint256 maxAge, uint256 timestamp);

    /// @notice A reserve guard configuration is invalid: the oracle does not answer, the maximum age is zero, or
    /// the buffer is 100% or more.
    /// @notice The oracle given to `configureReserveGuard` serves `oracleToken`, not this token.
    error NetDollarReserveOracleWrongToken(address oracle, address oracleToken);

    error NetDollarInvalidReserveGuard(address oracle, uint32 maxAge, uint16 bufferBps);

    /// @notice Mints now check `oracle`'s attestation: no older than `maxAge` seconds, supply at most reserves less
    /// `bufferBps`.
    /// @param oracle The ReserveOracle whose latest attestation bounds the supply.
    /// @param maxAge How old, in seconds, the latest attestation may be for minting to go on.
    /// @param bufferBps Reserves kept unminted, in basis points.
    event ReserveGuardConfigured(address indexed oracle, uint32 maxAge, uint16 bufferBps);

    /// @notice `account` turned the reserve guard off: mints no longer check reserves.
    /// @param account The default admin that turned the guard off.
    event ReserveGuardDisabled(address indexed account);

    /**
     * @notice Turns the reserve guard on (or changes it).
     * @dev Emits {ReserveGuardConfigured}. Requirements: the caller is the default admin; `oracle` answers
     * `latestReserves()`; `maxAge` is not zero; `bufferBps` is below 10,000.
     * @param oracle The ReserveOracle for this token.
     * @param maxAge How old, in seconds, the latest attestation may be for minting to go on.
     * @param bufferBps Reserves kept unminted, in basis points.
     */
    function configureReserveGuard(address oracle, uint32 maxAge, uint16 bufferBps) external;

    /// @notice Turns the reserve guard off. Emits {ReserveGuardDisabled}. Requires the default admin.
    function disableReserveGuard() external;

    /// @notice The reserve guard: its oracle (zero when off), maximum attestation age and buffer.
    /// @return oracle The ReserveOracle (zero when the guard is off).
    /// @return maxAge The attestation's maximum age for minting, in seconds.
    /// @return bufferBps The reserves kept unminted, in basis points.
    function reserveGuard() external view returns (address oracle, uint32 maxAge, uint16 bufferBps);
}
