// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/**
 * @title Reserve oracle: the latest signed reserve attestation, on-chain
 * @notice Stores the reserves and time of the latest attestation signed by an authorised attestor, for NetDollarV2's
 * mint guard (`latestReserves`) and, as a Chainlink-compatible Proof of Reserve feed, for monitors
 * (`latestRoundData`: 6 decimals, US dollars). Anyone may relay a signed attestation; it is accepted only if it is
 * newer than the last one, not from the future, covers this chain and token, and its reserve lines add up.
 *
 * The attestation is EIP-712 typed data with the domain `{ name: "NET Dollar Reserve Attestation", version: "1" }`
 * (no chain id or verifying contract: one attestation may cover deployments on several chains, each listed in it):
 *
 *   ReserveAttestation(string issuer,uint64 asOf,Deployment[] deployments,uint256 reserves,ReserveLine[] lines,
 *                      string accountant,bytes32 reportSha256)
 *   Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding)
 *   ReserveLine(string kind,string custodian,uint256 amount)
 *
 * Version 2 (domain version "2", `publishV2`) gives every deployment an `allocation`: its share of the reserves,
 * the allocations summing to at most `reserves`. The oracle stores the allocation of its own (chain, token), and the
 * token's mint guard compares the local supply with it, so deployments on several chains can never together mint
 * more than the reserves (review finding M-01):
 *
 *   Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding,uint256 allocation)
 *
 * A version-1 attestation carries no allocation: `publish` accepts it only when it lists a single deployment, whose
 * allocation is then the whole reserves.
 */
interface IReserveOracle is AggregatorV3Interface {
    /// @notice One token deployment the attestation covers, and its tokens outstanding at `blockNumber`.
    struct Deployment {
        uint256 chainId;
        address token;
        uint64 blockNumber;
        uint256 outstanding;
    }

    /// @notice One reserve holding: `kind` is "cash", "treasury-bills", "reverse-repo" or "money-market-fund".
    struct ReserveLine {
        string kind;
        string custodian;
        uint256 amount;
    }

    /// @notice What the attestor signs. Amounts in US dollars with 6 decimals; `asOf` in Unix seconds.
    struct Attestation {
        string issuer;
        uint64 asOf;
        Deployment[] deployments;
        uint256 reserves;
        ReserveLine[] lines;
        string accountant;
        bytes32 reportSha256;
    }

    /// @notice A version-2 deployment: as {Deployment}, plus the reserves allocated to it.
    struct DeploymentV2 {
        uint256 chainId;
        address token;
        uint64 blockNumber;
        uint256 outstanding;
        uint256 allocation;
    }

    /// @notice What the attestor signs, version 2: as {Attestation}, with an allocation per deployment.
    struct AttestationV2 {
        string issuer;
        uint64 asOf;
        DeploymentV2[] deployments;
        uint256 reserves;
        ReserveLine[] lines;
        string accountant;
        bytes32 reportSha256;
    }

    /// @notice A version-1 attestation lists `count` deployments: without allocations each could mint the whole
    /// reserves; publish a version-2 attestation instead.
    error ReserveOracleSeveralDeployments(uint256 count);
    /// @notice The allocations add up to `allocations`, more than the attested `reserves`.
    error ReserveOracleAllocationsExceedReserves(uint256 allocations, uint256 reserves);
    /// @notice `attestor` does not hold ATTESTOR_ROLE.
    error ReserveOracleUnauthorizedAttestor(address attestor);
    /// @notice The signature is not `attestor`'s (ECDSA or ERC-1271).
    error ReserveOracleInvalidSignature(address attestor);
    /// @notice The attestation is as of `asOf`, not later than the latest one, as of `latestAsOf` (replay or reorder).
    error ReserveOracleNotNewer(uint64 asOf, uint64 latestAsOf);
    /// @notice The attestation is as of `asOf`, after the block `timestamp`.
    error ReserveOracleFutureAttestation(uint64 asOf, uint256 timestamp);
    /// @notice The attestation does not list this chain (`chainId`) and this oracle's `token`.
    error ReserveOracleDeploymentNotCovered(uint256 chainId, address token);
    /// @notice The reserve lines add up to `linesTotal`, not the attested `reserves`.
    error ReserveOracleLinesMismatch(uint256 reserves, uint256 linesTotal);
    /// @notice Reserves of `reserves` do not fit the feed (at most 2^128 - 1).
    error ReserveOracleReservesTooLarge(uint256 reserves);
    /// @notice No round `roundId` was published.
    error ReserveOracleUnknownRound(uint80 roundId);
    /// @notice The token is the zero address.
    error ReserveOracleZeroToken();

    /// @notice Round `roundId`: `attestor` attested `reserves` for this deployment (the whole reserves for version 1,
    /// this deployment's allocation for version 2) as of `asOf`; `digest` is the signed EIP-712 hash.
    /// @param roundId The new round.
    /// @param attestor The attestor that signed.
    /// @param reserves The attested reserves (this deployment's allocation for a version-2 attestation), in base units.
    /// @param asOf The Unix time the attestation is as of.
    /// @param digest The attestation's EIP-712 digest.
    event ReservesAttested(uint80 indexed roundId, address indexed attestor, uint256 reserves, uint64 asOf, bytes32 digest);

    /**
     * @notice Accepts a signed attestation (anyone may relay it) and makes it the latest round.
     * @dev Emits {ReservesAttested}. Requirements: `attestor` holds ATTESTOR_ROLE and signed `a`; `a.asOf` is later
     * than the latest round's and not after the block time; `a` lists (this chain, `token()`); the lines sum to
     * `a.reserves`, which is below 2^128; `a` lists exactly one deployment (several need version 2's allocations).
     * @param a The attestation (version 1).
     * @param attestor Who signed it.
     * @param signature The attestor's EIP-712 signature.
     * @return roundId The new round.
     */
    function publish(Attestation calldata a, address attestor, bytes calldata signature) external returns (uint80 roundId);

    /**
     * @notice Accepts a signed version-2 attestation and makes this deployment's allocation the latest round.
     * @dev Emits {ReservesAttested} with the allocation. Requirements as {publish}, except that any number of
     * deployments may be listed, their allocations summing to at most `a.reserves`.
     * @param a The attestation (version 2).
     * @param attestor Who signed it.
     * @param signature The attestor's EIP-712 signature (domain version "2").
     * @return roundId The new round.
     */
    function publishV2(AttestationV2 calldata a, address attestor, bytes calldata signature) external returns (uint80 roundId);

    /// @notice When round `roundId` was published (block time); zero for an unknown round.
    /// @param roundId The round.
    function roundPublishedAt(uint80 roundId) external view returns (uint64);

    /// @notice The EIP-712 digest an attestor signs for a version-2 attestation `a`.
    /// @param a The version-2 attestation.
    function attestationDigestV2(AttestationV2 calldata a) external view returns (bytes32);

    /// @notice The latest reserves backing this deployment (US dollars, 6 decimals) and their time; zeros before the
    /// first round.
    /// @return reserves The reserves of the latest attestation, in base units (0 before the first).
    /// @return asOf Its as-of Unix time (0 before the first).
    function latestReserves() external view returns (uint256 reserves, uint256 asOf);

    /// @notice The NetDollar deployment this oracle serves.
    function token() external view returns (address);

    /// @notice The EIP-712 digest an attestor signs for `a`.
    /// @param a The version-1 attestation.
    function attestationDigest(Attestation calldata a) external view returns (bytes32);
}
