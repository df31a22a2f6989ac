// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Compiled here so that the TypeScript library (which never imports Hardhat) has a typed factory for the proxy
// that NetDollar is deployed behind.
// solhint-disable-next-line no-unused-import
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
