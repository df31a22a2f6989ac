import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse, Signer } from "ethers";
import type { BatchSettlement, ERC3009DepositCollector } from "../../typechain-types";
import { tokenV2Fixture, USD } from "../helpers/fixtures";
import { now } from "../helpers/time";
import {
  MIN_WITHDRAW_DELAY,
  channelId,
  encodeCollectorData,
  normalizeConfig,
  signClaimBatch,
  signDepositAuthorization,
  signRefund,
  signVoucher,
  toVoucherClaimArgs,
  type ChannelConfig,
  type ChannelContract,
  type VoucherClaim,
} from "../../src/x402/batch/channel";
import { randomNonce } from "../../src/eip712";

export { USD };
export const DEPOSIT = 10n * USD;

export type ChannelsFixture = Awaited<ReturnType<typeof channelsFixture>>;

/**
 * NetDollarV2 (alice and bob hold 1,000 NETD each), the channel contract and its EIP-3009 collector at ordinary
 * addresses (the domain is then rebuilt for the contract's own address: tests prove signatures bind to it), and
 * helpers that sign as the reference client does. alice pays, `receiver` is paid, `authorizer` signs claim batches
 * and refunds.
 */
export async function channelsFixture() {
  const f = await tokenV2Fixture();
  const signers = await ethers.getSigners();
  const [receiver, authorizer, voucherKey] = signers.slice(13, 16);
  const channels = (await (await ethers.getContractFactory("BatchSettlement")).deploy(ethers.ZeroAddress)) as unknown as BatchSettlement;
  const channelsAddress = await channels.getAddress();
  const collector = (await (await ethers.getContractFactory("ERC3009DepositCollector")).deploy(channelsAddress)) as unknown as ERC3009DepositCollector;
  const collectorAddress = await collector.getAddress();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const contract: ChannelContract = { address: channelsAddress, chainId };
  const tokenAddress = await f.token.getAddress();

  const config = (overrides: Partial<ChannelConfig> = {}): ChannelConfig =>
    normalizeConfig({
      payer: f.alice.address,
      payerAuthorizer: f.alice.address,
      receiver: receiver.address,
      receiverAuthorizer: authorizer.address,
      token: tokenAddress,
      withdrawDelay: MIN_WITHDRAW_DELAY,
      salt: randomNonce(),
      ...overrides,
    });
  const idOf = (c: ChannelConfig) => channelId(contract, c);

  /** The calldata of a deposit signed by `signer` (the payer by default). */
  const depositArgs = async (c: ChannelConfig, amount: bigint, options: { signer?: Signer; validBefore?: bigint; validAfter?: bigint; salt?: string } = {}) => {
    const auth = await signDepositAuthorization({
      signer: options.signer ?? (await ethers.getSigner(c.payer)),
      token: f.domain,
      collector: collectorAddress,
      channelId: idOf(c),
      amount,
      validBefore: options.validBefore ?? (await now()) + 600n,
      validAfter: options.validAfter,
      salt: options.salt,
    });
    return [c, amount, collectorAddress, encodeCollectorData(auth)] as const;
  };

  return {
    ...f,
    channels,
    channelsAddress,
    collector,
    collectorAddress,
    chainId,
    contract,
    tokenAddress,
    receiver,
    authorizer,
    voucherKey,
    config,
    idOf,
    depositArgs,
    /** Deposits `amount` into `c` with the payer's signature, relayed by `relayer`. */
    async deposit(c: ChannelConfig, amount: bigint = DEPOSIT, sender: HardhatEthersSigner = f.relayer): Promise<ContractTransactionResponse> {
      return channels.connect(sender).deposit(...(await depositArgs(c, amount)));
    },
    /** A claim row for `c` with a voucher signed by `signer` (the payer authorizer by default). */
    async row(c: ChannelConfig, maxClaimableAmount: bigint, totalClaimed: bigint = maxClaimableAmount, signer?: Signer): Promise<VoucherClaim> {
      const s = signer ?? (await ethers.getSigner(c.payerAuthorizer));
      const v = await signVoucher(s, contract, idOf(c), maxClaimableAmount);
      return { channel: c, maxClaimableAmount, signature: v.signature, totalClaimed };
    },
    args: (rows: VoucherClaim[]) => rows.map(toVoucherClaimArgs),
    /** claimWithSignature with the authorizer's signature over `rows`, relayed by `sender`. */
    async claimSigned(rows: VoucherClaim[], sender: HardhatEthersSigner = f.relayer, signer: Signer = authorizer): Promise<ContractTransactionResponse> {
      return channels.connect(sender).claimWithSignature(rows.map(toVoucherClaimArgs), await signClaimBatch(signer, contract, rows));
    },
    async refundSignature(c: ChannelConfig, nonce: bigint, amount: bigint, signer: Signer = authorizer): Promise<string> {
      return signRefund(signer, contract, idOf(c), nonce, amount);
    },
    async state(c: ChannelConfig) {
      const [balance, totalClaimed] = await channels.channels(idOf(c));
      const [wAmount, initiatedAt] = await channels.pendingWithdrawals(idOf(c));
      return { balance, totalClaimed, withdrawal: wAmount, initiatedAt, refundNonce: await channels.refundNonce(idOf(c)) };
    },
  };
}
