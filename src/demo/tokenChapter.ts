import type { NetDollarError } from "../errors";
import { encodeBytes32String } from "ethers";
import { NetDollarV2__factory, type NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import { resolveRoleHolders, deploySystem } from "../deploy/deploy";
import type { Deployment } from "../deployments";
import { buildAuthorization, readTokenDomain, signTransferAuthorization } from "../eip712";
import { ROLES } from "../roles";
import { authorizationCall } from "../token/authorizations";
import { simulateAndSend } from "../tx";
import type { Cast, Story } from "./story";

const $ = (dollars: string) => parseAmount(dollars);

/** Chapter 1: deploy, mint, an agent pays per call with signed authorizations, a holder redeems. */
export async function tokenChapter(story: Story, cast: Cast): Promise<{ deployment: Deployment; token: NetDollarV2 }> {
  const provider = cast.issuer.provider!;
  const chainId = (await provider.getNetwork()).chainId;
  const [issuer, minter, agent, merchant] = await Promise.all([cast.issuer, cast.minter, cast.agent, cast.merchant].map((s) => s.getAddress()));
  const ctx = { symbol: "NETD" };

  story.title("The issuer launches NET Dollar");
  const deployment = await deploySystem({ deployer: cast.issuer, chainId, roles: resolveRoleHolders(chainId, issuer, {}) });
  const token = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, cast.issuer);
  story.step(`NetDollar deployed behind its upgradeable proxy at ${deployment.contracts.NetDollar.address} (chain ${chainId})`);
  story.step("the issuer holds the admin roles: minter admin, pauser, blocklister, seizer, rescuer, upgrader");

  story.title("A minter is configured and mints against a wire");
  await simulateAndSend(token.configureMinter, [minter, $("1000000")], ctx);
  story.step(`the minter admin lets ${shortAddress(minter)} mint up to ${formatDollars($("1000000"))}`);
  const asMinter = token.connect(cast.minter);
  await simulateAndSend(asMinter.mint, [agent, $("100")], ctx);
  story.step(`the agent wired $100; the minter mints ${formatDollars($("100"))} to the agent ${shortAddress(agent)}`);
  story.fact("minter allowance left", formatDollars(await token.minterAllowance(minter)));
  const tooMuch = await simulateAndSend(asMinter.mint, [agent, $("2000000")], ctx).catch((e: NetDollarError) => e.shortMessage);
  story.step(`minting $2,000,000 is refused before anything is sent: "${tooMuch}"`);

  story.title("An agent pays for an API per call, without paying gas");
  const domain = await readTokenDomain(token);
  const price = $("0.25");
  for (let call = 1; call <= 3; call++) {
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const auth = buildAuthorization({ from: agent, to: merchant, value: price, validForSeconds: 300, now });
    const sig = await signTransferAuthorization(cast.agent, domain, auth, "receive");
    // The merchant submits it (receiveWithAuthorization: only the payee can, so nobody can front-run it).
    await simulateAndSend(authorizationCall(token.connect(cast.merchant), "receive", auth, sig.signature), [], ctx);
    story.step(`call ${call}: the agent signs ${formatDollars(price)} (EIP-3009, nonce ${auth.nonce.slice(0, 10)}…); the merchant collects it`);
  }
  story.fact("agent balance", formatDollars(await token.balanceOf(agent)));
  story.fact("merchant balance", formatDollars(await token.balanceOf(merchant)));

  story.title("The merchant redeems for US dollars");
  await simulateAndSend(token.grantRole, [ROLES.redeemer.id, merchant], ctx);
  story.step("the issuer approves the merchant as a redeemer (KYC done off-chain)");
  const reference = "WIRE-2026-0001";
  await simulateAndSend(token.connect(cast.merchant).redeem, [$("0.50"), encodeBytes32String(reference)], ctx);
  story.step(`the merchant redeems ${formatDollars($("0.50"))} under reference "${reference}": burned on-chain, paid out by wire`);

  story.fact("total supply", formatDollars(await token.totalSupply()));
  story.fact("merchant", formatDollars(await token.balanceOf(merchant)));
  return { deployment, token };
}
