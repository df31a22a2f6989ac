import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Multicall3 } from "../../typechain-types";
import { channelsFixture } from "./fixture";

/** The devnet's Multicall3 (the subset the x402 reference facilitator and viem call). */
describe("Multicall3 (devnet)", function () {
  async function fixture() {
    const f = await channelsFixture();
    const multicall = (await (await ethers.getContractFactory("Multicall3")).deploy()) as unknown as Multicall3;
    const i = f.token.interface;
    const ok = { target: f.tokenAddress, callData: i.encodeFunctionData("balanceOf", [f.alice.address]) };
    // Minting from a non-minter reverts with NetDollarNotMinter.
    const bad = { target: f.tokenAddress, callData: i.encodeFunctionData("mint", [f.alice.address, 1n]) };
    return { ...f, multicall, ok, bad, balance: ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [await f.token.balanceOf(f.alice.address)]) };
  }

  it("aggregate returns the block number and every result, and reverts when a call fails", async function () {
    const f = await loadFixture(fixture);
    const [block, data] = await f.multicall.aggregate.staticCall([f.ok, f.ok]);
    expect(block).to.equal(BigInt(await ethers.provider.getBlockNumber())); // eth_call runs on the latest block
    expect(data).to.deep.equal([f.balance, f.balance]);
    await expect(f.multicall.aggregate.staticCall([f.ok, f.bad])).to.be.revertedWithCustomError(f.multicall, "Multicall3CallFailed");
  });

  it("tryAggregate reports failures, or reverts on them when told to", async function () {
    const f = await loadFixture(fixture);
    const results = await f.multicall.tryAggregate.staticCall(false, [f.ok, f.bad]);
    expect(results[0].success).to.equal(true);
    expect(results[0].returnData).to.equal(f.balance);
    expect(results[1].success).to.equal(false);
    expect(f.token.interface.parseError(results[1].returnData)!.name).to.equal("NetDollarNotMinter");
    await expect(f.multicall.tryAggregate.staticCall(true, [f.ok, f.bad])).to.be.revertedWithCustomError(f.multicall, "Multicall3CallFailed");
    expect((await f.multicall.tryAggregate.staticCall(true, [f.ok])).length).to.equal(1);
  });

  it("aggregate3 lets each call say whether it may fail", async function () {
    const f = await loadFixture(fixture);
    const results = await f.multicall.aggregate3.staticCall([
      { ...f.ok, allowFailure: false },
      { ...f.bad, allowFailure: true },
    ]);
    expect(results.map((r) => r.success)).to.deep.equal([true, false]);
    await expect(f.multicall.aggregate3.staticCall([{ ...f.bad, allowFailure: false }]))
      .to.be.revertedWithCustomError(f.multicall, "Multicall3CallFailed")
      .withArgs(0n, (r: string) => r.length > 2);
  });

  it("block getters", async function () {
    const f = await loadFixture(fixture);
    const block = (await ethers.provider.getBlock("latest"))!;
    expect(await f.multicall.getBlockNumber()).to.equal(BigInt(block.number));
    expect(await f.multicall.getCurrentBlockTimestamp()).to.equal(BigInt(block.timestamp));
    expect(await f.multicall.getChainId()).to.equal(f.chainId);
  });
});
