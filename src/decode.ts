import { Interface, isError, type ErrorDescription } from "ethers";
import {
  BatchSettlement__factory,
  ConditionalEscrow__factory,
  ERC3009DepositCollector__factory,
  NetDollarV2__factory,
  ReserveOracle__factory,
  RevenueSplitFactory__factory,
  RevenueSplit__factory,
} from "../typechain-types";
import { formatAmount, formatDollars } from "./amounts";
import { shortAddress } from "./addresses";
import { ChainRefusedError, ChainUnreachableError, NetDollarError } from "./errors";
import { ROLES, roleLabel, type RoleName } from "./roles";

type Describe = (args: ErrorDescription["args"], ctx: DecodeContext) => string;

/** What plain-words messages need to know: the token's symbol (amounts are shown in dollars). */
export interface DecodeContext {
  symbol: string;
}

const time = (seconds: bigint) => `${new Date(Number(seconds) * 1000).toISOString()} (${seconds})`;

/** Plain words for every custom error a transaction of ours can meet, by error name. */
const DESCRIPTIONS: Record<string, Describe> = {
  NetDollarPaused: () => "the token is paused",
  NetDollarNotPaused: () => "the token is not paused",
  NetDollarBlocklisted: ([a]) => `${shortAddress(a)} is blocklisted`,
  NetDollarNotBlocklisted: ([a]) => `${shortAddress(a)} is not blocklisted; only a blocklisted account's balance can be seized`,
  NetDollarNotMinter: ([a]) => `${shortAddress(a)} is not a minter`,
  NetDollarMinterAllowanceExceeded: ([minter, allowance, needed], c) =>
    `minter ${shortAddress(minter)} has an allowance of ${formatDollars(allowance, c.symbol)}; minting ${formatAmount(needed)} needs ${formatAmount(BigInt(needed) - BigInt(allowance))} more`,
  NetDollarMinterAllowanceTooLarge: ([allowance, max]) => `a minter allowance of ${allowance} base units is above the maximum ${max}`,
  NetDollarSupplyCapExceeded: ([supply, amount, max]) => `minting ${amount} on top of a supply of ${supply} would pass the cap ${max} (base units)`,
  NetDollarZeroAmount: () => "the amount must not be zero",
  NetDollarZeroAddress: () => "the zero address is not allowed here",
  NetDollarInvalidRoleHolder: ([role]) => `no holder given for ${roleLabel(role)}`,
  NetDollarEmptySymbol: () => "the symbol must not be empty",
  NetDollarInvalidSignature: ([signer]) => `the signature is not valid for ${shortAddress(signer)}`,
  NetDollarPermitExpired: ([deadline, now]) => `the permit expired at ${time(deadline)}; block time is ${time(now)}`,
  NetDollarAuthorizationNotYetValid: ([after, now]) => `the authorization is valid only after ${time(after)}; block time is ${time(now)}`,
  NetDollarAuthorizationExpired: ([before, now]) => `the authorization expired at ${time(before)}; block time is ${time(now)}`,
  NetDollarAuthorizationAlreadyUsed: ([who, nonce]) => `${shortAddress(who)} has already used or cancelled authorization nonce ${nonce}`,
  NetDollarCallerNotPayee: ([caller, payee]) => `only the payee ${shortAddress(payee)} may submit this authorization, not ${shortAddress(caller)}`,
  ERC20InsufficientBalance: ([who, balance, needed], c) =>
    `${shortAddress(who)} holds ${formatDollars(balance, c.symbol)}; ${formatAmount(needed)} needs ${formatAmount(BigInt(needed) - BigInt(balance))} more`,
  ERC20InsufficientAllowance: ([spender, allowance, needed], c) =>
    `${shortAddress(spender)} may spend ${formatDollars(allowance, c.symbol)}; ${formatAmount(needed)} needs ${formatAmount(BigInt(needed) - BigInt(allowance))} more`,
  ERC20InvalidReceiver: () => "tokens cannot be sent to the zero address",
  ERC20InvalidSender: () => "tokens cannot be sent from the zero address",
  ERC20InvalidApprover: () => "the zero address cannot approve",
  ERC20InvalidSpender: () => "the zero address cannot be a spender",
  AccessControlUnauthorizedAccount: ([who, role]) => `${shortAddress(who)} does not hold ${roleLabel(role)}`,
  AccessControlBadConfirmation: () => "an account can renounce only its own roles",
  AccessControlEnforcedDefaultAdminRules: () =>
    "the default admin role is never granted or revoked directly: transfer it with beginDefaultAdminTransfer and acceptDefaultAdminTransfer",
  AccessControlEnforcedDefaultAdminDelay: ([schedule]) => `the default admin transfer can be accepted only after ${time(schedule)}`,
  AccessControlInvalidDefaultAdmin: ([who]) => `${shortAddress(who)} cannot be the default admin`,
  InvalidInitialization: () => "the contract is already initialized",
  ERC1967InvalidImplementation: ([impl]) => `${shortAddress(impl)} is not an upgradeable (UUPS) implementation`,
  SafeERC20FailedOperation: ([token]) => `the token ${shortAddress(token)} refused the transfer`,
  ReentrancyGuardReentrantCall: () => "a re-entrant call was refused (the contract is already in the middle of a call)",
  // NetDollarV2's reserve guard
  NetDollarReservesExceeded: ([after, allowed, reserves], c) =>
    `minting would take the supply to ${formatDollars(after, c.symbol)}, above the ${formatDollars(allowed, c.symbol)} the attested reserves of $${formatAmount(reserves)} allow`,
  NetDollarReserveAttestationStale: ([asOf, maxAge, now]) =>
    BigInt(asOf) === 0n
      ? "no reserve attestation has been published: minting is blocked until one is"
      : `the latest reserve attestation (${time(asOf)}) is older than ${maxAge} seconds at block time ${time(now)}: minting is blocked until a newer one is published`,
  NetDollarReserveOracleWrongToken: ([oracle, other]) =>
    `the reserve oracle ${shortAddress(oracle)} attests the reserves of ${shortAddress(other)}, not of this token`,
  NetDollarInvalidReserveGuard: ([oracle, maxAge, buffer]) =>
    `invalid reserve guard: oracle ${shortAddress(oracle)} (must answer latestReserves), max age ${maxAge} s (must be > 0), buffer ${buffer} bps (must be < 10,000)`,
  // ReserveOracle
  ReserveOracleUnauthorizedAttestor: ([a]) => `${shortAddress(a)} is not an authorised attestor of this oracle`,
  ReserveOracleInvalidSignature: ([a]) => `the attestation is not signed by ${shortAddress(a)} (or a field was changed after signing)`,
  ReserveOracleNotNewer: ([asOf, latest]) =>
    `the attestation (${time(asOf)}) is not newer than the oracle's latest (${time(latest)}): replayed or out of order`,
  ReserveOracleFutureAttestation: ([asOf, now]) => `the attestation is dated ${time(asOf)}, after the block time ${time(now)}`,
  ReserveOracleDeploymentNotCovered: ([chainId, token]) => `the attestation does not cover chain ${chainId}, token ${shortAddress(token)}`,
  ReserveOracleLinesMismatch: ([reserves, lines]) => `the reserve lines add up to ${lines}, not the attested ${reserves} (base units)`,
  ReserveOracleReservesTooLarge: ([reserves]) => `reserves of ${reserves} base units do not fit the feed`,
  // ConditionalEscrow
  EscrowZeroAddress: () => "the payment's payer or token is the zero address",
  EscrowZeroAmount: () => "the amount must not be zero",
  EscrowAmountTooLarge: ([amount, max]) => `the amount ${amount} is above the escrow's maximum ${max} base units`,
  EscrowInvalidPayeeCount: ([count, max]) => `the payment has ${count} payees; between 1 and ${max} are allowed`,
  EscrowInvalidPayee: ([index]) => `payee ${Number(index) + 1} is the zero address or has no share`,
  EscrowSharesNotWhole: ([total]) => `the payees' shares sum to ${total} basis points, not 10,000`,
  EscrowInvalidFeeBounds: ([min, max]) => `the fee bounds ${min}-${max} bps are not 0 <= min <= max <= 10,000`,
  EscrowMissingFeeReceiver: () => "a fee is possible but the payment names no fee receiver",
  EscrowInvalidDeadlines: () => "the deadlines are out of order (fundBy <= confirmBy, confirmBy + disputeWindow <= refundBy)",
  EscrowAlreadyFunded: ([id]) => `payment ${id} is already funded`,
  EscrowNotFunded: ([id]) => `payment ${id} is not funded (never, or refunded in full)`,
  EscrowWrongStatus: ([id, status]) => `payment ${id} is ${["not funded", "funded", "in dispute", "settled"][Number(status)]}, which does not allow this`,
  EscrowNothingHeld: ([id]) => `payment ${id} holds nothing any more`,
  EscrowDeadlinePassed: ([deadline, now]) => `the deadline ${time(deadline)} has passed; block time is ${time(now)}`,
  EscrowDeadlineNotReached: ([deadline, now]) => `this is possible only after ${time(deadline)}; block time is ${time(now)}`,
  EscrowWrongOutcome: ([outcome]) => `the payment's default outcome is ${Number(outcome) === 1 ? "release" : "refund"}`,
  EscrowUnauthorized: ([caller, expected]) =>
    BigInt(expected) === 0n
      ? `the payment names nobody for this role, so ${shortAddress(caller)} cannot act`
      : `only ${shortAddress(expected)} may do this, not ${shortAddress(caller)}`,
  EscrowNotAParty: ([caller]) => `${shortAddress(caller)} is neither the payer nor a payee`,
  EscrowNotARefunder: ([caller]) => `${shortAddress(caller)} is neither the operator nor a payee`,
  EscrowNoArbiter: ([id]) => `payment ${id} names no arbiter, so it cannot be disputed`,
  EscrowInvalidReceipt: ([verifier]) => `the receipt is not signed by the verifier ${shortAddress(verifier)}`,
  EscrowAmountExceedsHeld: ([amount, held], c) => `${formatDollars(amount, c.symbol)} is more than the ${formatDollars(held, c.symbol)} held`,
  EscrowAmountExceedsRefundable: ([amount, refundable], c) =>
    `${formatDollars(amount, c.symbol)} is more than the ${formatDollars(refundable, c.symbol)} released and not yet refunded`,
  EscrowFeeOutOfBounds: ([fee, min, max]) => `a fee of ${fee} bps is outside the payment's bounds ${min}-${max} bps`,
  EscrowInvalidRuling: ([bps]) => `a payer share of ${bps} bps is above 10,000`,
  EscrowBalanceMismatch: ([expected, received]) => `the escrow received ${received} instead of ${expected} base units (a token that charges transfer fees?)`,
  EscrowNonCanonicalEncoding: () => "the payment terms are not canonically encoded",
  EscrowNothingToWithdraw: ([, account]) => `${shortAddress(account)} has nothing to withdraw`,
  // BatchSettlement (payment channels) and its deposit collector
  BatchSettlementZeroAddress: ([field]) => `the channel's ${field} must not be the zero address`,
  BatchSettlementWithdrawDelayOutOfRange: ([delay, min, max]) => `a withdrawal delay of ${delay} s is outside ${min}-${max} s (15 minutes to 30 days)`,
  BatchSettlementZeroAmount: () => "the amount must not be zero",
  BatchSettlementDepositOverflow: ([balance, amount]) => `depositing ${amount} on top of ${balance} base units would overflow the channel's balance`,
  BatchSettlementDepositNotReceived: ([expected, received]) =>
    `the channel contract received ${received} instead of ${expected} base units (a collector or token that does not deliver in full)`,
  BatchSettlementEmptyBatch: () => "the claim batch is empty",
  BatchSettlementNotReceiverSide: ([id, caller]) => `${shortAddress(caller)} is neither the receiver nor the receiver authorizer of channel ${id}`,
  BatchSettlementNotPayerSide: ([id, caller]) => `${shortAddress(caller)} is neither the payer nor the payer authorizer of channel ${id}`,
  BatchSettlementAuthorizerMismatch: ([row, expected, actual]) =>
    `row ${row} of the claim batch names receiver authorizer ${shortAddress(actual)}, not the batch's ${shortAddress(expected)}`,
  BatchSettlementInvalidAuthorizerSignature: ([a]) => `the signature is not the receiver authorizer ${shortAddress(a)}'s`,
  BatchSettlementInvalidVoucherSignature: ([id, signer]) => `the voucher for channel ${id} is not signed by ${shortAddress(signer)}`,
  BatchSettlementClaimExceedsCeiling: ([id, total, ceiling]) => `claiming ${total} on channel ${id} is above the voucher's ceiling of ${ceiling} base units`,
  BatchSettlementClaimExceedsBalance: ([id, total, balance]) =>
    `claiming ${total} on channel ${id} is above its balance of ${balance} base units (withdrawn before the claim landed?)`,
  BatchSettlementWithdrawalPending: ([id, at]) => `channel ${id} already has a withdrawal pending since ${time(at)}`,
  BatchSettlementNoWithdrawalPending: ([id]) => `channel ${id} has no withdrawal pending`,
  BatchSettlementWithdrawDelayNotElapsed: ([id, after]) => `the withdrawal from channel ${id} can be finalized from ${time(after)}`,
  BatchSettlementWithdrawExceedsAvailable: ([id, amount, available]) =>
    `withdrawing ${amount} from channel ${id} is more than its unclaimed ${available} base units`,
  BatchSettlementInvalidRefundNonce: ([id, nonce, expected]) =>
    `the refund for channel ${id} carries nonce ${nonce}; the channel's current refund nonce is ${expected}`,
  DepositCollectorUnauthorizedCaller: ([caller]) => `${shortAddress(caller)} is not the channel contract this collector serves`,
  DepositCollectorZeroBatchSettlement: () => "the deposit collector needs the channel contract's address, not the zero address",
  EscrowInvalidFeeReceiver: ([receiver]) => `the fee receiver ${shortAddress(receiver)} is the escrow itself: its fees would be locked for good`,
  ReserveOracleSeveralDeployments: ([count]) =>
    `a version-1 attestation lists ${count} deployments: without allocations each could mint the whole reserves; publish a version-2 attestation`,
  ReserveOracleAllocationsExceedReserves: ([allocations, reserves]) =>
    `the allocations add up to ${allocations}, more than the attested reserves of ${reserves} base units`,
  ReserveOracleUnknownRound: ([round]) => `the reserve oracle has published no round ${round}`,
  ReserveOracleZeroToken: () => "the reserve oracle needs the token's address, not the zero address",
  RevenueSplitNotAClone: () => "that is the split implementation, not a split: use a split's address",
  RevenueSplitNothingToWithdraw: ([, account]) => `nothing is credited to ${shortAddress(account)} in this split`,
  RevenueSplitTransferFailed: ([, account]) => `the token refused the payment to ${shortAddress(account)} again (still blocklisted?)`,
  RevenueSplitTokenRefused: ([token]) =>
    `the token ${shortAddress(token)} refused every payment from the split (paused, or the split blocklisted): nothing was paid or credited`,
  RevenueSplitInvalidRecipientCount: ([count, max]) => `a split has ${count} recipients: between 2 and ${max} are allowed`,
  RevenueSplitLengthMismatch: ([recipients, shares]) => `${recipients} recipients but ${shares} shares`,
  RevenueSplitRecipientsNotAscending: ([index]) =>
    `recipient ${Number(index) + 1} is the zero address or not above the one before it (recipients ascend, no duplicates)`,
  RevenueSplitZeroShare: ([index]) => `recipient ${Number(index) + 1} has a share of zero`,
  RevenueSplitSharesNotWhole: ([total]) => `the shares add up to ${total} basis points, not 10,000`,
  RevenueSplitInvalidRemainderRecipient: ([who]) => `the remainder recipient ${shortAddress(who)} is not one of the recipients`,
  RevenueSplitFeeTooHigh: ([fee, max]) => `a distributor fee of ${fee} basis points is above the maximum ${max}`,
  // OpenZeppelin's and Solidity's own, reachable through upgrades, initialisation and low-level calls.
  AddressEmptyCode: ([target]) => `${shortAddress(target)} has no code: it is not a contract on this chain`,
  FailedCall: () => "a call made by the contract failed without a reason",
  ERC1967NonPayable: () => "the upgrade call sent ETH, which the proxy refuses",
  NotInitializing: () => "this function can be called only while the contract is being initialized",
  UUPSUnauthorizedCallContext: () => "this upgrade function must be called through the proxy, not on the implementation",
  UUPSUnsupportedProxiableUUID: ([slot]) => `the new implementation answers proxiableUUID ${slot}, not the ERC-1967 implementation slot`,
  SafeCastOverflowedUintDowncast: ([bits, value]) => `the value ${value} does not fit in ${bits} bits`,
  CloneArgumentsTooLong: () => "the split's definition is too long for a clone's code",
  Create2EmptyBytecode: () => "the contract to create has no code",
  FailedDeployment: () => "creating the contract failed",
  InsufficientBalance: ([balance, needed]) => `the contract holds ${balance} wei of ETH; ${needed} are needed`,
  InvalidShortString: () => "the string is not a valid short string",
  StringTooLong: ([text]) => `"${text}" is longer than 31 bytes`,
};

/** What to run next, for the refusals an operator can fix from the CLI. */
const NEXT_STEPS: Record<string, (args: ErrorDescription["args"]) => string> = {
  AccessControlUnauthorizedAccount: ([who, role]) => {
    const name = roleName(role);
    if (name === "admin") return "only the default admin can do this: sign with its key (`netd admin show` names it)";
    if (name === undefined) return "sign with a key that holds the role";
    const granter = name === "redeemer" ? "the minter admin" : "the default admin";
    return `sign with a key that holds it, or have ${granter} grant it: \`netd role grant ${name} ${who}\``;
  },
  NetDollarNotMinter: ([who]) => `the minter admin makes it a minter: \`netd minter configure ${who} <allowance>\``,
  NetDollarMinterAllowanceExceeded: ([who]) => `the minter admin raises its allowance: \`netd minter configure ${who} <allowance>\``,
  NetDollarPaused: () => "a pauser resumes it with `netd unpause` once it is safe",
  NetDollarBlocklisted: ([who]) => `if that is a mistake, a blocklister lifts it: \`netd blocklist remove ${who}\``,
  NetDollarNotBlocklisted: ([who]) => `a blocklister blocks it first: \`netd blocklist add ${who}\``,
  NetDollarReserveAttestationStale: () => "publish a fresh signed attestation: `netd attest publish <file>` (docs/attestation.md)",
  NetDollarReservesExceeded: () => "mint less, or publish an attestation with more reserves (`netd reserve status` shows the headroom)",
  AccessControlEnforcedDefaultAdminRules: () => "use `netd admin transfer <account>`, then `netd admin accept` as that account",
  AccessControlEnforcedDefaultAdminDelay: () => "wait for the delay (`netd admin show`), then run `netd admin accept` again",
};

function roleName(roleId: string): RoleName | undefined {
  return (Object.keys(ROLES) as RoleName[]).find((n) => ROLES[n].id.toLowerCase() === String(roleId).toLowerCase());
}

/** The error names that have plain words (a test checks every ABI error is among them). */
export const DESCRIBED_ERRORS: ReadonlySet<string> = new Set(Object.keys(DESCRIPTIONS));

const interfaces: Interface[] = [
  NetDollarV2__factory.createInterface(),
  ConditionalEscrow__factory.createInterface(),
  ReserveOracle__factory.createInterface(),
  BatchSettlement__factory.createInterface(),
  ERC3009DepositCollector__factory.createInterface(),
  RevenueSplit__factory.createInterface(),
  RevenueSplitFactory__factory.createInterface(),
];

/** Decodes revert data against every known contract. */
export function decodeRevertData(data: string): ErrorDescription | undefined {
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return parsed;
    } catch {
      // not this interface's error
    }
  }
  return undefined;
}

/**
 * Walks an error's chain of causes (ethers nests the node's answer in `error`, `info.error` and `cause`, as viem's
 * `BaseError.walk()` does) and returns the first link `match` accepts, or undefined.
 */
export function walkError(error: unknown, match: (link: object) => boolean, maxDepth = 8): object | undefined {
  let current: unknown = error;
  const seen = new Set<unknown>();
  for (let depth = 0; depth < maxDepth && current && typeof current === "object" && !seen.has(current); depth++) {
    if (match(current)) return current;
    seen.add(current);
    const link = current as { error?: unknown; info?: { error?: unknown }; cause?: unknown };
    current = link.error ?? link.info?.error ?? link.cause;
  }
  return undefined;
}

/** The revert data anywhere in an error's chain: at least a 4-byte selector. */
function revertData(error: unknown): string | undefined {
  const isData = (d: unknown): d is string => typeof d === "string" && d.startsWith("0x") && d.length >= 10;
  const link = walkError(error, (l) => isData((l as { data?: unknown }).data));
  return link ? ((link as { data: string }).data as string) : undefined;
}

/** The custom error a call or transaction reverted with, decoded, or undefined (not a revert, or not one of ours). */
export function decodeRevert(error: unknown): ErrorDescription | undefined {
  const data = revertData(error);
  return data ? decodeRevertData(data) : undefined;
}

/**
 * Turns whatever a call or transaction threw into a {@link NetDollarError}: a {@link ChainRefusedError} in plain
 * words for reverts (decoded from the contracts' custom errors), a {@link ChainUnreachableError} for transport
 * failures. Errors that already are NetDollarErrors pass through.
 *
 * @example
 * try { await token.mint.staticCall(to, amount) } catch (e) { throw toNetDollarError(e, { symbol: "NETD" }) }
 */
export function toNetDollarError(error: unknown, ctx: DecodeContext = { symbol: "NETD" }): NetDollarError {
  if (error instanceof NetDollarError) return error;
  // Already turned into plain words somewhere down the chain (e.g. a library call wrapped by its caller).
  const known = walkError(error, (l) => l instanceof NetDollarError);
  if (known) return known as NetDollarError;
  const data = revertData(error);
  if (data) {
    const parsed = decodeRevertData(data);
    if (parsed) {
      const describe = DESCRIPTIONS[parsed.name];
      const message = describe ? describe(parsed.args, ctx) : `the contract refused: ${parsed.name}(${parsed.args.join(", ")})`;
      const next = NEXT_STEPS[parsed.name]?.(parsed.args);
      return new ChainRefusedError(message, { errorName: parsed.name, errorArgs: [...parsed.args], details: next ? `next: ${next}` : undefined, cause: error });
    }
    return new ChainRefusedError("the contract refused with an unknown error", { details: data, cause: error });
  }
  if (isError(error, "INSUFFICIENT_FUNDS")) {
    return new ChainRefusedError("the sending account has too little ETH to pay for gas", { cause: error });
  }
  if (isError(error, "CALL_EXCEPTION")) {
    return new ChainRefusedError(`the contract refused: ${error.reason ?? error.shortMessage}`, { cause: error });
  }
  if (isError(error, "NETWORK_ERROR") || isError(error, "TIMEOUT") || isError(error, "SERVER_ERROR")) {
    return new ChainUnreachableError(`the RPC endpoint failed: ${error.shortMessage}`, { cause: error });
  }
  if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) {
    return new ChainRefusedError(`the transaction was refused: ${error.shortMessage}`, { cause: error });
  }
  const message = error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
  return new ChainRefusedError(`the chain refused: ${message}`, { cause: error });
}
