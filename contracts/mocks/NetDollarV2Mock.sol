// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NetDollar} from "../token/NetDollar.sol";

/**
 * @notice Test-only upgrade target: NetDollar plus one new function and one new storage namespace.
 * @dev It upgrades an initialized proxy, so it has a reinitializer for its own state only; the plugin's
 * missing-initializer check (which expects a fresh deployment's initializer) does not apply.
 * @custom:oz-upgrades-from NetDollar
 * @custom:oz-upgrades-unsafe-allow missing-initializer
 */
contract NetDollarV2Mock is NetDollar {
    /// @custom:storage-location erc7201:netdollar.storage.NetDollarV2Mock
    struct V2Storage {
        uint256 marker;
    }

    // keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollarV2Mock")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _V2_LOCATION = 0x3dba6c2d2c580cc01256fe14670b18396a45ae37c0f7f15740fde5669e913200;

    function _v2() private pure returns (V2Storage storage $) {
        assembly ("memory-safe") {
            $.slot := _V2_LOCATION
        }
    }

    /// @notice Runs once, in the upgrade transaction (`upgradeToAndCall`).
    function initializeV2(uint256 initialMarker) external reinitializer(2) {
        _v2().marker = initialMarker;
    }

    function setMarker(uint256 newMarker) external onlyRole(UPGRADER_ROLE) {
        _v2().marker = newMarker;
    }

    function marker() external view returns (uint256) {
        return _v2().marker;
    }
}
