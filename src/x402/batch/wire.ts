/**
 * Builders of the `batch-settlement` wire payloads (x402 v2 `PaymentPayload.payload`), as the reference client sends
 * them: a deposit (EIP-3009 authorization to the collector plus the first voucher) and a voucher.
 */
import type { Signer } from "ethers";
import type { TokenDomain } from "../../eip712";
import { channelId, normalizeConfig, signDepositAuthorization, signVoucher, type ChannelConfig, type ChannelContract } from "./channel";
import type { DepositPayload, VoucherPayload } from "./payloads";

function wireConfig(config: ChannelConfig): DepositPayload["channelConfig"] {
  return normalizeConfig(config);
}

/** Parameters of {@link createDepositPayload}. */
export interface CreateDepositPayloadParameters {
  /** The payer (signs the EIP-3009 authorization). */
  payer: Signer;
  /** The payer authorizer (signs the voucher); the payer when absent. */
  voucherSigner?: Signer;
  contract: ChannelContract;
  collector: string;
  token: TokenDomain;
  config: ChannelConfig;
  amount: bigint;
  /** The voucher's cumulative ceiling. */
  maxClaimableAmount: bigint;
  /** Unix seconds the authorization is valid before. */
  validBefore: bigint;
  salt?: string;
}

/**
 * A `deposit` payload: the payer's EIP-3009 authorization of `amount` to the collector, bound to the channel, and a
 * voucher for `maxClaimableAmount`.
 *
 * @example
 * const payload = await createDepositPayload({ payer, contract, collector, token, config, amount: 20_000n, maxClaimableAmount: 100n, validBefore: now + 300n });
 */
export async function createDepositPayload(p: CreateDepositPayloadParameters): Promise<DepositPayload> {
  const id = channelId(p.contract, p.config);
  const auth = await signDepositAuthorization({
    signer: p.payer,
    token: p.token,
    collector: p.collector,
    channelId: id,
    amount: p.amount,
    validBefore: p.validBefore,
    salt: p.salt,
  });
  const voucher = await signVoucher(p.voucherSigner ?? p.payer, p.contract, id, p.maxClaimableAmount);
  return {
    type: "deposit",
    channelConfig: wireConfig(p.config),
    voucher: { channelId: id, maxClaimableAmount: voucher.maxClaimableAmount.toString(), signature: voucher.signature },
    deposit: {
      amount: p.amount.toString(),
      authorization: {
        erc3009Authorization: { validAfter: auth.validAfter.toString(), validBefore: auth.validBefore.toString(), salt: auth.salt, signature: auth.signature },
      },
    },
  };
}

/** A `voucher` payload: the next cumulative ceiling of a channel, signed by its payer authorizer. */
export async function createVoucherPayload(
  signer: Signer,
  contract: ChannelContract,
  config: ChannelConfig,
  maxClaimableAmount: bigint,
): Promise<VoucherPayload> {
  const id = channelId(contract, config);
  const voucher = await signVoucher(signer, contract, id, maxClaimableAmount);
  return {
    type: "voucher",
    channelConfig: wireConfig(config),
    voucher: { channelId: id, maxClaimableAmount: maxClaimableAmount.toString(), signature: voucher.signature },
  };
}
