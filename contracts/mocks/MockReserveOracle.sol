// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only reserve oracle whose answer the test sets directly, and which can be made to revert.
contract MockReserveOracle {
    error MockReserveOracleDown();

    uint256 public reserves;
    uint256 public asOf;
    bool public down;
    bool public noToken;

    function set(uint256 reserves_, uint256 asOf_) external {
        reserves = reserves_;
        asOf = asOf_;
    }

    function setDown(bool down_) external {
        down = down_;
    }

    /// @notice Serves whichever token asks (tests of the token check use a real ReserveOracle).
    function token() external view returns (address) {
        if (noToken) revert MockReserveOracleDown();
        return msg.sender;
    }

    /// @notice Makes `token()` revert: an oracle-like contract that does not say which token it serves.
    function setNoToken(bool noToken_) external {
        noToken = noToken_;
    }

    function latestReserves() external view returns (uint256, uint256) {
        if (down) revert MockReserveOracleDown();
        return (reserves, asOf);
    }
}
