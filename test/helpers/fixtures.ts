import { ethers, upgrades } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { NetDollar, NetDollarV2 } from "../../typechain-types";
import type { INetDollar } from "../../typechain-types/contracts/token/NetDollar";
import { readTokenDomain, type TokenDomain } from "../../src/eip712";

/** 1 dollar in base units. */
export const USD = 1_000_000n;
export const ADMIN_DELAY = 3n * 24n * 3600n;
export const MINTER_ALLOWANCE = 1_000_000n * USD;
export const INITIAL_BALANCE = 1_000n * USD;

export interface Accounts {
  admin: HardhatEthersSigner;
  minterAdmin: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  blocklister: HardhatEthersSigner;
  seizer: HardhatEthersSigner;
  rescuer: HardhatEthersSigner;
  upgrader: HardhatEthersSigner;
  minter: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  other: HardhatEthersSigner;
}

export async function namedAccounts(): Promise<Accounts> {
  const [admin, minterAdmin, pauser, blocklister, seizer, rescuer, upgrader, minter, alice, bob, carol, relayer, other] = await ethers.getSigners();
  return { admin, minterAdmin, pauser, blocklister, seizer, rescuer, upgrader, minter, alice, bob, carol, relayer, other };
}

export interface TokenFixture extends Accounts {
  token: NetDollar;
  domain: TokenDomain;
}

/** Role holders of a fresh deployment, each a different account so that role separation is tested for real. */
export function initParams(a: Accounts): INetDollar.InitParamsStruct {
  return {
    symbol: "NETD",
    admin: a.admin.address,
    adminTransferDelay: ADMIN_DELAY,
    minterAdmin: a.minterAdmin.address,
    pauser: a.pauser.address,
    blocklister: a.blocklister.address,
    seizer: a.seizer.address,
    rescuer: a.rescuer.address,
    upgrader: a.upgrader.address,
  };
}

/**
 * NetDollar behind its UUPS proxy, deployed through the Upgrades plugin (which validates the implementation):
 * version 1 (`NetDollar`) or the current version 2 (`NetDollarV2`, with the reserve guard, off until configured).
 */
export async function deployNetDollar(a: Accounts, contract: "NetDollar" | "NetDollarV2" = "NetDollar"): Promise<NetDollar> {
  const factory = await ethers.getContractFactory(contract);
  const proxy = await upgrades.deployProxy(factory, [initParams(a)], { kind: "uups", initializer: "initialize" });
  await proxy.waitForDeployment();
  return proxy as unknown as NetDollar;
}

/** A deployed token with one minter and two funded holders (alice and bob, 1,000 NETD each). */
export async function tokenFixture(): Promise<TokenFixture> {
  return fundedToken("NetDollar");
}

/** The same, with the current version (NetDollarV2, reserve guard off). */
export async function tokenV2Fixture(): Promise<Omit<TokenFixture, "token"> & { token: NetDollarV2 }> {
  return (await fundedToken("NetDollarV2")) as unknown as Omit<TokenFixture, "token"> & { token: NetDollarV2 };
}

async function fundedToken(contract: "NetDollar" | "NetDollarV2"): Promise<TokenFixture> {
  const accounts = await namedAccounts();
  const token = await deployNetDollar(accounts, contract);
  await token.connect(accounts.minterAdmin).configureMinter(accounts.minter.address, MINTER_ALLOWANCE);
  await token.connect(accounts.minter).mint(accounts.alice.address, INITIAL_BALANCE);
  await token.connect(accounts.minter).mint(accounts.bob.address, INITIAL_BALANCE);
  const domain = await readTokenDomain(token);
  return { ...accounts, token, domain };
}
