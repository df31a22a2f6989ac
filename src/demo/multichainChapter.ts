import { tmpdir } from "node:os";
import path from "node:path";
import { NonceManager, type JsonRpcProvider } from "ethers";
import { NetDollarV2__factory, ReserveOracle__factory, type NetDollarV2 } from "../../typechain-types";
import { formatDollars, parseAmount } from "../amounts";
import { shortAddress } from "../addresses";
import type { Deployment } from "../deployments";
import { checkAttestation, createAttestation, signAttestation, toAttestationDataV2 } from "../attestation";
import { deploySystem, resolveRoleHolders } from "../deploy/deploy";
import { devnetWallet, startHardhatNode } from "../devnet";
import { connect } from "../provider";
import { buildTransparencySite, readTransparency } from "../transparency";
import type { Cast, Story } from "./story";

/** Where the demo writes the transparency page (a fixed path, so that it can be opened after the demo). */
export const DEMO_TRANSPARENCY_DIR = path.join(tmpdir(), "netd-demo-transparency");

/**
 * Chapter 4: the token on a second chain (a devnet node for chain 31338, started for the chapter); one attestation
 * allocates the reserves to both, is published to both oracles, checked across both, and the transparency page is
 * built from the two chains. Returns where the page is.
 */
export async function multichainChapter(story: Story, cast: Cast, home: Deployment, token: NetDollarV2): Promise<string> {
  story.title("One token on two chains: one attestation covers both, and a page anyone can open shows them");
  const provider = cast.issuer.provider!;
  const accountant = await cast.accountant.getAddress();
  const node = await startHardhatNode({ chainId: 31338 });
  let provider2: JsonRpcProvider | undefined;
  try {
    provider2 = await connect({ rpcUrl: node.url });
    const issuer = new NonceManager(devnetWallet(0).connect(provider2));
    const deployment = await deploySystem({
      deployer: issuer,
      chainId: 31338n,
      roles: resolveRoleHolders(31338n, await issuer.getAddress(), {}),
      attestors: [accountant],
    });
    const token2 = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, issuer);
    story.step(`a second chain, 31338 (a devnet node on ${node.url}): the same contracts, NET Dollar at ${shortAddress(await token2.getAddress())}`);
    const minter = devnetWallet(1);
    await (await token2.configureMinter(minter.address, parseAmount("50"))).wait();
    const agent = await cast.agent.getAddress();
    await (await token2.connect(new NonceManager(minter.connect(provider2))).mint(agent, parseAmount("40"))).wait();
    story.step("the minter issues $40.00 there to the agent");

    // A block on the first chain at the second's time (devnets mine only on demand, and Hardhat's in-process clock can
    // lag a second behind), so that both chains have reached the attestation's time.
    const second = BigInt((await provider2.getBlock("latest"))!.timestamp);
    const first = BigInt((await provider.getBlock("latest"))!.timestamp);
    await (provider as unknown as { send(method: string, params: unknown[]): Promise<unknown> }).send("evm_mine", first < second ? [Number(second)] : []);
    const heads = await Promise.all([provider, provider2].map(async (p) => BigInt((await p.getBlock("latest"))!.timestamp)));
    const attestation = await signAttestation(
      await createAttestation({
        issuer: "NET Dollar Inc.",
        accountant: "Example Accountants LLP",
        reportSha256: "0x" + "cd".repeat(32),
        lines: [
          { kind: "cash", custodian: "First Bank", amount: parseAmount("50") },
          { kind: "treasury-bills", custodian: "Custody Trust", amount: parseAmount("100") },
        ],
        asOf: heads[0] < heads[1] ? heads[0] : heads[1],
        deployments: [
          { provider, token: await token.getAddress() },
          { provider: provider2, token: await token2.getAddress() },
        ],
        allocations: { "31337": parseAmount("100"), "31338": parseAmount("50") },
      }),
      cast.accountant,
    );
    story.step("the accountant signs one attestation of $150.00 of reserves: $100.00 allocated to chain 31337, $50.00 to chain 31338");
    const relayers = [cast.relayer, new NonceManager(devnetWallet(8).connect(provider2))];
    for (const [i, d] of [home, deployment].entries()) {
      const oracle = ReserveOracle__factory.connect(d.contracts.ReserveOracle.address, relayers[i]);
      await (await oracle.publishV2(toAttestationDataV2(attestation), attestation.attestor!, attestation.signature!)).wait();
    }
    await (await token2.configureReserveGuard(deployment.contracts.ReserveOracle.address, 35 * 86_400, 0)).wait();
    story.step("it is relayed to the oracle on each chain; chain 31338's mint guard now holds its supply to its $50.00");

    const providers = [provider, provider2];
    const report = await checkAttestation({ document: attestation, providers, trustedAttestors: [accountant] });
    story.step(`netd attest check, across both chains: ${report.verdict.toUpperCase()}`);
    for (const p of report.problems) story.step(`problem: ${p.message}`);
    for (const d of report.deployments)
      story.fact(`chain ${d.chainId}`, `${formatDollars(d.totalSupply ?? 0n)} outstanding, $${formatDollars(d.allocation!, "").trim()} allocated`);
    story.fact("collateralization", report.collateralization);

    const data = await readTransparency({ document: attestation, providers, trustedAttestors: [accountant], maxAgeSeconds: 35n * 86_400n });
    const [page] = buildTransparencySite(DEMO_TRANSPARENCY_DIR, data);
    story.step(
      `the transparency page, built from the two chains and the signed attestation alone (${data.history.length} attestation rounds charted): open ${page}`,
    );
    return page;
  } finally {
    provider2?.destroy();
    await node.stop();
  }
}
