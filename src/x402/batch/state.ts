import type { Provider } from "ethers";
import { BatchSettlement__factory } from "../../../typechain-types";

/** A channel's on-chain state, as the x402 `batch-settlement` messages carry it (`extra` of verify, `channelState`). */
export interface ChannelState {
  channelId: string;
  balance: bigint;
  totalClaimed: bigint;
  /** Unix seconds when a timed withdrawal was initiated, 0 when none is pending. */
  withdrawRequestedAt: number;
  /** The pending withdrawal's amount (0 when none). */
  withdrawAmount: bigint;
  refundNonce: bigint;
}

/**
 * Reads a channel's state: balance and claims, pending withdrawal and refund nonce (three calls, in parallel, at one
 * block).
 *
 * @example
 * const state = await readChannelState(provider, BATCH_SETTLEMENT_ADDRESS, channelId);
 */
export async function readChannelState(provider: Provider, channels: string, channelId: string, blockTag?: number): Promise<ChannelState> {
  const contract = BatchSettlement__factory.connect(channels, provider);
  const overrides = { blockTag: blockTag ?? (await provider.getBlockNumber()) };
  const [[balance, totalClaimed], [withdrawAmount, initiatedAt], refundNonce] = await Promise.all([
    contract.channels(channelId, overrides),
    contract.pendingWithdrawals(channelId, overrides),
    contract.refundNonce(channelId, overrides),
  ]);
  return { channelId, balance, totalClaimed, withdrawRequestedAt: Number(initiatedAt), withdrawAmount, refundNonce };
}

/** The wire form of a channel state (decimal strings, as the reference SDK sends it). */
export function channelStateJson(s: Pick<ChannelState, "channelId" | "balance" | "totalClaimed" | "withdrawRequestedAt" | "refundNonce">): {
  channelId: string;
  balance: string;
  totalClaimed: string;
  withdrawRequestedAt: number;
  refundNonce: string;
} {
  return {
    channelId: s.channelId,
    balance: s.balance.toString(),
    totalClaimed: s.totalClaimed.toString(),
    withdrawRequestedAt: s.withdrawRequestedAt,
    refundNonce: s.refundNonce.toString(),
  };
}
