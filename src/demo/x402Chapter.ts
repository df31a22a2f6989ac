import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { NetDollarV2 } from "../../typechain-types";
import { formatAmount, formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import { readTokenDomain } from "../eip712";
import { NetDollarFacilitator, PayingClient, PaymentRefusedError, caip2, createDemoApi, createFacilitatorApp, facilitatorByUrl, listen } from "../x402";
import type { Cast, Story } from "./story";

/**
 * Chapter 4: an agent pays a merchant's API per call over x402 (HTTP 402): ten calls at a tenth of a cent, settled
 * on chain by a facilitator, and the merchant's balance grows by exactly one cent. Real HTTP servers on loopback.
 */
export async function x402Chapter(story: Story, cast: Cast, token: NetDollarV2): Promise<{ gasPerCall: bigint }> {
  const provider = cast.issuer.provider!;
  const network = caip2((await provider.getNetwork()).chainId);
  const domain = await readTokenDomain(token);
  const asset = { address: await token.getAddress(), name: domain.name, version: domain.version };
  const merchant = await cast.merchant.getAddress();

  story.title("An agent pays per call over x402 (HTTP 402)");
  const facilitator = new NetDollarFacilitator({ networks: [{ network, provider, relayer: cast.relayer, assets: [asset] }] });
  const facilitatorServer = await listen(createFacilitatorApp(facilitator), 0);
  const api = await listen(createDemoApi({ payTo: merchant, network, asset, facilitator: facilitatorByUrl(facilitatorServer.url) }), 0);
  try {
    story.step(
      `a facilitator verifies and settles payments at ${facilitatorServer.url}, relaying with ${shortAddress(await cast.relayer.getAddress())} (it pays the gas, never holds the money)`,
    );
    story.step(`the merchant's API at ${api.url} charges $0.001 for GET /joke, in NET Dollar on ${network}`);

    const unpaid = await fetch(`${api.url}/joke`);
    const required = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED")!);
    const offer = required.accepts[0];
    story.step(
      `without payment: HTTP ${unpaid.status}, PAYMENT-REQUIRED asks ${formatDollars(BigInt(offer.amount))} (${offer.amount} base units) to ${shortAddress(offer.payTo)}, scheme ${offer.scheme}`,
    );

    const client = new PayingClient({ signer: cast.agent, controls: { maxPerPayment: parseAmount("0.01"), maxTotal: parseAmount("0.05") } });
    story.step("the agent's client may pay at most $0.01 per call and $0.05 in all; it signs an EIP-3009 authorization per call");
    const before = await token.balanceOf(merchant);
    let jokes = 0;
    for (let i = 0; i < 10; i++) {
      const res = await client.fetch(`${api.url}/joke`);
      if (res.status === 200 && ((await res.json()) as { joke?: string }).joke) jokes++;
    }
    const after = await token.balanceOf(merchant);
    const settled = client.payments.filter((p) => p.status === "settled");
    story.step(`ten calls to GET /joke: ${jokes} answered, ${settled.length} payments settled on chain, each in its own transaction`);
    story.fact("first settlement", settled[0]?.transaction ?? "(none)");
    story.fact("merchant received", `${formatDollars(after - before)} (${after - before} base units)`);
    story.fact("agent spent", `${formatAmount(client.spent())} of its $0.05 limit`);
    story.step(
      after - before === parseAmount("0.01")
        ? "the merchant's balance grew by exactly one cent"
        : `MISMATCH: the merchant received ${formatDollars(after - before)}`,
    );
    const receipt = settled[0]?.transaction ? await provider.getTransactionReceipt(settled[0].transaction) : null;

    try {
      await client.fetch(`${api.url}/summarize`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "too dear" }),
      });
    } catch (error) {
      if (!(error instanceof PaymentRefusedError)) throw error;
      story.step(`POST /summarize costs $0.05: the client refuses before signing anything: "${error.shortMessage}"`);
    }
    return { gasPerCall: receipt?.gasUsed ?? 0n };
  } finally {
    await api.close();
    await facilitatorServer.close();
  }
}
