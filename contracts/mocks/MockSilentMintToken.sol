// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @notice Test-only token that emits NetDollar's Mint event on `mint`, and can also mint silently: its supply then
 * parts from what its events say, which the auditor's reconciliation must catch and locate.
 */
contract MockSilentMintToken is ERC20 {
    event Mint(address indexed minter, address indexed to, uint256 amount);

    constructor() ERC20("Silent", "SIL") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
        emit Mint(msg.sender, to, amount);
    }

    function silentMint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
