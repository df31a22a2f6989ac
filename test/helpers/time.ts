import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";

/** The timestamp of the latest block. */
export async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** Makes the next transaction run in a block with exactly this timestamp. */
export async function atTimestamp(timestamp: bigint): Promise<void> {
  await time.setNextBlockTimestamp(timestamp);
}

/** Runs `fn` and then puts the chain back as it was, so one test can try several timestamps from one state. */
export async function thenRevert<T>(fn: () => Promise<T>): Promise<T> {
  const id: string = await ethers.provider.send("evm_snapshot", []);
  try {
    return await fn();
  } finally {
    await ethers.provider.send("evm_revert", [id]);
  }
}
