import { dataSlice, getAddress, id as topicOf, toBigInt, type Provider } from "ethers";
import { scanLogs } from "../logs";
import { splitChain } from "./sdjwt";
import { fromMinorUnits, verifyPaymentMandateChain, type VerifiedPaymentChain, type VerifyOptions } from "./mandates";

const AUTHORIZATION_USED = topicOf("AuthorizationUsed(address,bytes32)");
const TRANSFER = topicOf("Transfer(address,address,uint256)");

/** A payment found on chain for a mandate chain, and whether it is the payment the closed mandate describes. */
export interface MandatePaymentAudit {
  mandate: VerifiedPaymentChain;
  /** Undefined when no `AuthorizationUsed(payer, nonce)` with the chain's hash was found. */
  onChain?: {
    transaction: string;
    blockNumber: number;
    payer: string;
    to?: string;
    value?: bigint;
  };
  /** What does not match (empty when the payment is the mandated one). */
  problems: string[];
}

/**
 * The auditor's view of a payment under an AP2 mandate: verifies the chain, finds the EIP-3009 authorization whose
 * nonce is the chain's hash (`AuthorizationUsed`), and checks that its transfer paid the mandated payee the mandated
 * amount. `fromBlock` defaults to 0; give the token's deployment block on a long chain.
 */
export async function auditMandatePayment(params: {
  provider: Provider;
  token: string;
  chain: string;
  fromBlock?: number;
  toBlock?: number;
  verify?: VerifyOptions;
  onProgress?: (scannedTo: number) => void;
}): Promise<MandatePaymentAudit> {
  // After the fact: the mandate may have expired since; check times as of when it was closed.
  const mandate = await verifyPaymentMandateChain(params.chain, { ...params.verify, now: params.verify?.now ?? closedAt(params.chain) });
  const toBlock = params.toBlock ?? (await params.provider.getBlockNumber());
  let found: { transactionHash: string; blockNumber: number; topics: string[] } | undefined;
  for await (const logs of scanLogs({
    provider: params.provider,
    address: params.token,
    topics: [AUTHORIZATION_USED],
    indexed: [null, mandate.paymentNonce],
    fromBlock: params.fromBlock ?? 0,
    toBlock,
    onProgress: params.onProgress,
  })) {
    if (logs.length) {
      found = logs[0];
      break;
    }
  }
  if (!found) return { mandate, problems: [`no payment on chain carries the mandate's nonce ${mandate.paymentNonce}`] };
  const payer = getAddress(dataSlice(found.topics[1], 12));
  const receipt = await params.provider.getTransactionReceipt(found.transactionHash);
  const transfer = receipt?.logs.find(
    (l) => l.address.toLowerCase() === params.token.toLowerCase() && l.topics[0] === TRANSFER && getAddress(dataSlice(l.topics[1], 12)) === payer,
  );
  const onChain = {
    transaction: found.transactionHash,
    blockNumber: found.blockNumber,
    payer,
    ...(transfer ? { to: getAddress(dataSlice(transfer.topics[2], 12)), value: toBigInt(transfer.data) } : {}),
  };
  const problems: string[] = [];
  const closed = mandate.closed;
  const expected = fromMinorUnits(closed.payment_amount.amount, closed.payment_amount.currency);
  const payee = closed.payee.id?.split(":").at(-1);
  if (!transfer) problems.push("the transaction has no transfer from the payer");
  else {
    if (onChain.value !== expected) problems.push(`it moved ${onChain.value} base units; the mandate says ${expected}`);
    if (!payee || onChain.to!.toLowerCase() !== payee.toLowerCase()) problems.push(`it paid ${onChain.to}; the mandate names ${closed.payee.id}`);
  }
  return { mandate, onChain, problems };
}

/** The closed hop's `iat` (when the agent closed the mandate), read without verifying: verification follows. */
function closedAt(chain: string): number | undefined {
  try {
    const hop = splitChain(chain)[1];
    const payload = JSON.parse(Buffer.from(hop.split(".")[1], "base64url").toString("utf8")) as { iat?: unknown };
    return typeof payload.iat === "number" ? payload.iat : undefined;
  } catch {
    return undefined;
  }
}
