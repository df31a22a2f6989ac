import { getCreate2Address, id, keccak256, type Signer, type TransactionReceipt } from "ethers";
import {
  ConditionalEscrow__factory,
  Create2Deployer__factory,
  ERC1967Proxy__factory,
  NetDollarV2__factory,
  ReserveOracle__factory,
  RevenueSplitFactory__factory,
} from "../../typechain-types";
import { ConfigurationError } from "../errors";
import type { ContractRecord, Deployment } from "../deployments";
import { toNetDollarError } from "../decode";
import { PACKAGE_VERSION } from "../version";
import { channelsHaveCode, deployChannels } from "./channels";

/** Holders of the token's roles at deployment. */
export interface RoleHolders {
  admin: string;
  minterAdmin: string;
  pauser: string;
  blocklister: string;
  seizer: string;
  rescuer: string;
  upgrader: string;
}

export const ROLE_FLAGS: Record<keyof RoleHolders, string> = {
  admin: "--admin",
  minterAdmin: "--minter-admin",
  pauser: "--pauser",
  blocklister: "--blocklister",
  seizer: "--seizer",
  rescuer: "--rescuer",
  upgrader: "--upgrader",
};

import { isDevnet } from "../devnet";

export { isDevnet };

/**
 * On a devnet, every role not given defaults to the deployer; on any other chain every role must be given
 * explicitly, so that a production deployment never leaves a role with a hot deployer key by accident.
 */
export function resolveRoleHolders(chainId: bigint, deployer: string, given: Partial<RoleHolders>): RoleHolders {
  const missing = (Object.keys(ROLE_FLAGS) as (keyof RoleHolders)[]).filter((k) => !given[k]);
  if (missing.length && !isDevnet(chainId)) {
    throw new ConfigurationError(`chain ${chainId} is not a devnet: every role holder must be given`, {
      details: `missing ${missing.map((k) => ROLE_FLAGS[k]).join(", ")}`,
    });
  }
  const holders = {} as RoleHolders;
  for (const key of Object.keys(ROLE_FLAGS) as (keyof RoleHolders)[]) holders[key] = given[key] ?? deployer;
  return holders;
}

/** Parameters of {@link deploySystem}. */
export interface DeploySystemParameters {
  deployer: Signer;
  chainId: bigint;
  roles: RoleHolders;
  symbol?: string;
  /** Seconds between scheduling and accepting a default admin transfer (default: 0 on a devnet, 2 days elsewhere). */
  adminTransferDelay?: bigint;
  /** A deployment already on this chain: contracts that still have code there are kept, not redeployed. */
  existing?: Deployment;
  /** Redeploy everything even if `existing` has it. */
  fresh?: boolean;
  /** Accounts that may sign reserve attestations for the ReserveOracle (more can be added by the admin). */
  attestors?: string[];
  /**
   * A `Create2Deployer` to deploy the token through, so that it has the same address on every chain (given the same
   * deployer address and roles); without it the token's address follows the deployer's nonce.
   */
  create2Deployer?: string;
  /** Progress messages, for the CLI. */
  onStep?: (message: string) => void;
}

/**
 * Deploys NetDollar behind an ERC-1967 (UUPS) proxy, initialized in the same transaction so nobody can front-run
 * the initializer (the current version, NetDollarV2), the ConditionalEscrow, a ReserveOracle for the token and the
 * x402 batch-settlement channel contract with its EIP-3009 deposit collector (see {@link deployChannels}); returns the deployment record to write to `deployments/<chainId>.json`.
 *
 * @example
 * const deployment = await deploySystem({ deployer, chainId: 31337n, roles: resolveRoleHolders(31337n, deployer.address, {}) });
 */
export async function deploySystem(params: DeploySystemParameters): Promise<Deployment> {
  const step = params.onStep ?? (() => undefined);
  const provider = params.deployer.provider!;
  const deployerAddress = await params.deployer.getAddress();
  const keep = async (record: ContractRecord | undefined): Promise<boolean> =>
    !params.fresh && record !== undefined && (await provider.getCode(record.address)) !== "0x";

  const contracts: Deployment["contracts"] = { ...(params.existing?.contracts ?? {}) } as Deployment["contracts"];
  let roles = params.existing?.roles ?? {};

  if (await keep(params.existing?.contracts.NetDollar)) {
    step(`NetDollar already deployed at ${params.existing!.contracts.NetDollar.address} (use --fresh to redeploy)`);
  } else {
    const delay = params.adminTransferDelay ?? (isDevnet(params.chainId) ? 0n : 2n * 24n * 3600n);
    try {
      const init = NetDollarV2__factory.createInterface().encodeFunctionData("initialize", [
        { symbol: params.symbol ?? "NETD", adminTransferDelay: delay, ...params.roles },
      ]);
      const { implementation, proxy, receipt } = params.create2Deployer
        ? await deployTokenDeterministically(params.deployer, params.create2Deployer, init, step)
        : await deployToken(params.deployer, init, step);
      contracts.NetDollar = { address: proxy, implementation, blockNumber: receipt.blockNumber, txHash: receipt.hash };
      roles = { ...params.roles };
    } catch (error) {
      throw toNetDollarError(error);
    }
    step(`NetDollar deployed at ${contracts.NetDollar.address}`);
  }

  if (await keep(params.existing?.contracts.ConditionalEscrow)) {
    step(`ConditionalEscrow already deployed at ${params.existing!.contracts.ConditionalEscrow.address}`);
  } else {
    try {
      step("deploying ConditionalEscrow (no owner, not upgradeable)");
      const escrow = await new ConditionalEscrow__factory(params.deployer).deploy();
      const receipt = await escrow.deploymentTransaction()!.wait();
      contracts.ConditionalEscrow = { address: await escrow.getAddress(), blockNumber: receipt!.blockNumber, txHash: receipt!.hash };
    } catch (error) {
      throw toNetDollarError(error);
    }
    step(`ConditionalEscrow deployed at ${contracts.ConditionalEscrow.address}`);
  }

  const oracleRecord = params.existing?.contracts.ReserveOracle;
  const oracleServesToken =
    oracleRecord !== undefined &&
    (await keep(oracleRecord)) &&
    (await ReserveOracle__factory.connect(oracleRecord.address, provider).token()).toLowerCase() === contracts.NetDollar.address.toLowerCase();
  if (oracleServesToken) {
    step(`ReserveOracle already deployed at ${oracleRecord.address}`);
  } else {
    try {
      step("deploying ReserveOracle (attestors: none yet; the admin adds them)");
      const delay = params.adminTransferDelay ?? (isDevnet(params.chainId) ? 0n : 2n * 24n * 3600n);
      const oracle = await new ReserveOracle__factory(params.deployer).deploy(contracts.NetDollar.address, params.roles.admin, delay, params.attestors ?? []);
      const receipt = await oracle.deploymentTransaction()!.wait();
      contracts.ReserveOracle = { address: await oracle.getAddress(), blockNumber: receipt!.blockNumber, txHash: receipt!.hash };
    } catch (error) {
      throw toNetDollarError(error);
    }
    step(`ReserveOracle deployed at ${contracts.ReserveOracle.address} (the token's reserve guard stays off until the admin configures it)`);
  }

  const existingChannels = { BatchSettlement: contracts.BatchSettlement, ERC3009DepositCollector: contracts.ERC3009DepositCollector };
  if (!params.fresh && (await channelsHaveCode(provider, existingChannels))) {
    step(`BatchSettlement already at ${contracts.BatchSettlement.address}`);
  } else {
    Object.assign(contracts, await deployChannels({ deployer: params.deployer, devnet: isDevnet(params.chainId), onStep: step }));
  }

  // Last, so that adding it left every earlier contract's address where it was.
  if (await keep(params.existing?.contracts.RevenueSplitFactory)) {
    step(`RevenueSplitFactory already deployed at ${params.existing!.contracts.RevenueSplitFactory.address}`);
  } else {
    try {
      step("deploying RevenueSplitFactory (no owner; splits are minimal proxies at addresses derived from their recipients)");
      const factory = await new RevenueSplitFactory__factory(params.deployer).deploy();
      const receipt = await factory.deploymentTransaction()!.wait();
      contracts.RevenueSplitFactory = { address: await factory.getAddress(), blockNumber: receipt!.blockNumber, txHash: receipt!.hash };
    } catch (error) {
      throw toNetDollarError(error);
    }
    step(`RevenueSplitFactory deployed at ${contracts.RevenueSplitFactory.address}`);
  }

  return {
    chainId: Number(params.chainId),
    deployer: params.existing && !params.fresh ? params.existing.deployer : deployerAddress,
    version: PACKAGE_VERSION,
    contracts,
    roles,
  };
}

/** The token's implementation and proxy, deployed by the deployer (CREATE: their addresses follow its nonce). */
async function deployToken(
  deployer: Signer,
  init: string,
  step: (m: string) => void,
): Promise<{ implementation: string; proxy: string; receipt: TransactionReceipt }> {
  step("deploying the NetDollar implementation (NetDollarV2)");
  const implementation = await new NetDollarV2__factory(deployer).deploy();
  await implementation.waitForDeployment();
  step("deploying the proxy and initializing it");
  const proxy = await new ERC1967Proxy__factory(deployer).deploy(await implementation.getAddress(), init);
  const receipt = (await proxy.deploymentTransaction()!.wait())!;
  return { implementation: await implementation.getAddress(), proxy: await proxy.getAddress(), receipt };
}

/** Salts of the token's CREATE2 deployment: one implementation per code, one proxy per initialization. */
export const TOKEN_SALTS = { implementation: id("netd:NetDollarV2 implementation"), proxy: id("netd:NetDollar proxy") } as const;

/**
 * The token's implementation and proxy, deployed through a {@link Create2Deployer}: their addresses depend only on
 * that deployer's address, the code and the initialization (roles, symbol, delay), so the same issuer gets the same
 * token address on every chain where the deployer is at the same address. An implementation already there is reused.
 */
async function deployTokenDeterministically(
  deployer: Signer,
  factoryAddress: string,
  init: string,
  step: (m: string) => void,
): Promise<{ implementation: string; proxy: string; receipt: TransactionReceipt }> {
  const provider = deployer.provider!;
  if ((await provider.getCode(factoryAddress)) === "0x") throw new ConfigurationError(`there is no CREATE2 deployer at ${factoryAddress}`);
  const factory = Create2Deployer__factory.connect(factoryAddress, deployer);
  const place = async (salt: string, initCode: string, what: string): Promise<{ address: string; receipt?: TransactionReceipt }> => {
    const address = getCreate2Address(factoryAddress, salt, keccak256(initCode));
    if ((await provider.getCode(address)) !== "0x") {
      step(`${what} already at ${address} (CREATE2)`);
      return { address };
    }
    step(`deploying ${what} through the CREATE2 deployer ${factoryAddress}`);
    const receipt = (await (await factory.deploy(salt, initCode)).wait())!;
    return { address, receipt };
  };
  const implementation = await place(TOKEN_SALTS.implementation, NetDollarV2__factory.bytecode, "the NetDollar implementation (NetDollarV2)");
  const proxyCode = (await new ERC1967Proxy__factory().getDeployTransaction(implementation.address, init)).data;
  const proxy = await place(TOKEN_SALTS.proxy, proxyCode, "the proxy, initialized in its constructor");
  if (!proxy.receipt) throw new ConfigurationError(`NetDollar with these roles is already deployed at ${proxy.address} by the CREATE2 deployer`);
  return { implementation: implementation.address, proxy: proxy.address, receipt: proxy.receipt };
}
