import { NonceManager, type Provider } from "ethers";
import { NetDollar__factory } from "../../typechain-types";
import type { Deployment } from "../deployments";
import { DEVNET_ACCOUNT_NAMES, devnetWallet, type DevnetAccountName } from "../devnet";
import { ROLES } from "../roles";
import { deploySystem, resolveRoleHolders } from "./deploy";

const USD = 1_000_000n;

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
 * holds every role, the minter may mint $1,000,000, the agent holds $10,000, the merchant may redeem.
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
    onStep,
  });
  const token = NetDollar__factory.connect(deployment.contracts.NetDollar.address, issuer);
  await (await token.configureMinter(byName("minter").address, 1_000_000n * USD)).wait();
  await (await token.grantRole(ROLES.redeemer.id, byName("merchant").address)).wait();
  const minter = NetDollar__factory.connect(deployment.contracts.NetDollar.address, new NonceManager(devnetWallet(1).connect(provider)));
  await (await minter.mint(byName("agent").address, 10_000n * USD)).wait();
  onStep("minter configured ($1,000,000), agent funded ($10,000), merchant approved to redeem");
  return { deployment, accounts };
}
