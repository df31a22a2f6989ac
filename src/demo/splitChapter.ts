import express from "express";
import type { NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import type { Deployment } from "../deployments";
import { getSplitStatus, resolveSplitRoutes, SplitDistributor } from "../splits";
import { ChannelClaimer, PayingClient, listen, paywall } from "../x402";
import { startDemoChannels } from "./channels";
import type { Cast, Story } from "./story";

const CALLS = 1_000;

/**
 * Chapter 6: split payments. An AI provider's paid summarization route names a revenue split (70% to itself, 20% and
 * 10% to the two authors whose work it summarizes): the paywall creates the split and makes it the route's receiver;
 * an agent pays a thousand calls over a payment channel; the provider's server claims and settles them into the
 * split, and one distribution pays each its exact share.
 */
export async function splitChapter(story: Story, cast: Cast, deployment: Deployment, token: NetDollarV2): Promise<string> {
  const provider = cast.issuer.provider!;
  const aiProvider = await cast.merchant.getAddress();
  const [author1, author2] = await Promise.all([cast.creators[1].getAddress(), cast.creators[2].getAddress()]);
  const shares = { [aiProvider]: 7000, [author1]: 2000, [author2]: 1000 };

  story.title("Every paid call shares its price: a summarization API pays the authors it draws on");
  const { routes, splits } = await resolveSplitRoutes(
    { "GET /summarize": { price: "$0.001", description: "a summary of two authors' articles", schemes: ["batch-settlement"], split: shares } },
    { factory: deployment.contracts.RevenueSplitFactory.address, signer: cast.merchant },
  );
  const split = splits[0];
  story.step(
    `the route's price names a split (70% the AI provider ${shortAddress(aiProvider)}, 20% author ${shortAddress(author1)}, 10% author ${shortAddress(author2)}): the paywall creates it at ${shortAddress(split)}, an address anyone can recompute from those shares, and makes it the route's receiver`,
  );

  // The channels' receiver is the split; the provider's key only authorizes the claims.
  const channels = await startDemoChannels(cast, token, split, "netd-demo-splits-");
  const { network, asset, facilitator, batch } = channels;
  const app = express();
  app.use(paywall({ routes, payTo: split, network, asset, facilitator, batch }));
  app.get("/summarize", (_req, res) => res.json({ summary: "Two authors agree: small payments, often, add up." }));
  const api = await listen(app, 0);
  try {
    const client = new PayingClient({
      signer: cast.agent,
      channels: { deposit: parseAmount("1.20") },
      controls: { maxPerPayment: parseAmount("0.001"), maxDeposit: parseAmount("1.20") },
    });
    let answered = 0;
    for (let i = 0; i < CALLS; i++) if ((await client.fetch(`${api.url}/summarize`)).status === 200) answered++;
    story.step(`an agent pays ${CALLS} summaries at $0.001 over one payment channel: ${answered} answered`);

    const before = await Promise.all([aiProvider, author1, author2].map((a) => token.balanceOf(a)));
    const claimed = await new ChannelClaimer(batch).claimAndSettle();
    story.step(`the provider's server claims the vouchers and settles ${formatDollars(claimed.settle?.amount ?? 0n)} into the split: two transactions`);
    let distribution: { transaction: string; amount: bigint } | undefined;
    const distributor = new SplitDistributor({
      signer: cast.merchant,
      token: asset.address,
      splits: [split],
      onEvent: (e) => {
        if (e.kind === "distributed") distribution = e;
      },
    });
    await distributor.distributeNow(); // as the claimer's "settled" event does in `netd x402 serve-demo`
    const gained = (await Promise.all([aiProvider, author1, author2].map((a) => token.balanceOf(a)))).map((b, i) => b - before[i]);
    story.step(`one distribution pays the three shares (anyone may send it; here the provider's distributor)`);
    story.fact("AI provider (70%)", formatDollars(gained[0]));
    story.fact("author 1 (20%)", formatDollars(gained[1]));
    story.fact("author 2 (10%)", formatDollars(gained[2]));
    const exact = gained[0] === parseAmount("0.70") && gained[1] === parseAmount("0.20") && gained[2] === parseAmount("0.10");
    story.step(exact ? "exactly their shares of $1.00, to the base unit" : `MISMATCH: ${gained.map((g) => formatDollars(g)).join(" / ")}`);
    const receipt = distribution ? await provider.getTransactionReceipt(distribution.transaction) : null;
    const status = await getSplitStatus(split, asset.address, provider);
    story.fact(
      "distribution gas",
      `${(receipt?.gasUsed ?? 0n).toLocaleString("en-US")} for ${CALLS} calls: ${((receipt?.gasUsed ?? 0n) / BigInt(CALLS)).toLocaleString("en-US")} per call`,
    );
    story.fact("left in the split", formatDollars(status.balance));
    await client.refundChannel(`${api.url}/summarize`);
    return split;
  } finally {
    await api.close();
    await channels.close();
  }
}
