/**
 * Upgrades the deployed NetDollar proxy through the OpenZeppelin Upgrades plugin, which refuses an implementation
 * whose storage layout or code is unsafe. See docs/operator.md, "Upgrading".
 *
 *   NETD_RPC_URL=https://… NETD_PRIVATE_KEY=<upgrader key>  NETD_UPGRADE_TO=NetDollarV2 \
 *     npx hardhat run scripts/upgrade.ts --network target
 *
 * Environment:
 *   NETD_UPGRADE_TO    contract to upgrade to (required), e.g. NetDollar
 *   NETD_UPGRADE_FROM  contract the proxy runs now, compiled from this repository (default NetDollarV2, what
 *                      `netd deploy` deploys; NetDollar for a version-1 proxy)
 *   NETD_DEPLOYMENT    deployment file (default deployments/<chainId>.json); its implementation is updated
 *   NETD_UPGRADE_DRY_RUN=1  only validate, send nothing
 */
import { artifacts, ethers, upgrades } from "hardhat";
import { defaultDeploymentPath, readDeploymentFor, writeDeployment } from "../src/deployments";
import { getImplementation } from "../src/token/status";

async function main(): Promise<void> {
  const to = process.env.NETD_UPGRADE_TO;
  if (!to) throw new Error("set NETD_UPGRADE_TO to the contract to upgrade to, e.g. NETD_UPGRADE_TO=NetDollar");
  const from = process.env.NETD_UPGRADE_FROM || "NetDollarV2";
  const [signer] = await ethers.getSigners();
  if (!signer) throw new Error("no key: set NETD_PRIVATE_KEY to the upgrader's key");
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const file = process.env.NETD_DEPLOYMENT || defaultDeploymentPath(chainId);
  const deployment = readDeploymentFor(file, chainId);
  const proxy = deployment.contracts.NetDollar.address;

  // Trust the chain, not NETD_UPGRADE_FROM: the running implementation must be `from` as compiled here.
  const running = await ethers.provider.getCode(await getImplementation(ethers.provider, proxy));
  if (!(await compiledAs(from, running))) {
    const candidates = [...new Set(["NetDollar", "NetDollarV2", to].filter((c) => c !== from))];
    const actual: string[] = [];
    for (const c of candidates) if (await compiledAs(c, running)) actual.push(c);
    throw new Error(
      `the proxy ${proxy} does not run ${from} (NETD_UPGRADE_FROM) as compiled here${actual.length ? `: it runs ${actual.join(" or ")}` : ""}; set NETD_UPGRADE_FROM to what it runs`,
    );
  }
  const reference = await ethers.getContractFactory(from, signer);
  const target = await ethers.getContractFactory(to, signer);
  console.log(`validating ${from} -> ${to} (storage layout, initializers, unsafe opcodes) ...`);
  await upgrades.validateUpgrade(reference, target, { kind: "uups" });
  // The CLI deploys without the plugin: register the running implementation's layout with it first.
  await upgrades.forceImport(proxy, reference, { kind: "uups" });
  if (process.env.NETD_UPGRADE_DRY_RUN === "1") {
    console.log("dry run: the upgrade is safe; nothing sent");
    return;
  }
  console.log(`upgrading ${proxy} from ${await getImplementation(ethers.provider, proxy)} ...`);
  const upgraded = await upgrades.upgradeProxy(proxy, target, { kind: "uups" });
  await upgraded.waitForDeployment();
  const implementation = await getImplementation(ethers.provider, proxy);
  writeDeployment(file, { ...deployment, contracts: { ...deployment.contracts, NetDollar: { ...deployment.contracts.NetDollar, implementation } } });
  console.log(`upgraded: ${proxy} now runs ${to} at ${implementation}; ${file} updated`);
}

/**
 * Whether `code` (an implementation's runtime code on chain) is `name`'s deployed bytecode as compiled here: the same
 * length and the same bytes, except in the zero-filled slots where solc leaves the immutables (UUPS's own address).
 */
async function compiledAs(name: string, code: string): Promise<boolean> {
  let compiled: string;
  try {
    compiled = (await artifacts.readArtifact(name)).deployedBytecode;
  } catch {
    return false;
  }
  if (compiled.length !== code.length) return false;
  let differing = 0;
  for (let i = 2; i < code.length; i += 2) {
    if (compiled.slice(i, i + 2) === code.slice(i, i + 2)) continue;
    if (compiled.slice(i, i + 2) !== "00") return false;
    differing++;
  }
  return differing <= 32 * 4;
}

main().catch((error: unknown) => {
  console.error(`upgrade refused: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
