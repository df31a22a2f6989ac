import { ConditionalEscrow__factory, type NetDollar } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import type { Deployment } from "../deployments";
import { readTokenDomain } from "../eip712";
import { fundWithAuthorizationCall, signFunding, signReceipt } from "../escrow/actions";
import { buildPayment, paymentId, toStruct } from "../escrow/payment";
import { simulateAndSend } from "../tx";
import type { Cast, Story } from "./story";

/** Chapter 2: an agent books a service; the money waits in escrow; the verifier's receipt releases it to three creators. */
export async function escrowChapter(story: Story, cast: Cast, deployment: Deployment, token: NetDollar): Promise<void> {
  const provider = cast.issuer.provider!;
  const chainId = (await provider.getNetwork()).chainId;
  const escrowAddress = deployment.contracts.ConditionalEscrow.address;
  const escrow = ConditionalEscrow__factory.connect(escrowAddress, cast.relayer);
  const ctx = { symbol: "NETD" };
  const [agent, marketplace, ...creators] = await Promise.all([cast.agent, cast.merchant, ...cast.creators].map((s) => s.getAddress()));

  story.title("An agent books a service: the money waits in escrow");
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const payment = buildPayment({
    payer: agent,
    token: await token.getAddress(),
    amount: parseAmount("30"),
    payees: [
      { account: creators[0], shareBps: 5_000 },
      { account: creators[1], shareBps: 3_000 },
      { account: creators[2], shareBps: 2_000 },
    ],
    verifier: marketplace,
    now,
    fundWithin: 600n,
    confirmWithin: 86_400n,
  });
  const id = paymentId(payment, escrowAddress, chainId);
  story.step(`the terms: $30 for a video edit, split 50/30/20 between three creators, released when the marketplace confirms delivery`);
  story.step(`payment id ${id.slice(0, 18)}… (the EIP-712 hash of the terms); refunded to the agent if nobody confirms in a day`);
  const signature = await signFunding(cast.agent, await readTokenDomain(token), payment, escrowAddress);
  story.step("the agent signs one EIP-3009 authorization whose nonce is the payment id: it can fund this payment and nothing else");
  await simulateAndSend(fundWithAuthorizationCall(escrow, payment, signature), [], ctx);
  story.step("a relayer submits it (the agent pays no gas)");
  story.fact("held in escrow", formatDollars((await escrow.paymentState(id)).held));
  story.fact("agent balance", formatDollars(await token.balanceOf(agent)));

  story.title("Delivery is confirmed: the receipt releases the money, split three ways");
  const receipt = await signReceipt(cast.merchant, payment, escrowAddress, chainId);
  story.step(`the marketplace ${shortAddress(marketplace)} checks the delivery and signs a receipt (EIP-712, no transaction)`);
  await simulateAndSend(
    Object.assign(() => escrow.confirmWithReceipt(toStruct(payment), receipt), {
      staticCall: () => escrow.confirmWithReceipt.staticCall(toStruct(payment), receipt),
    }),
    [],
    ctx,
  );
  story.step("the relayer submits the receipt; the escrow pays every creator in the same transaction");
  for (const [i, creator] of creators.entries()) story.fact(`creator ${i + 1}`, formatDollars(await token.balanceOf(creator)));
  story.fact("left in escrow", formatDollars((await escrow.paymentState(id)).held));
}
