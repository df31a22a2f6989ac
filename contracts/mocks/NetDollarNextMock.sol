// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NetDollarV2} from "../token/NetDollarV2.sol";

/**
 * @notice Test-only upgrade target, the "next version": NetDollarV2 plus one new function and one new storage
 * namespace.
 * @dev It upgrades an initialized proxy, so it has a reinitializer for its own state only; the plugin's
 * missing-initializer check (which expects a fresh deployment's initializer) does not apply.
 * @custom:oz-upgrades-from NetDollarV2
 * @custom:oz-upgrades-unsafe-allow missing-initializer
 */
contract NetDollarNextMock is NetDollarV2 {
    /// @custom:storage-location erc7201:netdollar.storage.NetDollarNextMock
    struct V2Storage {
        uint256 marker;
    }

    // keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollarNextMock")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _NEXT_LOCATION = 0x4b2fb14ea666df3c71fa045404028e3d264eabb3799baa73ccd969ca6d1d7000;

    function _v2() private pure returns (V2Storage storage $) {
        assembly ("memory-safe") {
            $.slot := _NEXT_LOCATION
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
