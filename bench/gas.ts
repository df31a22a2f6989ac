/**
 * `npm run bench:gas`: measures the gas of every public operation on an in-process Hardhat network (cancun, each
 * transaction alone in its block, so every slot is cold) and writes bench/gas.md and bench/gas.json.
 * A benchmark, not a test: it never fails on a figure, it records it.
 */
import { network } from "hardhat";
import { allWithinBudget, writeGasReport, type GasSection } from "./lib/report";
import { measureTokenGas } from "./token.gas";
import { measureEscrowGas } from "./escrow.gas";
import { measureChannelsGas } from "./channels.gas";
import { measureSplitsGas } from "./splits.gas";

async function main(): Promise<void> {
  const sections: GasSection[] = [await measureTokenGas(), await measureEscrowGas(), (await measureChannelsGas()).section, await measureSplitsGas()];
  const hardhatVersion = (await network.provider.send("web3_clientVersion")) as string;
  writeGasReport(sections, [
    "# Gas",
    "",
    "Whole-transaction `gasUsed` on the in-process Hardhat network (cancun), each transaction alone in its block.",
    `Written by \`npm run bench:gas\` (${hardhatVersion}); do not edit by hand. The snapshot \`bench/gas.json\` holds the same figures.`,
  ]);
  console.log(sections.map((s) => `${s.title}: ${s.rows.length} rows`).join("\n"));
  console.log(allWithinBudget(sections) ? "every budgeted row is within budget" : "SOME ROWS ARE OVER BUDGET: see bench/gas.md");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
