// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only reserve oracle whose answer the test sets directly, and which can be made to revert.
contract MockReserveOracle {
    error MockReserveOracleDown();

    uint256 public reserves;
    uint256 public asOf;
    bool public down;

    function set(uint256 reserves_, uint256 asOf_) external {
        reserves = reserves_;
        asOf = asOf_;
    }

    function setDown(bool down_) external {
        down = down_;
    }

    function latestReserves() external view returns (uint256, uint256) {
        if (down) revert MockReserveOracleDown();
        return (reserves, asOf);
    }
}
