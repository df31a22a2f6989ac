import type { Filter, Log, Provider } from "ethers";
import { ChainUnreachableError } from "./errors";

/** Parameters of {@link scanLogs}. */
export interface ScanLogsParameters {
  provider: Provider;
  address: string;
  /** topics[0] alternatives: the event signatures wanted. */
  topics: string[];
  fromBlock: number;
  toBlock: number;
  /** Blocks per request to start with (default 10,000); halved whenever the provider refuses a range. */
  chunkSize?: number;
  /** First delay before retrying a failed request, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  /** Called after each chunk with the last block scanned. */
  onProgress?: (scannedTo: number) => void;
}

const RANGE_LIMIT = /range|limit|too many|exceed|more than|10000|query returned|response size/i;

/**
 * Streams logs in block ranges, oldest first, one chunk at a time, so that memory stays flat however long the
 * history is. Shrinks the range when a provider limits it, and retries a transient failure three times.
 *
 * @example
 * for await (const logs of scanLogs({ provider, address, topics: [transferTopic], fromBlock: 0, toBlock: head })) { ... }
 */
export async function* scanLogs(params: ScanLogsParameters): AsyncGenerator<Log[]> {
  let chunk = Math.max(1, params.chunkSize ?? 10_000);
  let from = params.fromBlock;
  let failures = 0;
  while (from <= params.toBlock) {
    const to = Math.min(params.toBlock, from + chunk - 1);
    const filter: Filter = { address: params.address, topics: [params.topics], fromBlock: from, toBlock: to };
    let logs: Log[];
    try {
      logs = await params.provider.getLogs(filter);
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
    from = to + 1;
  }
}
