import { isError, type ContractTransactionResponse } from "ethers";
import { ChainRefusedError, ChainUnreachableError } from "./errors";
import { toNetDollarError, type DecodeContext } from "./decode";

/** What every write returns: enough to find the transaction and see what it cost. */
export interface WriteResult {
  hash: string;
  blockNumber: number;
  gasUsed: bigint;
}

/** A typechain contract method bound to a signer. */
export interface WriteMethod<A extends unknown[]> {
  (...args: A): Promise<ContractTransactionResponse>;
  staticCall(...args: A): Promise<unknown>;
  estimateGas?(...args: A): Promise<bigint>;
}

/** Simulates a call; if it would revert, throws a {@link ChainRefusedError} in plain words. Sends nothing. */
export async function simulate<A extends unknown[]>(method: WriteMethod<A>, args: A, ctx: DecodeContext): Promise<void> {
  try {
    await method.staticCall(...args);
  } catch (error) {
    throw toNetDollarError(error, ctx);
  }
}

/**
 * Sends a call and waits for its receipt (at most `timeoutMs`, default 120 s); a revert becomes a
 * {@link ChainRefusedError} in plain words. `onSent` hears the hash as soon as the node has the transaction.
 */
export async function send<A extends unknown[]>(
  method: WriteMethod<A>,
  args: A,
  ctx: DecodeContext,
  options: { onSent?: (hash: string) => void; timeoutMs?: number } = {},
): Promise<WriteResult> {
  let tx: ContractTransactionResponse;
  try {
    tx = await method(...args);
  } catch (error) {
    throw toNetDollarError(error, ctx);
  }
  options.onSent?.(tx.hash);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const receipt = await tx.wait(1, timeoutMs).catch((error: unknown) => {
    if (isError(error, "TIMEOUT"))
      throw new ChainUnreachableError(`no receipt for ${tx.hash} within ${timeoutMs / 1000} s`, {
        details: "it may still be mined: look it up by its hash before sending it again",
      });
    throw toNetDollarError(error, ctx);
  });
  if (!receipt || receipt.status !== 1) throw new ChainRefusedError(`transaction ${tx.hash} reverted`);
  return { hash: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
}

/**
 * Simulates a call and, only if it would succeed, sends it and waits for the receipt.
 *
 * @example
 * const { hash, gasUsed } = await simulateAndSend(token.connect(signer).mint, [to, amount], { symbol: "NETD" });
 */
export async function simulateAndSend<A extends unknown[]>(method: WriteMethod<A>, args: A, ctx: DecodeContext): Promise<WriteResult> {
  await simulate(method, args, ctx);
  return send(method, args, ctx);
}
