// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

/**
 * @title Create2Deployer
 * @notice Deploys contracts at addresses that depend only on this deployer's address, a salt and the init code: the
 * same init code under the same salt lands at the same address on every chain where this deployer has the same
 * address. `netd deploy` deploys NET Dollar (its implementation and its proxy) through it, so that the token has one
 * address everywhere, as USDC and the x402 contracts do. On a devnet, `netd devnet` places this code at a fixed
 * address with `hardhat_setCode`.
 * @dev Permissionless and ownerless: whoever deploys the same init code under the same salt gets the same contract
 * (a proxy's initialization is part of its init code), so front-running a deployment changes nothing. Holds no ETH.
 */
contract Create2Deployer {
    /// @notice A contract was deployed at `deployed` under `salt`.
    /// @param deployed The new contract.
    /// @param salt The CREATE2 salt.
    event Deployed(address indexed deployed, bytes32 indexed salt);

    /**
     * @notice Deploys `initCode` with CREATE2 under `salt`; reverts if that address already has code.
     * @param salt The CREATE2 salt.
     * @param initCode The creation code with its ABI-encoded constructor arguments.
     * @return deployed The new contract's address.
     */
    function deploy(bytes32 salt, bytes calldata initCode) external returns (address deployed) {
        deployed = Create2.deploy(0, salt, initCode);
        emit Deployed(deployed, salt);
    }

    /**
     * @notice Where `deploy(salt, initCode)` puts the contract whose init code hashes to `initCodeHash`.
     * @param salt The CREATE2 salt.
     * @param initCodeHash keccak256 of the init code.
     * @return The address.
     */
    function computeAddress(bytes32 salt, bytes32 initCodeHash) external view returns (address) {
        return Create2.computeAddress(salt, initCodeHash);
    }
}
