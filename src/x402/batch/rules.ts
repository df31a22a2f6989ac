/**
 * The checks a channel and its vouchers must pass, shared by the facilitator (./facilitator.ts) and the paywall's
 * server side (./server.ts): the reference SDK's config checks, and voucher signatures verified as the contract will
 * (ECDSA by the payer authorizer, low-s only, 65 bytes; ERC-1271 through the payer when the authorizer is zero).
 *
 * Signature recovery uses libsecp256k1 (the `secp256k1` package's native binding): about 0.06 ms here against
 * ethers' 3.6 ms, which is most of a paid request's CPU.
 */
import { Interface, getAddress, keccak256, type Provider } from "ethers";
import type { PaymentRequirements } from "@x402/core/types";
import { ecdsaRecover } from "secp256k1";
import { BATCH_REASON, type BatchReason } from "../reasons";
import { MAX_WITHDRAW_DELAY, MIN_WITHDRAW_DELAY, channelId as computeChannelId, fastVoucherDigest, type ChannelConfig, type ChannelContract } from "./channel";

export interface RuleFailure {
  reason: BatchReason;
  message: string;
}

/**
 * The reference facilitator's config checks, in its order: the id is the config's hash, the channel pays the
 * requirements' `payTo` in their asset, its receiver authorizer is the announced (non-zero) one, its withdraw delay
 * the announced one and within 900 s–30 days.
 */
export function checkChannelConfig(
  contract: ChannelContract,
  config: ChannelConfig,
  claimedId: string,
  r: Pick<PaymentRequirements, "payTo" | "asset" | "extra">,
): RuleFailure | undefined {
  const id = computeChannelId(contract, config);
  if (id !== claimedId.toLowerCase()) return { reason: BATCH_REASON.channelIdMismatch, message: `the channel config hashes to ${id}, not ${claimedId}` };
  // The common case first, in lower case (checksumming costs ~10 µs an address); the messages below checksum.
  const extra0 = (r.extra ?? {}) as { receiverAuthorizer?: unknown; withdrawDelay?: unknown };
  if (
    config.receiver.toLowerCase() === r.payTo.toLowerCase() &&
    config.token.toLowerCase() === r.asset.toLowerCase() &&
    typeof extra0.receiverAuthorizer === "string" &&
    /^0x[0-9a-fA-F]{40}$/.test(extra0.receiverAuthorizer) &&
    BigInt(extra0.receiverAuthorizer) !== 0n &&
    config.receiverAuthorizer.toLowerCase() === extra0.receiverAuthorizer.toLowerCase() &&
    (extra0.withdrawDelay === undefined || config.withdrawDelay === Number(extra0.withdrawDelay)) &&
    config.withdrawDelay >= MIN_WITHDRAW_DELAY &&
    config.withdrawDelay <= MAX_WITHDRAW_DELAY
  ) {
    return undefined;
  }
  if (getAddress(config.receiver) !== getAddress(r.payTo))
    return { reason: BATCH_REASON.receiverMismatch, message: `the channel pays ${getAddress(config.receiver)}, not ${getAddress(r.payTo)}` };
  const extra = (r.extra ?? {}) as { receiverAuthorizer?: unknown; withdrawDelay?: unknown };
  const authorizer =
    typeof extra.receiverAuthorizer === "string" && /^0x[0-9a-fA-F]{40}$/.test(extra.receiverAuthorizer) ? getAddress(extra.receiverAuthorizer) : undefined;
  if (!authorizer || BigInt(authorizer) === 0n || getAddress(config.receiverAuthorizer) !== authorizer) {
    return {
      reason: BATCH_REASON.receiverAuthorizerMismatch,
      message: `the channel's receiver authorizer ${getAddress(config.receiverAuthorizer)} is not the requirements' ${String(extra.receiverAuthorizer)}`,
    };
  }
  if (getAddress(config.token) !== getAddress(r.asset))
    return { reason: BATCH_REASON.tokenMismatch, message: `the channel holds ${getAddress(config.token)}, the price is in ${getAddress(r.asset)}` };
  if (extra.withdrawDelay !== undefined && config.withdrawDelay !== Number(extra.withdrawDelay)) {
    return {
      reason: BATCH_REASON.withdrawDelayMismatch,
      message: `the channel's withdraw delay is ${config.withdrawDelay} s, the requirements say ${String(extra.withdrawDelay)} s`,
    };
  }
  if (config.withdrawDelay < MIN_WITHDRAW_DELAY || config.withdrawDelay > MAX_WITHDRAW_DELAY) {
    return { reason: BATCH_REASON.withdrawDelayOutOfRange, message: `a withdraw delay of ${config.withdrawDelay} s is outside 900-2,592,000 s` };
  }
  return undefined;
}

const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The address that signed `digest`, as OpenZeppelin's ECDSA (and so the channel contract) recovers it: 65 bytes,
 * v 27 or 28 (0 or 1 accepted), s in the lower half; undefined for anything else.
 */
export function recoverSigner(digest: string, signature: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return undefined;
  const bytes = Buffer.from(signature.slice(2), "hex");
  const v = bytes[64] < 27 ? bytes[64] : bytes[64] - 27;
  if (v !== 0 && v !== 1) return undefined;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (s === 0n || s > HALF_N) return undefined;
  try {
    const key = ecdsaRecover(bytes.subarray(0, 64), v, Buffer.from(digest.slice(2), "hex"), false);
    return getAddress(`0x${keccak256(key.subarray(1)).slice(-40)}`);
  } catch {
    return undefined;
  }
}

const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
const ERC1271_MAGIC = "0x1626ba7e";

/**
 * Whether the payer side signed a voucher: ECDSA by `payerAuthorizer`; when it is zero, the payer itself (ECDSA for an
 * account without code, ERC-1271 `isValidSignature` for a contract wallet).
 */
export async function voucherSigned(
  provider: Provider,
  contract: ChannelContract,
  config: ChannelConfig,
  voucher: { channelId: string; maxClaimableAmount: string | bigint; signature: string },
): Promise<boolean> {
  const digest = fastVoucherDigest(contract, voucher.channelId, BigInt(voucher.maxClaimableAmount));
  if (BigInt(config.payerAuthorizer) !== 0n) return recoverSigner(digest, voucher.signature)?.toLowerCase() === config.payerAuthorizer.toLowerCase();
  if ((await provider.getCode(config.payer)) === "0x") return recoverSigner(digest, voucher.signature)?.toLowerCase() === config.payer.toLowerCase();
  try {
    const answer = await provider.call({ to: config.payer, data: ERC1271.encodeFunctionData("isValidSignature", [digest, voucher.signature]) });
    return answer.slice(0, 10).toLowerCase() === ERC1271_MAGIC;
  } catch {
    return false;
  }
}
