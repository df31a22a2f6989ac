// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "solady/src/tokens/ERC20.sol";

/// @notice Benchmark baseline only: Solady's ERC20 (with its built-in permit), not upgradeable, no pause or blocklist.
contract BenchSoladyToken is ERC20 {
    function name() public pure override returns (string memory) {
        return "Bench Solady";
    }

    function symbol() public pure override returns (string memory) {
        return "BSOL";
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _constantNameHash() internal pure override returns (bytes32) {
        return keccak256("Bench Solady");
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
