import { ethers } from "hardhat";
import type { RevenueSplit, RevenueSplitFactory } from "../typechain-types";
import type { GasRow, GasSection } from "./lib/report";
import { deployBenchNetDollar, gasOf } from "./token.gas";

const USD = 1_000_000n;

/**
 * 0xSplits v1's published estimates (docs.0xsplits.xyz, Appendices, Gas Estimates): `createSplit` of an immutable
 * split, and `distributeETH` the first time (its recipients not yet known to SplitMain). Not the same work: its
 * distribution only credits balances inside SplitMain (each recipient withdraws in a transaction of its own) and it
 * moves ETH, where ours transfers the token to every recipient in the same transaction. It has no 20-recipient row.
 */
const ZEROXSPLITS: Record<string, number | undefined> = {
  "create a split, 2 recipients": 100_741,
  "create a split, 5 recipients": 104_484,
  "create a split, 20 recipients": undefined,
  "distribute to 2 recipients": 91_590,
  "distribute to 5 recipients": 162_619,
  "distribute to 20 recipients": undefined,
};

/** Splits: creation by the factory and distributions of NET Dollar, with 0xSplits' published figures beside them. */
export async function measureSplitsGas(): Promise<GasSection> {
  const signers = await ethers.getSigners();
  const issuer = signers[0];
  const token = await deployBenchNetDollar(issuer);
  const factory = (await ethers.deployContract("RevenueSplitFactory", issuer)) as unknown as RevenueSplitFactory;
  const rows: GasRow[] = [];
  const people = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) =>
      ethers.getAddress("0x" + (BigInt(ethers.id(`bench-recipient-${offset + i}`)) >> 96n).toString(16).padStart(40, "0")),
    ).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const shares = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 10_000 - Math.floor(10_000 / n) * (n - 1) : Math.floor(10_000 / n)));
  let perCall: bigint | undefined;
  for (const n of [2, 3, 5, 20]) {
    const recipients = people(n, n * 100);
    const created = await gasOf(factory.createSplit(recipients, shares(n), recipients[0], 0));
    const split = (await ethers.getContractAt("RevenueSplit", await factory.predictSplit(recipients, shares(n), recipients[0], 0))) as unknown as RevenueSplit;
    // The steady state of pay-per-use: every recipient already holds NET Dollar (paid by earlier distributions).
    for (const r of recipients) await (await token.mint(r, 1n)).wait();
    await (await token.mint(split, 1_000n * USD)).wait();
    const distributed = await gasOf(split.distribute(token, issuer));
    if (n === 3) {
      perCall = distributed / 1_000n;
      continue; // the demo's split: only the per-call row below
    }
    rows.push({ operation: `create a split, ${n} recipients`, measured: { RevenueSplit: created }, reference: ZEROXSPLITS[`create a split, ${n} recipients`] });
    rows.push({ operation: `distribute to ${n} recipients`, measured: { RevenueSplit: distributed }, reference: ZEROXSPLITS[`distribute to ${n} recipients`] });
  }
  rows.push({
    operation: "per paid call: 3 recipients, distributed once per 1,000 calls",
    measured: { RevenueSplit: perCall },
    note: "the distribution's gas / 1,000",
  });
  return {
    title: "Revenue splits",
    columns: ["RevenueSplit"],
    referenceName: "0xSplits v1 (published)",
    rows,
    notes: [
      "Recipients already hold NET Dollar (the steady state of paid calls); a recipient's first payment costs about 17,100 gas more (a zero-to-non-zero storage write of its balance in the token, instead of a non-zero-to-non-zero one).",
      "0xSplits' distributeETH only credits balances inside its SplitMain and each recipient withdraws in a transaction of its own; ours pays every recipient its NET Dollar in the distribution itself, so its figures are not the same work (see bench/splits.gas.ts).",
      "A split is a minimal proxy with its definition in its code: creating one writes no storage, and its cost grows by the 22 bytes of code each recipient adds.",
    ],
  };
}
