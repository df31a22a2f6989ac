import { FetchRequest, JsonRpcProvider, Network } from "ethers";
import { ChainUnreachableError, ConfigurationError } from "./errors";
import { isDevnet } from "./devnet";

/** Parameters of {@link connect}. */
export interface ConnectParameters {
  rpcUrl: string;
  /** Milliseconds to wait for the endpoint's first answer (default 10 s). */
  timeoutMs?: number;
  /**
   * How often to poll for new blocks while waiting for a receipt, in ms: default 200 on a devnet (chain 31337, 31338 or 1337,
   * which mines on demand), 1,000 elsewhere (env NETD_POLL_INTERVAL_MS overrides both). ethers' own default, 4 s,
   * leaves a paid request waiting seconds after its settlement was mined.
   */
  pollingIntervalMs?: number;
}

/**
 * Connects to a JSON-RPC endpoint and learns its chain id with one bounded request, so that an unreachable or
 * wrong endpoint fails at once with a clear {@link ChainUnreachableError} instead of ethers' endless retries. The
 * provider it returns has a fixed network and no response cache (back-to-back transactions see fresh nonces).
 *
 * @example
 * const provider = await connect({ rpcUrl: "http://127.0.0.1:8545" });
 */
export async function connect(params: ConnectParameters): Promise<JsonRpcProvider> {
  let url: URL;
  try {
    url = new URL(params.rpcUrl);
  } catch {
    throw new ConfigurationError(`RPC URL "${params.rpcUrl}" is not a URL`, { details: "e.g. http://127.0.0.1:8545" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigurationError(`RPC URL "${params.rpcUrl}" is not http(s)`);
  }
  const chainId = await fetchChainId(params.rpcUrl, params.timeoutMs ?? 10_000);
  const request = new FetchRequest(params.rpcUrl);
  request.timeout = 120_000;
  const provider = new JsonRpcProvider(request, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = params.pollingIntervalMs ?? pollingIntervalFor(chainId);
  return provider;
}

/**
 * Connects to every endpoint of a multi-chain read; those that do not answer are returned with the reason instead of
 * failing the rest (the caller reports the chains they leave unread). A malformed URL still throws.
 *
 * @example
 * const { providers, unreachable } = await connectEach(["http://127.0.0.1:8545", "http://127.0.0.1:8546"]);
 */
export async function connectEach(rpcUrls: string[]): Promise<{ providers: JsonRpcProvider[]; unreachable: { url: string; message: string }[] }> {
  const results = await Promise.allSettled(rpcUrls.map((rpcUrl) => connect({ rpcUrl })));
  const providers: JsonRpcProvider[] = [];
  const unreachable: { url: string; message: string }[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") providers.push(r.value);
    else if (r.reason instanceof ChainUnreachableError) unreachable.push({ url: rpcUrls[i], message: r.reason.shortMessage });
    else throw r.reason;
  });
  return { providers, unreachable };
}

/** The receipt polling interval for a chain (see {@link ConnectParameters.pollingIntervalMs}). */
export function pollingIntervalFor(chainId: bigint, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NETD_POLL_INTERVAL_MS?.trim();
  if (raw) {
    const configured = Number(raw);
    if (!/^\d+$/.test(raw) || configured < 10 || configured > 60_000)
      throw new ConfigurationError(`NETD_POLL_INTERVAL_MS "${raw}" is not a number of milliseconds from 10 to 60000`);
    return configured;
  }
  return isDevnet(chainId) ? 200 : 1_000;
}

async function fetchChainId(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    const reason = cause instanceof Error && cause.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : describe(cause);
    // The next step, for the usual case: a local devnet that is not running.
    const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(rpcUrl);
    throw new ChainUnreachableError(`cannot reach the RPC endpoint ${rpcUrl}`, {
      details: local ? `${reason}; is \`npx netd devnet\` running (or --rpc-url / NETD_RPC_URL pointing elsewhere)?` : reason,
      cause,
    });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new ChainUnreachableError(`the RPC endpoint ${rpcUrl} did not answer JSON-RPC`, {
      details: `HTTP ${response.status} ${response.statusText}`,
      cause,
    });
  }
  const result = (body as { result?: unknown }).result;
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new ChainUnreachableError(`the RPC endpoint ${rpcUrl} did not return a chain id`, { details: JSON.stringify(body) });
  }
  return BigInt(result);
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: { code?: string; message?: string } }).cause;
    if (inner?.code) return `${inner.code}${inner.message ? `: ${inner.message}` : ""}`;
    return inner?.message ? `${cause.message}: ${inner.message}` : cause.message;
  }
  return String(cause);
}
