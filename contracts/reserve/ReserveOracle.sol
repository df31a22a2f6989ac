// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IReserveOracle} from "../interfaces/IReserveOracle.sol";

/**
 * @title ReserveOracle
 * @notice See {IReserveOracle}. Attestors are managed by the admin (OpenZeppelin AccessControlDefaultAdminRules:
 * the admin itself changes only in two steps, after a delay). Not upgradeable: a new oracle is deployed and the
 * token pointed at it.
 * @dev The latest round is one storage word (reserves, asOf, round id), so the token's mint guard reads it with a
 * single cold SLOAD.
 */
contract ReserveOracle is IReserveOracle, AccessControlDefaultAdminRules {
    /// @notice May sign attestations.
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");

    /// @notice The EIP-712 type hash of a version-1 deployment line.
    bytes32 public constant DEPLOYMENT_TYPEHASH =
        keccak256("Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding)");
    /// @notice The EIP-712 type hash of a reserve line (kind, custodian, amount).
    bytes32 public constant RESERVE_LINE_TYPEHASH = keccak256("ReserveLine(string kind,string custodian,uint256 amount)");
    /// @notice The EIP-712 type hash of a version-1 attestation.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "ReserveAttestation(string issuer,uint64 asOf,Deployment[] deployments,uint256 reserves,ReserveLine[] lines,string accountant,bytes32 reportSha256)Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding)ReserveLine(string kind,string custodian,uint256 amount)"
    );
    /// @notice The domain has no chain id or contract: the attestation lists the chains and tokens it covers.
    bytes32 public constant DOMAIN_SEPARATOR = keccak256(
        abi.encode(
            keccak256("EIP712Domain(string name,string version)"),
            keccak256("NET Dollar Reserve Attestation"),
            keccak256("1")
        )
    );

    /// @notice Version 2: every deployment has an allocation of the reserves.
    bytes32 public constant DEPLOYMENT_V2_TYPEHASH =
        keccak256("Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding,uint256 allocation)");
    /// @notice The EIP-712 type hash of a version-2 attestation (deployments with allocations).
    bytes32 public constant ATTESTATION_V2_TYPEHASH = keccak256(
        "ReserveAttestation(string issuer,uint64 asOf,Deployment[] deployments,uint256 reserves,ReserveLine[] lines,string accountant,bytes32 reportSha256)Deployment(uint256 chainId,address token,uint64 blockNumber,uint256 outstanding,uint256 allocation)ReserveLine(string kind,string custodian,uint256 amount)"
    );
    /// @notice The EIP-712 domain of version-2 attestations (name and version only).
    bytes32 public constant DOMAIN_SEPARATOR_V2 = keccak256(
        abi.encode(
            keccak256("EIP712Domain(string name,string version)"),
            keccak256("NET Dollar Reserve Attestation"),
            keccak256("2")
        )
    );

    struct Round {
        uint128 reserves;
        uint64 asOf;
        uint64 publishedAt;
    }

    // The name is the interface's (`token()`).
    // solhint-disable immutable-vars-naming
    /// @inheritdoc IReserveOracle
    address public immutable token;
    // solhint-enable immutable-vars-naming

    /// @dev The latest round, packed: reserves (128 bits), asOf (64), round id (64).
    uint256 private _latest;
    mapping(uint80 roundId => Round) private _rounds;

    constructor(address token_, address admin, uint48 adminDelay, address[] memory attestors)
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        if (token_ == address(0)) revert ReserveOracleZeroToken();
        token = token_;
        for (uint256 i; i < attestors.length; ++i) {
            _grantRole(ATTESTOR_ROLE, attestors[i]);
        }
    }

    /// @inheritdoc IReserveOracle
    function publish(Attestation calldata a, address attestor, bytes calldata signature) external returns (uint80 roundId) {
        // Without allocations, every deployment listed would be backed by the whole reserves (review finding M-01).
        if (a.deployments.length != 1) revert ReserveOracleSeveralDeployments(a.deployments.length);
        bytes32 digest = attestationDigest(a);
        _checkSigned(attestor, digest, signature);
        if (a.deployments[0].chainId != block.chainid || a.deployments[0].token != token) {
            revert ReserveOracleDeploymentNotCovered(block.chainid, token);
        }
        return _record(a.asOf, a.reserves, _linesTotal(a.lines), a.reserves, attestor, digest);
    }

    /// @inheritdoc IReserveOracle
    function publishV2(AttestationV2 calldata a, address attestor, bytes calldata signature) external returns (uint80 roundId) {
        bytes32 digest = attestationDigestV2(a);
        _checkSigned(attestor, digest, signature);
        uint256 allocations;
        uint256 allocation;
        bool covered;
        for (uint256 i; i < a.deployments.length; ++i) {
            DeploymentV2 calldata d = a.deployments[i];
            allocations += d.allocation;
            if (!covered && d.chainId == block.chainid && d.token == token) {
                covered = true;
                allocation = d.allocation;
            }
        }
        if (!covered) revert ReserveOracleDeploymentNotCovered(block.chainid, token);
        if (allocations > a.reserves) revert ReserveOracleAllocationsExceedReserves(allocations, a.reserves);
        return _record(a.asOf, a.reserves, _linesTotal(a.lines), allocation, attestor, digest);
    }

    /// @inheritdoc IReserveOracle
    function roundPublishedAt(uint80 roundId) external view returns (uint64) {
        return _rounds[roundId].publishedAt;
    }

    function _checkSigned(address attestor, bytes32 digest, bytes calldata signature) private view {
        if (!hasRole(ATTESTOR_ROLE, attestor)) revert ReserveOracleUnauthorizedAttestor(attestor);
        if (!SignatureChecker.isValidSignatureNowCalldata(attestor, digest, signature)) {
            revert ReserveOracleInvalidSignature(attestor);
        }
    }

    function _linesTotal(ReserveLine[] calldata lines) private pure returns (uint256 total) {
        for (uint256 i; i < lines.length; ++i) {
            total += lines[i].amount;
        }
    }

    /// @dev Makes `backing` (what backs this deployment) as of `asOf` the latest round, after the common checks.
    function _record(uint64 asOf, uint256 reserves, uint256 linesTotal, uint256 backing, address attestor, bytes32 digest)
        private
        returns (uint80 roundId)
    {
        uint256 latest = _latest;
        uint64 latestAsOf = uint64(latest >> 128);
        // solhint-disable-next-line gas-strict-inequalities
        if (asOf <= latestAsOf) revert ReserveOracleNotNewer(asOf, latestAsOf);
        if (asOf > block.timestamp) revert ReserveOracleFutureAttestation(asOf, block.timestamp);
        if (linesTotal != reserves) revert ReserveOracleLinesMismatch(reserves, linesTotal);
        if (reserves > type(uint128).max) revert ReserveOracleReservesTooLarge(reserves);

        roundId = uint80(uint64(latest >> 192) + 1);
        _latest = backing | (uint256(asOf) << 128) | (uint256(roundId) << 192);
        _rounds[roundId] = Round({reserves: uint128(backing), asOf: asOf, publishedAt: uint64(block.timestamp)});
        emit ReservesAttested(roundId, attestor, backing, asOf, digest);
    }

    /// @inheritdoc IReserveOracle
    function latestReserves() external view returns (uint256 reserves, uint256 asOf) {
        uint256 latest = _latest;
        return (uint128(latest), uint64(latest >> 128));
    }

    /// @inheritdoc IReserveOracle
    function attestationDigest(Attestation calldata a) public pure returns (bytes32) {
        bytes32[] memory deployments = new bytes32[](a.deployments.length);
        for (uint256 i; i < deployments.length; ++i) {
            Deployment calldata d = a.deployments[i];
            deployments[i] = keccak256(abi.encode(DEPLOYMENT_TYPEHASH, d.chainId, d.token, d.blockNumber, d.outstanding));
        }
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                keccak256(bytes(a.issuer)),
                a.asOf,
                keccak256(abi.encodePacked(deployments)),
                a.reserves,
                _linesHash(a.lines),
                keccak256(bytes(a.accountant)),
                a.reportSha256
            )
        );
        return MessageHashUtils.toTypedDataHash(DOMAIN_SEPARATOR, structHash);
    }

    /// @inheritdoc IReserveOracle
    function attestationDigestV2(AttestationV2 calldata a) public pure returns (bytes32) {
        bytes32[] memory deployments = new bytes32[](a.deployments.length);
        for (uint256 i; i < deployments.length; ++i) {
            DeploymentV2 calldata d = a.deployments[i];
            deployments[i] = keccak256(
                abi.encode(DEPLOYMENT_V2_TYPEHASH, d.chainId, d.token, d.blockNumber, d.outstanding, d.allocation)
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_V2_TYPEHASH,
                keccak256(bytes(a.issuer)),
                a.asOf,
                keccak256(abi.encodePacked(deployments)),
                a.reserves,
                _linesHash(a.lines),
                keccak256(bytes(a.accountant)),
                a.reportSha256
            )
        );
        return MessageHashUtils.toTypedDataHash(DOMAIN_SEPARATOR_V2, structHash);
    }

    function _linesHash(ReserveLine[] calldata reserveLines) private pure returns (bytes32) {
        bytes32[] memory lines = new bytes32[](reserveLines.length);
        for (uint256 i; i < lines.length; ++i) {
            ReserveLine calldata line = reserveLines[i];
            lines[i] = keccak256(
                abi.encode(RESERVE_LINE_TYPEHASH, keccak256(bytes(line.kind)), keccak256(bytes(line.custodian)), line.amount)
            );
        }
        return keccak256(abi.encodePacked(lines));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Chainlink AggregatorV3Interface (Proof of Reserve): answer = reserves in US dollars, 6 decimals;
    // startedAt = updatedAt = the attestation's time (what a staleness monitor must look at).
    // ---------------------------------------------------------------------------------------------------------------

    /// @inheritdoc AggregatorV3Interface
    function decimals() external pure returns (uint8) {
        return 6;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external pure returns (string memory) {
        return "NET Dollar reserves (USD, attested)";
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round memory r = _rounds[roundId];
        if (r.asOf == 0) revert ReserveOracleUnknownRound(roundId);
        return (roundId, int256(uint256(r.reserves)), r.asOf, r.asOf, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint256 latest = _latest;
        roundId = uint80(latest >> 192);
        uint64 asOf = uint64(latest >> 128);
        return (roundId, int256(uint256(uint128(latest))), asOf, asOf, roundId);
    }
}
