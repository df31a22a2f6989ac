/**
 * `npm run demo`: the whole NET Dollar story on Hardhat's in-process network (no server to start).
 * Thin on purpose: the story lives in src/demo and uses the same library as the CLI.
 */
import { ethers } from "hardhat";
import { runDemo } from "../src/demo";

async function main(): Promise<void> {
  const [issuer, minter, agent, merchant, creator1, creator2, creator3, accountant, relayer] = await ethers.getSigners();
  const started = Date.now();
  await runDemo({ issuer, minter, agent, merchant, creators: [creator1, creator2, creator3], accountant, relayer });
  const story = (Date.now() - started) / 1000;
  // process.uptime() counts from Node's start: loading Hardhat, its network and the TypeScript included.
  console.log(`\nDemo finished: the story took ${story.toFixed(1)} s, ${process.uptime().toFixed(1)} s since this process started.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
