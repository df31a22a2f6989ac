// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

// Chainlink's name, kept so that tools that know it recognise it.
// solhint-disable interface-starts-with-i

/**
 * @notice Chainlink's price and Proof of Reserve feed interface (the same functions and return values as Chainlink's
 * AggregatorV3Interface), so that existing monitors can read NET Dollar's attested reserves.
 */
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
