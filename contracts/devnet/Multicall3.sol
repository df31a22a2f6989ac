// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title Multicall3 (the read-side subset), for devnets
 * @notice Batches calls into one `eth_call`, with the ABI of the Multicall3 contract that most chains have at
 * 0xcA11bde05977b3631167028862bE2a173976CA11 (and which x402's reference facilitator reads channel state through).
 * A Hardhat node has none there: `netd deploy` on a devnet places this code at that address when it is empty.
 *
 * Only the functions the x402 and viem tooling call: `aggregate`, `tryAggregate` and `aggregate3`, plus the block
 * getters. None accepts ETH.
 */
contract Multicall3 {
    /// @notice A call: its target and calldata.
    struct Call {
        address target;
        bytes callData;
    }

    /// @notice A call that may be allowed to fail.
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    /// @notice A call's outcome.
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Call `index` reverted (and was not allowed to), with `returnData`.
    error Multicall3CallFailed(uint256 index, bytes returnData);

    /**
     * @notice Runs every call; reverts when one fails.
     * @param calls The calls.
     * @return blockNumber The current block number.
     * @return returnData Each call's return data.
     */
    function aggregate(Call[] calldata calls) external returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool success, bytes memory data) = _call(calls[i].target, calls[i].callData);
            if (!success) revert Multicall3CallFailed(i, data);
            returnData[i] = data;
        }
    }

    /**
     * @notice Runs every call; reverts when one fails only if `requireSuccess`.
     * @param requireSuccess Whether a failed call reverts the whole batch.
     * @param calls The calls.
     * @return returnData Each call's outcome.
     */
    function tryAggregate(bool requireSuccess, Call[] calldata calls) external returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool success, bytes memory data) = _call(calls[i].target, calls[i].callData);
            if (requireSuccess && !success) revert Multicall3CallFailed(i, data);
            returnData[i] = Result(success, data);
        }
    }

    /**
     * @notice Runs every call; reverts when one that is not allowed to fail fails.
     * @param calls The calls.
     * @return returnData Each call's outcome.
     */
    function aggregate3(Call3[] calldata calls) external returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool success, bytes memory data) = _call(calls[i].target, calls[i].callData);
            if (!calls[i].allowFailure && !success) revert Multicall3CallFailed(i, data);
            returnData[i] = Result(success, data);
        }
    }

    /// @notice The current block number.
    /// @return The current block number.
    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    /// @notice The current block's timestamp.
    /// @return The current block's timestamp.
    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }

    /// @notice The chain id.
    /// @return The chain id.
    function getChainId() external view returns (uint256) {
        return block.chainid;
    }

    function _call(address target, bytes calldata data) private returns (bool success, bytes memory returnData) {
        // solhint-disable-next-line avoid-low-level-calls
        (success, returnData) = target.call(data);
    }
}
