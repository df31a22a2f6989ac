import type { JsonRpcProvider, Provider, Signer } from "ethers";
import { BatchSettlement__factory, ERC3009DepositCollector__factory, Multicall3__factory } from "../../typechain-types";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, MULTICALL3_ADDRESS } from "../x402/batch/channel";
import type { ContractRecord } from "../deployments";
import { toNetDollarError } from "../decode";

/** Where the payment-channel contracts of a deployment are, and how they got there. */
export interface ChannelContracts {
  BatchSettlement: ContractRecord;
  ERC3009DepositCollector: ContractRecord;
}

/** Parameters of {@link deployChannels}. */
export interface DeployChannelsParameters {
  deployer: Signer;
  /** True on a devnet (Hardhat node): the contracts are placed at the canonical addresses with `hardhat_setCode`. */
  devnet: boolean;
  onStep?: (message: string) => void;
}

/**
 * Makes the x402 `batch-settlement` contracts available, where the reference client and facilitator expect them:
 *
 * - on a devnet, our channel contract and collector at the canonical addresses
 *   (0x4020074e…0003 and 0x4020806…0004): each is deployed once with the canonical address as its home (so the
 *   immutables in its runtime code, the EIP-712 domain separator and the collector's channel contract, are right
 *   there), and its runtime code is copied there with `hardhat_setCode`; plus a Multicall3 at 0xcA11…CA11 when that
 *   address is empty;
 * - on any other chain, the contracts at the canonical addresses when they have code (the reference deployment),
 *   otherwise ours, deployed at ordinary addresses.
 *
 * @example
 * const channels = await deployChannels({ deployer, devnet: true });
 */
export async function deployChannels(params: DeployChannelsParameters): Promise<ChannelContracts> {
  const step = params.onStep ?? (() => undefined);
  const provider = params.deployer.provider!;
  try {
    if (params.devnet) return await placeOnDevnet(params.deployer, provider as JsonRpcProvider, step);
    const [channelCode, collectorCode] = await Promise.all([provider.getCode(BATCH_SETTLEMENT_ADDRESS), provider.getCode(ERC3009_DEPOSIT_COLLECTOR_ADDRESS)]);
    if (channelCode !== "0x" && collectorCode !== "0x") {
      step(`batch-settlement contracts found at the canonical addresses (${BATCH_SETTLEMENT_ADDRESS}, ${ERC3009_DEPOSIT_COLLECTOR_ADDRESS})`);
      const head = await provider.getBlockNumber();
      const record = (address: string): ContractRecord => ({ address, blockNumber: head });
      return { BatchSettlement: record(BATCH_SETTLEMENT_ADDRESS), ERC3009DepositCollector: record(ERC3009_DEPOSIT_COLLECTOR_ADDRESS) };
    }
    step("deploying BatchSettlement and its EIP-3009 deposit collector (no owner, not upgradeable)");
    const channels = await new BatchSettlement__factory(params.deployer).deploy("0x0000000000000000000000000000000000000000");
    const channelsReceipt = await channels.deploymentTransaction()!.wait();
    const channelsAddress = await channels.getAddress();
    const collector = await new ERC3009DepositCollector__factory(params.deployer).deploy(channelsAddress);
    const collectorReceipt = await collector.deploymentTransaction()!.wait();
    return {
      BatchSettlement: { address: channelsAddress, blockNumber: channelsReceipt!.blockNumber, txHash: channelsReceipt!.hash },
      ERC3009DepositCollector: { address: await collector.getAddress(), blockNumber: collectorReceipt!.blockNumber, txHash: collectorReceipt!.hash },
    };
  } catch (error) {
    throw toNetDollarError(error);
  }
}

async function placeOnDevnet(deployer: Signer, provider: JsonRpcProvider, step: (message: string) => void): Promise<ChannelContracts> {
  const channels = await new BatchSettlement__factory(deployer).deploy(BATCH_SETTLEMENT_ADDRESS);
  const channelsReceipt = (await channels.deploymentTransaction()!.wait())!;
  await copyCode(provider, await channels.getAddress(), BATCH_SETTLEMENT_ADDRESS);
  const collector = await new ERC3009DepositCollector__factory(deployer).deploy(BATCH_SETTLEMENT_ADDRESS);
  const collectorReceipt = (await collector.deploymentTransaction()!.wait())!;
  await copyCode(provider, await collector.getAddress(), ERC3009_DEPOSIT_COLLECTOR_ADDRESS);
  step(`BatchSettlement at ${BATCH_SETTLEMENT_ADDRESS} and its collector at ${ERC3009_DEPOSIT_COLLECTOR_ADDRESS} (the canonical addresses)`);
  if ((await provider.getCode(MULTICALL3_ADDRESS)) === "0x") {
    const multicall = await new Multicall3__factory(deployer).deploy();
    await multicall.waitForDeployment();
    await copyCode(provider, await multicall.getAddress(), MULTICALL3_ADDRESS);
    step(`Multicall3 at ${MULTICALL3_ADDRESS}`);
  }
  return {
    BatchSettlement: { address: BATCH_SETTLEMENT_ADDRESS, blockNumber: channelsReceipt.blockNumber, txHash: channelsReceipt.hash },
    ERC3009DepositCollector: { address: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, blockNumber: collectorReceipt.blockNumber, txHash: collectorReceipt.hash },
  };
}

/** Copies a contract's runtime code to another address of a Hardhat node and empties the original. */
/** Moves a contract's runtime code to another address on a Hardhat devnet (`hardhat_setCode`). */
export async function copyCode(provider: JsonRpcProvider, from: string, to: string): Promise<void> {
  const code = await provider.getCode(from);
  await provider.send("hardhat_setCode", [to, code]);
  await provider.send("hardhat_setCode", [from, "0x"]);
}

/** Whether the channel contracts of a record still have code (a devnet restarted since has none). */
export async function channelsHaveCode(provider: Provider, record: Partial<ChannelContracts>): Promise<boolean> {
  if (!record.BatchSettlement || !record.ERC3009DepositCollector) return false;
  const codes = await Promise.all([provider.getCode(record.BatchSettlement.address), provider.getCode(record.ERC3009DepositCollector.address)]);
  return codes.every((c) => c !== "0x");
}
