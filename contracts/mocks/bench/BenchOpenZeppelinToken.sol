// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @notice Benchmark baseline only: a plain OpenZeppelin ERC20 + permit, not upgradeable, no pause or blocklist.
contract BenchOpenZeppelinToken is ERC20, ERC20Permit {
    constructor() ERC20("Bench OpenZeppelin", "BOZ") ERC20Permit("Bench OpenZeppelin") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
