// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {INetDollar} from "../interfaces/INetDollar.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @notice Test-only: reads the token's whole observable state for a set of accounts in one call, so the invariant
 * suites can compare it with their model after every step without hundreds of round trips.
 */
contract InvariantReader {
    struct AccountState {
        uint256 balance;
        bool blocklisted;
        bool minter;
        uint256 minterAllowance;
        uint256 nonce;
    }

    function snapshot(address token, address[] calldata accounts, address[] calldata spenders)
        external
        view
        returns (uint256 totalSupply, bool paused, AccountState[] memory states, uint256[] memory allowances)
    {
        INetDollar t = INetDollar(token);
        totalSupply = IERC20(token).totalSupply();
        paused = t.paused();
        states = new AccountState[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            address a = accounts[i];
            states[i] = AccountState({
                balance: IERC20(token).balanceOf(a),
                blocklisted: t.isBlocklisted(a),
                minter: t.isMinter(a),
                minterAllowance: t.minterAllowance(a),
                nonce: IERC20Permit(token).nonces(a)
            });
        }
        allowances = new uint256[](accounts.length * spenders.length);
        for (uint256 i; i < accounts.length; ++i) {
            for (uint256 j; j < spenders.length; ++j) {
                allowances[i * spenders.length + j] = IERC20(token).allowance(accounts[i], spenders[j]);
            }
        }
    }
}
