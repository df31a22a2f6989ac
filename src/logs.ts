import { JsonRpcProvider, toQuantity, type Filter, type Provider } from "ethers";
import { ChainUnreachableError } from "./errors";

/** What the scans need of a log. */
export interface RawLog {
  blockNumber: number;
  transactionHash: string;
  topics: string[];
  data: string;
}

/**
 * One eth_getLogs request. Against a JSON-RPC endpoint it goes straight to the wire with Node's fetch and JSON.parse
 * (ethers' own path decodes UTF-8 and checksums every address in JavaScript: 4-5 times slower on large answers);
 * any other provider (e.g. Hardhat's in-process one) goes through ethers.
 */
async function getLogs(provider: Provider, filter: Filter & { fromBlock: number; toBlock: number }): Promise<RawLog[]> {
  if (provider instanceof JsonRpcProvider) {
    const request = provider._getConnection();
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_getLogs",
        params: [{ address: filter.address, topics: filter.topics, fromBlock: toQuantity(filter.fromBlock), toBlock: toQuantity(filter.toBlock) }],
      }),
    });
    const body = (await response.json()) as {
      result?: { blockNumber: string; transactionHash: string; topics: string[]; data: string }[];
      error?: { message?: string };
    };
    if (body.error || !body.result) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    return body.result.map((l) => ({ blockNumber: Number(l.blockNumber), transactionHash: l.transactionHash, topics: l.topics, data: l.data }));
  }
  return (await provider.getLogs(filter)).map((l) => ({ blockNumber: l.blockNumber, transactionHash: l.transactionHash, topics: [...l.topics], data: l.data }));
}

/** Parameters of {@link scanLogs}. */
export interface ScanLogsParameters {
  provider: Provider;
  address: string;
  /** topics[0] alternatives: the event signatures wanted. */
  topics: string[];
  /** The indexed arguments after it (topics[1], topics[2], ...), each a 32-byte value to match or null for any. */
  indexed?: (string | null)[];
  fromBlock: number;
  toBlock: number;
  /** Blocks per request at most (default 10,000); halved whenever the provider refuses a range. */
  chunkSize?: number;
  /**
   * Logs per request to aim for (default 5,000): after each answer the range is resized towards it, so memory
   * stays flat however dense the history is.
   */
  targetLogs?: number;
  /** First delay before retrying a failed request, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  /** Called after each chunk with the last block scanned. */
  onProgress?: (scannedTo: number) => void;
}

const RANGE_LIMIT = /range|limit|too many|exceed|more than|10000|query returned|response size/i;

/**
 * Streams logs in block ranges, oldest first, one chunk at a time, so that memory stays flat however long the
 * history is: ranges start small and are resized after each answer towards `targetLogs` logs. Shrinks the range
 * when a provider limits it, and retries a transient failure three times.
 *
 * @example
 * for await (const logs of scanLogs({ provider, address, topics: [transferTopic], fromBlock: 0, toBlock: head })) { ... }
 */
export async function* scanLogs(params: ScanLogsParameters): AsyncGenerator<RawLog[]> {
  const maxChunk = Math.max(1, params.chunkSize ?? 10_000);
  // Start small and grow: the first answer is the only one not sized by the ones before it.
  let chunk = 1;
  let from = params.fromBlock;
  let failures = 0;
  while (from <= params.toBlock) {
    const to = Math.min(params.toBlock, from + chunk - 1);
    let logs: RawLog[];
    try {
      logs = await getLogs(params.provider, { address: params.address, topics: [params.topics, ...(params.indexed ?? [])], fromBlock: from, toBlock: to });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (chunk > 1 && RANGE_LIMIT.test(message)) {
        chunk = Math.max(1, Math.floor(chunk / 2));
        continue;
      }
      if (++failures > 3) {
        throw new ChainUnreachableError(`cannot read logs of blocks ${from}-${to}`, { details: message, cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, (params.retryDelayMs ?? 250) * 2 ** (failures - 1)));
      continue;
    }
    failures = 0;
    yield logs;
    params.onProgress?.(to);
    // Aim the next range at the target number of logs, within [1, the configured maximum].
    const span = to - from + 1;
    from = to + 1;
    const target = params.targetLogs ?? 5_000;
    const ideal = logs.length === 0 ? maxChunk : Math.floor((span * target) / logs.length);
    chunk = Math.max(1, Math.min(maxChunk, ideal, chunk * 2));
  }
}
