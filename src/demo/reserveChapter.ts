import type { NetDollarError } from "../errors";
import { ReserveOracle__factory, type NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import type { Deployment } from "../deployments";
import { checkAttestation, createAttestation, signAttestation, toAttestationDataV2 } from "../attestation";
import { simulateAndSend } from "../tx";
import type { Cast, Story } from "./story";

/** Chapter 3: the accountant attests the reserves, the oracle is updated, minting beyond them is refused, the auditor checks. */
export async function reserveChapter(story: Story, cast: Cast, deployment: Deployment, token: NetDollarV2): Promise<void> {
  const provider = cast.issuer.provider!;
  const ctx = { symbol: "NETD" };
  const accountant = cast.accountant;
  const accountantAddress = await accountant.getAddress();
  const oracle = ReserveOracle__factory.connect(deployment.contracts.ReserveOracle.address, cast.issuer);

  story.title("The accountant attests the reserves; minting cannot exceed them");
  await simulateAndSend(oracle.grantRole, [await oracle.ATTESTOR_ROLE(), accountantAddress], ctx);
  story.step(`the issuer authorises the accountant's key ${shortAddress(accountantAddress)} on the reserve oracle`);
  const asOf = BigInt((await provider.getBlock("latest"))!.timestamp);
  const unsigned = await createAttestation({
    issuer: "NET Dollar Inc.",
    accountant: "Example Accountants LLP",
    reportSha256: "0x" + "ab".repeat(32),
    lines: [
      { kind: "cash", custodian: "First Bank", amount: parseAmount("25") },
      { kind: "treasury-bills", custodian: "Custody Trust", amount: parseAmount("75") },
    ],
    asOf,
    deployments: [{ provider, token: await token.getAddress() }],
  });
  const attestation = await signAttestation(unsigned, accountant);
  story.step(
    `the accountant signs: reserves $100.00 (cash $25, treasury bills $75) against ${formatDollars(BigInt(attestation.deployments[0].outstanding))} outstanding at block ${attestation.deployments[0].blockNumber}`,
  );
  await simulateAndSend(oracle.connect(cast.relayer).publishV2, [toAttestationDataV2(attestation), attestation.attestor!, attestation.signature!], ctx);
  story.step("anyone relays the signed attestation to the on-chain oracle (also a Chainlink Proof of Reserve feed)");
  await simulateAndSend(token.configureReserveGuard, [await oracle.getAddress(), 35 * 86_400, 0], ctx);
  story.step("the admin turns the reserve guard on: every mint now checks the attestation (at most 35 days old)");

  const minter = token.connect(cast.minter);
  const agent = await cast.agent.getAddress();
  const refused = await simulateAndSend(minter.mint, [agent, parseAmount("1")], ctx).catch((e: NetDollarError) => e.shortMessage);
  story.step(`minting $1 more is refused: "${refused}"`);
  const headroom = BigInt(attestation.reserves.total) - (await token.totalSupply());
  await simulateAndSend(minter.mint, [agent, headroom], ctx);
  story.step(
    `minting ${formatDollars(headroom)} (the $${formatDollars(BigInt(attestation.reserves.total), "").trim()} of reserves less the ${formatDollars(BigInt(attestation.deployments[0].outstanding))} already in circulation) takes the supply exactly to the reserves: allowed`,
  );

  story.title("The auditor checks: backed, with the evidence (anyone can: no key, only the chain and the signed document)");
  const report = await checkAttestation({ document: attestation, providers: [provider], trustedAttestors: [accountantAddress] });
  const d = report.deployments[0];
  story.step(`netd attest check: ${report.verdict.toUpperCase()}`);
  for (const p of report.problems) story.step(`problem: ${p.message}`);
  story.fact("reserves", `$${formatDollars(report.reserves, "").trim()}`);
  story.fact("outstanding", formatDollars(report.outstanding));
  story.fact("collateralization", report.collateralization);
  story.fact("events reconciled", `${d.reconciliation?.events} (${d.reconciliation?.matches ? "match the supply" : "MISMATCH"})`);
  story.fact("oracle", d.oracle?.agrees ? "agrees with the document" : (d.oracle?.note ?? "-"));
}
