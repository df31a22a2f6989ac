// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/**
 * @notice Test-only upgrade target whose storage is incompatible with NetDollar's: it reorders the members of the
 * NetDollar namespace. The Upgrades plugin must refuse it.
 */
contract NetDollarBadLayoutMock is UUPSUpgradeable {
    /// @custom:storage-location erc7201:netdollar.storage.NetDollar
    struct NetDollarStorage {
        uint256 totalSupply;
        mapping(address account => uint256) balanceAndBlocklistState;
    }

    // keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollar")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400;

    function totalSupply() external view returns (uint256 supply) {
        NetDollarStorage storage $;
        assembly ("memory-safe") {
            $.slot := _STORAGE_LOCATION
        }
        supply = $.totalSupply;
    }

    function _authorizeUpgrade(address) internal override {}
}
