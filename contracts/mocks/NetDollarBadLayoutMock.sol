// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AccessControlDefaultAdminRulesUpgradeable
} from "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/**
 * @notice Test-only upgrade target with the mistake a storage-layout check exists to catch: a new member inserted at
 * the front of NetDollar's namespace, which would shift every balance, allowance and nonce. The Upgrades plugin
 * must refuse it.
 */
contract NetDollarBadLayoutMock is AccessControlDefaultAdminRulesUpgradeable, UUPSUpgradeable {
    /// @custom:storage-location erc7201:netdollar.storage.NetDollar
    struct NetDollarStorage {
        uint256 feeBps; // inserted: everything below moves one slot
        mapping(address account => uint256) balanceAndBlocklistState;
        mapping(address owner => mapping(address spender => uint256)) allowances;
        mapping(address minter => uint256) minterState;
        mapping(address authorizer => mapping(bytes32 nonce => bool)) authorizationStates;
        mapping(address owner => uint256) nonces;
        uint256 totalSupply;
        string symbol;
        uint256 flags;
    }

    // keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollar")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function initialize() external initializer {
        __AccessControlDefaultAdminRules_init(0, msg.sender);
    }

    function feeBps() external view returns (uint256 fee) {
        NetDollarStorage storage $;
        assembly ("memory-safe") {
            $.slot := _STORAGE_LOCATION
        }
        fee = $.feeBps;
    }

    // solhint-disable-next-line no-empty-blocks
    function _authorizeUpgrade(address) internal override {}
}
