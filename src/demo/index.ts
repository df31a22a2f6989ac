import type { NetDollar } from "../../typechain-types";
import { formatDollars } from "../amounts";
import type { Cast } from "./story";
import { Story } from "./story";
import { escrowChapter } from "./escrowChapter";
import { reserveChapter } from "./reserveChapter";
import { multichainChapter } from "./multichainChapter";
import { tokenChapter } from "./tokenChapter";
import { x402Chapter } from "./x402Chapter";
import { micropaymentChapter } from "./micropaymentChapter";
import { splitChapter } from "./splitChapter";
import { mandateChapter } from "./mandateChapter";

export type { Cast } from "./story";

/** The last word: every balance, and proof that they add up to the supply. */
async function whereTheMoneyIs(story: Story, cast: Cast, token: NetDollar, extra: [string, string][] = []): Promise<void> {
  story.title("Where every dollar is");
  const holders: [string, string][] = [
    ["issuer", await cast.issuer.getAddress()],
    ["minter", await cast.minter.getAddress()],
    ["agent", await cast.agent.getAddress()],
    ["merchant", await cast.merchant.getAddress()],
    ...(await Promise.all(cast.creators.map(async (c, i): Promise<[string, string]> => [`creator ${i + 1}`, await c.getAddress()]))),
    ["accountant", await cast.accountant.getAddress()],
    ...extra,
  ];
  let sum = 0n;
  for (const [name, address] of holders) {
    const balance = await token.balanceOf(address);
    sum += balance;
    if (balance > 0n) story.fact(name, formatDollars(balance));
  }
  const supply = await token.totalSupply();
  story.fact("total supply", formatDollars(supply));
  story.step(sum === supply ? "the balances add up to the supply, to the last base unit" : `MISMATCH: balances sum to ${formatDollars(sum)}`);
}

/**
 * The whole NET Dollar story, chapter by chapter, on whatever chain the cast's signers are connected to
 * (`npm run demo` uses Hardhat's in-process network).
 */
export async function runDemo(cast: Cast, write?: (line: string) => void): Promise<void> {
  const story = new Story(write);
  const { deployment, token } = await tokenChapter(story, cast);
  await escrowChapter(story, cast, deployment, token);
  await reserveChapter(story, cast, deployment, token);
  await multichainChapter(story, cast, deployment, token);
  const exact = await x402Chapter(story, cast, token);
  await micropaymentChapter(story, cast, token, exact.gasPerCall);
  const split = await splitChapter(story, cast, deployment, token);
  await mandateChapter(story, cast, token);
  await whereTheMoneyIs(story, cast, token, [
    ["revenue split", split],
    ["escrow", deployment.contracts.ConditionalEscrow.address],
    ["payment channels", deployment.contracts.BatchSettlement?.address ?? ""],
  ]);
}
