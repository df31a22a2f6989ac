// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

interface INetDollarMinter {
    function mint(address to, uint256 amount) external returns (bool);
    function burn(uint256 amount) external;
    function transfer(address to, uint256 amount) external returns (bool);
}

/**
 * @notice Benchmark-only: a configured minter that makes many real NetDollar mints, burns and transfers in one
 * transaction, to build a long event history quickly for `npm run bench:attest`.
 */
contract BenchBatchMinter {
    function mintMany(INetDollarMinter token, address to, uint256 amount, uint256 count) external {
        for (uint256 i; i < count; ++i) token.mint(to, amount);
    }

    function burnMany(INetDollarMinter token, uint256 amount, uint256 count) external {
        for (uint256 i; i < count; ++i) token.burn(amount);
    }

    function transferMany(INetDollarMinter token, address to, uint256 amount, uint256 count) external {
        for (uint256 i; i < count; ++i) token.transfer(to, amount);
    }
}
