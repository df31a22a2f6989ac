import { isError, type Provider, type Signer, type TransactionRequest, type TransactionResponse } from "ethers";
import { walkError } from "../decode";

/**
 * Submits the relayer's transactions one at a time with nonces counted here, so that concurrent settlements never
 * collide; waiting for receipts happens outside the queue. After a failed submission the next one re-reads the
 * nonce from the chain.
 */
export class RelayerQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private nextNonce?: number;
  private fees?: { at: number; maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null; gasPrice: bigint | null };

  constructor(
    private readonly signer: Signer,
    private readonly provider: Provider,
  ) {}

  async send(request: TransactionRequest): Promise<TransactionResponse> {
    const fees = await this.feeData();
    const feeFields =
      fees.maxFeePerGas !== null ? { maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas } : { gasPrice: fees.gasPrice };
    const run = async () => {
      const address = await this.signer.getAddress();
      for (let attempt = 1; ; attempt++) {
        this.nextNonce ??= await this.provider.getTransactionCount(address, "pending");
        const nonce = this.nextNonce;
        try {
          const tx = await this.signer.sendTransaction({ ...request, ...feeFields, nonce });
          this.nextNonce = nonce + 1;
          return tx;
        } catch (error) {
          this.nextNonce = undefined; // re-read from the chain next time
          // The key was used elsewhere (another process, an operator): count again from the chain and retry.
          if (attempt < 3 && isNonceTooLow(error)) continue;
          throw error;
        }
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async feeData() {
    if (!this.fees || Date.now() - this.fees.at > 2_000) {
      const f = await this.provider.getFeeData();
      this.fees = { at: Date.now(), maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas, gasPrice: f.gasPrice };
    }
    return this.fees;
  }
}

/** The node refused a nonce already used: the key sent a transaction elsewhere (another process, an operator). */
function isNonceTooLow(error: unknown): boolean {
  if (isError(error, "NONCE_EXPIRED")) return true;
  return walkError(error, (l) => /nonce too low|nonce has already been used/i.test(String((l as { message?: unknown }).message ?? ""))) !== undefined;
}
