/**
 * Reason strings, exactly as the x402 reference SDK (@x402/evm exact scheme, @x402/core) and the x402 v2
 * specification spell them, so that every x402 client understands why a payment was refused.
 */
export const REASON = {
  // x402 v2 specification, section 9
  invalidX402Version: "invalid_x402_version",
  invalidPayload: "invalid_payload",
  invalidPaymentRequirements: "invalid_payment_requirements",
  invalidNetwork: "invalid_network",
  unsupportedScheme: "unsupported_scheme",
  invalidTransactionState: "invalid_transaction_state",
  unexpectedVerifyError: "unexpected_verify_error",
  unexpectedSettleError: "unexpected_settle_error",
  // @x402/evm exact scheme (EIP-3009)
  scheme: "invalid_exact_evm_scheme",
  networkMismatch: "invalid_exact_evm_network_mismatch",
  missingEip712Domain: "invalid_exact_evm_missing_eip712_domain",
  recipientMismatch: "invalid_exact_evm_recipient_mismatch",
  signature: "invalid_exact_evm_signature",
  failedToParseSignature: "invalid_exact_evm_failed_to_parse_signature",
  validBefore: "invalid_exact_evm_payload_authorization_valid_before",
  validAfter: "invalid_exact_evm_payload_authorization_valid_after",
  valueMismatch: "invalid_exact_evm_payload_authorization_value_mismatch",
  transactionFailed: "invalid_exact_evm_transaction_failed",
  transferEventMismatch: "invalid_exact_evm_transfer_event_mismatch",
  tokenNameMismatch: "invalid_exact_evm_token_name_mismatch",
  tokenVersionMismatch: "invalid_exact_evm_token_version_mismatch",
  eip3009NotSupported: "invalid_exact_evm_eip3009_not_supported",
  nonceAlreadyUsed: "invalid_exact_evm_nonce_already_used",
  insufficientBalance: "invalid_exact_evm_insufficient_balance",
  simulationFailed: "invalid_exact_evm_transaction_simulation_failed",
} as const;

export type Reason = (typeof REASON)[keyof typeof REASON];

/**
 * Ours (no x402 package defines it): a payment carrying an AP2 mandate (`extensions["ap2-mandate"]`) that is not the
 * payment its mandate closes, or none where the paywall requires one.
 */
export const MANDATE_REASON = "invalid_ap2_mandate";

/** Reason strings of the `batch-settlement` scheme, exactly as the reference SDK (@x402/evm batch-settlement) spells them. */
export const BATCH_REASON = {
  scheme: "invalid_batch_settlement_evm_scheme",
  networkMismatch: "invalid_batch_settlement_evm_network_mismatch",
  payloadType: "invalid_batch_settlement_evm_payload_type",
  depositPayload: "invalid_batch_settlement_evm_deposit_payload",
  voucherPayload: "invalid_batch_settlement_evm_voucher_payload",
  claimPayload: "invalid_batch_settlement_evm_claim_payload",
  settlePayload: "invalid_batch_settlement_evm_settle_payload",
  refundPayload: "invalid_batch_settlement_evm_refund_payload",
  channelIdMismatch: "invalid_batch_settlement_evm_channel_id_mismatch",
  receiverMismatch: "invalid_batch_settlement_evm_receiver_mismatch",
  receiverAuthorizerMismatch: "invalid_batch_settlement_evm_receiver_authorizer_mismatch",
  tokenMismatch: "invalid_batch_settlement_evm_token_mismatch",
  withdrawDelayMismatch: "invalid_batch_settlement_evm_withdraw_delay_mismatch",
  withdrawDelayOutOfRange: "invalid_batch_settlement_evm_withdraw_delay_out_of_range",
  missingEip712Domain: "invalid_batch_settlement_evm_missing_eip712_domain",
  voucherSignature: "invalid_batch_settlement_evm_voucher_signature",
  channelNotFound: "invalid_batch_settlement_evm_channel_not_found",
  cumulativeExceedsBalance: "invalid_batch_settlement_evm_cumulative_exceeds_balance",
  cumulativeBelowClaimed: "invalid_batch_settlement_evm_cumulative_below_claimed",
  insufficientBalance: "invalid_batch_settlement_evm_insufficient_balance",
  validBefore: "invalid_batch_settlement_evm_payload_authorization_valid_before",
  validAfter: "invalid_batch_settlement_evm_payload_authorization_valid_after",
  erc3009AuthorizationRequired: "invalid_batch_settlement_evm_erc3009_authorization_required",
  receiveAuthorizationSignature: "invalid_batch_settlement_evm_receive_authorization_signature",
  depositSimulationFailed: "invalid_batch_settlement_evm_deposit_simulation_failed",
  depositTransactionFailed: "invalid_batch_settlement_evm_deposit_transaction_failed",
  claimSimulationFailed: "invalid_batch_settlement_evm_claim_simulation_failed",
  claimTransactionFailed: "invalid_batch_settlement_evm_claim_transaction_failed",
  settleSimulationFailed: "invalid_batch_settlement_evm_settle_simulation_failed",
  settleTransactionFailed: "invalid_batch_settlement_evm_settle_transaction_failed",
  nothingToSettle: "invalid_batch_settlement_evm_nothing_to_settle",
  refundSimulationFailed: "invalid_batch_settlement_evm_refund_simulation_failed",
  refundTransactionFailed: "invalid_batch_settlement_evm_refund_transaction_failed",
  refundNoBalance: "invalid_batch_settlement_evm_refund_no_balance",
  refundAmountInvalid: "invalid_batch_settlement_evm_refund_amount_invalid",
  authorizerAddressMismatch: "invalid_batch_settlement_evm_authorizer_address_mismatch",
  authorizerNotConfigured: "invalid_batch_settlement_evm_authorizer_not_configured",
  rpcReadFailed: "invalid_batch_settlement_evm_rpc_read_failed",
  cumulativeAmountMismatch: "invalid_batch_settlement_evm_cumulative_amount_mismatch",
  depositBelowMinDeposit: "invalid_batch_settlement_evm_deposit_below_min_deposit",
  missingChannel: "invalid_batch_settlement_evm_missing_channel",
  verificationStateUnavailable: "invalid_batch_settlement_evm_verification_state_unavailable",
  /** Ours: the payer has started a timed withdrawal, so no voucher is accepted on the channel any more. */
  withdrawalPending: "invalid_batch_settlement_evm_withdrawal_pending",
  /** Ours: the channel's payer is on the token's blocklist. */
  payerBlocklisted: "invalid_batch_settlement_evm_payer_blocklisted",
  /** Ours: a request that needs this facilitator's receiver-authorizer signature came without its credentials. */
  unauthenticated: "invalid_batch_settlement_evm_authorizer_unauthenticated",
} as const;

export type BatchReason = (typeof BATCH_REASON)[keyof typeof BATCH_REASON];
