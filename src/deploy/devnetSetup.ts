import { NonceManager, type Provider } from "ethers";
import { Create2Deployer__factory, NetDollarV2__factory, ReserveOracle__factory } from "../../typechain-types";
import type { JsonRpcProvider } from "ethers";
import { copyCode } from "./channels";
import type { Deployment } from "../deployments";
import { DEVNET_ACCOUNT_NAMES, devnetWallet, type DevnetAccountName } from "../devnet";
import { ROLES } from "../roles";
import { deploySystem, resolveRoleHolders } from "./deploy";
import { createAttestation, signAttestation } from "../attestation/create";
import { toAttestationDataV2 } from "../attestation/document";

const USD = 1_000_000n;

/**
 * Where a devnet has its {@link Create2Deployer} (placed with `hardhat_setCode`, as a real chain has one deployed
 * from a dedicated key): the token deployed through it has the same address on every devnet chain.
 */
export const DEVNET_CREATE2_DEPLOYER = "0xc2d2000000000000000000000000000000000000";

/** Places the CREATE2 deployer on a devnet at {@link DEVNET_CREATE2_DEPLOYER}, unless it is there already. */
export async function placeDevnetCreate2Deployer(deployer: NonceManager, provider: JsonRpcProvider): Promise<string> {
  if ((await provider.getCode(DEVNET_CREATE2_DEPLOYER)) !== "0x") return DEVNET_CREATE2_DEPLOYER;
  const factory = await new Create2Deployer__factory(deployer).deploy();
  await factory.waitForDeployment();
  await copyCode(provider, await factory.getAddress(), DEVNET_CREATE2_DEPLOYER);
  return DEVNET_CREATE2_DEPLOYER;
}

export interface DevnetAccount {
  name: DevnetAccountName;
  address: string;
  /** Hardhat's public test key: printed for devnet use only. */
  privateKey: string;
}

export interface DevnetSetup {
  deployment: Deployment;
  accounts: DevnetAccount[];
}

/**
 * Deploys everything to a fresh devnet and gives the named demo accounts something to work with: the issuer
 * holds every role, the accountant attests $2,000,000 of reserves (published; the reserve guard is on), the minter may
 * mint $1,000,000, the agent holds $10,000, the merchant may redeem.
 */
export async function setupDevnet(provider: Provider, onStep: (message: string) => void = () => undefined): Promise<DevnetSetup> {
  const accounts = DEVNET_ACCOUNT_NAMES.map((name, i) => {
    const wallet = devnetWallet(i);
    return { name, address: wallet.address, privateKey: wallet.privateKey };
  });
  const byName = (name: DevnetAccountName) => accounts.find((a) => a.name === name)!;
  const issuer = new NonceManager(devnetWallet(0).connect(provider));
  const chainId = (await provider.getNetwork()).chainId;
  const deployment = await deploySystem({
    deployer: issuer,
    chainId,
    roles: resolveRoleHolders(chainId, byName("issuer").address, {}),
    attestors: [byName("accountant").address],
    create2Deployer: await placeDevnetCreate2Deployer(issuer, provider as JsonRpcProvider),
    onStep,
  });
  const token = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, issuer);
  // The accountant (the devnet's "auditor" account) attests $2,000,000 of reserves; the guard then holds minting to it.
  const head = (await provider.getBlock("latest"))!;
  const attestation = await signAttestation(
    await createAttestation({
      issuer: "NET Dollar devnet issuer",
      accountant: "Devnet Accountants LLP",
      reportSha256: "0x" + "00".repeat(32),
      lines: [
        { kind: "cash", custodian: "Devnet Bank", amount: 500_000n * USD },
        { kind: "treasury-bills", custodian: "Devnet Custody", amount: 1_500_000n * USD },
      ],
      asOf: BigInt(head.timestamp),
      deployments: [{ provider, token: deployment.contracts.NetDollar.address }],
    }),
    devnetWallet(DEVNET_ACCOUNT_NAMES.indexOf("accountant")),
  );
  const oracle = ReserveOracle__factory.connect(deployment.contracts.ReserveOracle.address, issuer);
  await (await oracle.publishV2(toAttestationDataV2(attestation), attestation.attestor!, attestation.signature!)).wait();
  await (await token.configureReserveGuard(oracle, 35 * 86_400, 0)).wait();
  onStep("reserves of $2,000,000 attested and published; the reserve guard is on (max age 35 days)");
  await (await token.configureMinter(byName("minter").address, 1_000_000n * USD)).wait();
  await (await token.grantRole(ROLES.redeemer.id, byName("merchant").address)).wait();
  const minter = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, new NonceManager(devnetWallet(1).connect(provider)));
  await (await minter.mint(byName("agent").address, 10_000n * USD)).wait();
  onStep("minter configured ($1,000,000), agent funded ($10,000), merchant approved to redeem");
  return { deployment, accounts };
}
