// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

// Chainlink's name, kept so that tools that know it recognise it.
// solhint-disable interface-starts-with-i

/**
 * @title Chainlink's AggregatorV3Interface
 * @notice Chainlink's price and Proof of Reserve feed interface (the same functions and return values as Chainlink's
 * AggregatorV3Interface), so that existing monitors can read NET Dollar's attested reserves.
 */
interface AggregatorV3Interface {
    /// @notice The decimals of the answer (6: the token's).
    function decimals() external view returns (uint8);

    /// @notice What the feed reports.
    function description() external view returns (string memory);

    /// @notice The feed's interface version.
    function version() external view returns (uint256);

    /// @notice The attested reserves of a round, in Chainlink's shape.
    /// @param roundId The round.
    /// @return roundId_ The round.
    /// @return answer The attested reserves, in base units.
    /// @return startedAt The attestation's as-of time.
    /// @return updatedAt When the round was published.
    /// @return answeredInRound The round (answers never carry over).
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The latest attested reserves, in Chainlink's shape.
    /// @return roundId The latest round.
    /// @return answer The attested reserves, in base units.
    /// @return startedAt The attestation's as-of time.
    /// @return updatedAt When the round was published.
    /// @return answeredInRound The round (answers never carry over).
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
