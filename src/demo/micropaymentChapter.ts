import type { NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import { ChannelClaimer, PayingClient, createDemoApi, listen } from "../x402";
import { startDemoChannels } from "./channels";
import type { Cast, Story } from "./story";

const CALLS = 1_000;
const IN_FLIGHT = 50;

/**
 * Chapter 5: micropayments. The agent opens one payment channel with a deposit and pays a thousand calls at a hundredth
 * of a cent with signed vouchers (the last hundred 50 at a time); the merchant's server claims them in one
 * transaction and settles in another; the agent takes the unspent deposit back. Gas per call against `exact`.
 */
export async function micropaymentChapter(story: Story, cast: Cast, token: NetDollarV2, exactGasPerCall: bigint): Promise<void> {
  const provider = cast.issuer.provider!;
  const merchant = await cast.merchant.getAddress();
  const agent = await cast.agent.getAddress();

  story.title("A thousand calls at a hundredth of a cent: one payment channel");
  const channels = await startDemoChannels(cast, token, merchant, "netd-demo-channels-");
  const { network, asset, db, facilitator, batch: server } = channels;
  const api = await listen(createDemoApi({ payTo: merchant, network, asset, facilitator, batch: server }), 0);
  try {
    story.step(
      `the merchant's API now also takes batch-settlement: GET /tick costs $0.0001; its channel store is an embedded PGlite database in ${db.location} (no server to install)`,
    );
    const client = new PayingClient({
      signer: cast.agent,
      channels: { deposit: parseAmount("0.20") },
      controls: { maxPerPayment: parseAmount("0.001"), maxDeposit: parseAmount("0.20") },
    });
    story.step("the agent deposits $0.20 into a channel with the merchant (one EIP-3009 authorization, relayed), then signs a voucher per call");
    const before = await Promise.all([token.balanceOf(merchant), token.balanceOf(agent)]);
    let answered = 0;
    for (let i = 0; i < CALLS - 100; i++) if ((await client.fetch(`${api.url}/tick`)).status === 200) answered++;
    for (let batch = 0; batch < 100 / IN_FLIGHT; batch++) {
      const results = await Promise.all(Array.from({ length: IN_FLIGHT }, () => client.fetch(`${api.url}/tick`)));
      answered += results.filter((r) => r.status === 200).length;
    }
    const paid = client.payments.filter((p) => p.status === "settled");
    const deposit = paid.find((p) => p.deposit !== undefined);
    story.step(
      `${CALLS} calls (the last 100 with ${IN_FLIGHT} in flight on the one channel): ${answered} answered, each paid by a voucher checked in the server's memory and database, no transaction`,
    );
    story.fact("channel", `${paid[0]?.nonce.slice(0, 18)}… holds $0.20 from ${shortAddress(agent)}`);
    story.fact("last voucher", `the agent owes at most ${formatDollars(paid.at(-1)?.ceiling ?? 0n)} in total`);

    const report = await new ChannelClaimer(server).claimAndSettle();
    const merchantGot = (await token.balanceOf(merchant)) - before[0];
    story.step(`the merchant's server claims every voucher in one transaction and settles in another: it received ${formatDollars(merchantGot)}`);
    story.step(
      merchantGot === parseAmount("0.10")
        ? "exactly $0.10: a thousand times a hundredth of a cent"
        : `MISMATCH: the merchant received ${formatDollars(merchantGot)}`,
    );

    const refund = await client.refundChannel(`${api.url}/tick`);
    const agentSpent = before[1] - (await token.balanceOf(agent));
    story.step(`the agent asks for its unspent deposit back (a cooperative refund): it spent ${formatDollars(agentSpent)} in all`);

    const receipts = await Promise.all(
      [deposit?.transaction, ...report.claims.map((c) => c.transaction), report.settle?.transaction, refund.settlement.transaction]
        .filter((h): h is string => !!h)
        .map((h) => provider.getTransactionReceipt(h)),
    );
    const gas = receipts.reduce((sum, r) => sum + (r?.gasUsed ?? 0n), 0n);
    story.fact("transactions", `${receipts.length} (deposit, claim, settle, refund) for ${CALLS} paid calls`);
    story.fact(
      "gas per call",
      `${(gas / BigInt(CALLS)).toLocaleString("en-US")} over a channel, against ${exactGasPerCall.toLocaleString("en-US")} for an exact payment (${(Number(exactGasPerCall) / Number(gas / BigInt(CALLS))).toFixed(0)}× less)`,
    );
  } finally {
    await api.close();
    await channels.close();
  }
}
