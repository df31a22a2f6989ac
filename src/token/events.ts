import { decodeBytes32String, type Provider } from "ethers";
import { NetDollarV2__factory } from "../../typechain-types";
import { InvalidInputError } from "../errors";
import { scanLogs } from "../logs";
import { roleLabel } from "../roles";

/**
 * The token's history as an operator reads it: supply changes, enforcement, roles, minters, pause and admin
 * transfers. Each kind groups the events an operator filters on together.
 */
export const EVENT_KINDS = {
  mint: ["Mint"],
  burn: ["Burn"],
  redeem: ["Redeemed"],
  seize: ["Seized"],
  blocklist: ["Blocklisted", "Unblocklisted"],
  role: ["RoleGranted", "RoleRevoked"],
  minter: ["MinterConfigured", "MinterRemoved"],
  pause: ["Paused", "Unpaused"],
  admin: ["DefaultAdminTransferScheduled", "DefaultAdminTransferCanceled", "DefaultAdminDelayChangeScheduled", "DefaultAdminDelayChangeCanceled"],
  reserve: ["ReserveGuardConfigured", "ReserveGuardDisabled"],
  rescue: ["TokensRescued"],
  authorization: ["AuthorizationUsed", "AuthorizationCanceled"],
} as const;

export type EventKind = keyof typeof EVENT_KINDS;
export const EVENT_KIND_NAMES = Object.keys(EVENT_KINDS) as EventKind[];

/** One event, decoded: its arguments by name (addresses checksummed, amounts in base units, roles by name). */
export interface TokenEvent {
  kind: EventKind;
  name: string;
  blockNumber: number;
  transactionHash: string;
  args: Record<string, string | bigint>;
}

/** Parameters of {@link getTokenEvents}. */
export interface TokenEventsParameters {
  provider: Provider;
  token: string;
  fromBlock: number;
  toBlock: number;
  /** Only these kinds (default: all). */
  kinds?: EventKind[];
  /** Only events naming this account in any argument. */
  account?: string;
  /** Called after each chunk of blocks scanned. */
  onProgress?: (scannedTo: number) => void;
}

/** "mint" or "Mint" or "mints" → the kind; anything else is bad input that lists the kinds. */
export function parseEventKind(input: string): EventKind {
  const text = input.trim().toLowerCase().replace(/s$/, "");
  const kind = EVENT_KIND_NAMES.find((k) => k === text || EVENT_KINDS[k].some((e) => e.toLowerCase() === input.trim().toLowerCase()));
  if (!kind) throw new InvalidInputError(`unknown event type "${input}"`, { details: `types: ${EVENT_KIND_NAMES.join(", ")}` });
  return kind;
}

const iface = NetDollarV2__factory.createInterface();

/**
 * The token's events between two blocks, oldest first, decoded. Reads in chunks (see scanLogs), so memory stays
 * flat over a long history.
 *
 * @example
 * const mints = await getTokenEvents({ provider, token, fromBlock: deployedAt, toBlock: head, kinds: ["mint"] });
 */
export async function getTokenEvents(params: TokenEventsParameters): Promise<TokenEvent[]> {
  const kinds = params.kinds?.length ? params.kinds : EVENT_KIND_NAMES;
  const kindOf = new Map<string, EventKind>();
  for (const kind of kinds) for (const name of EVENT_KINDS[kind]) kindOf.set(iface.getEvent(name)!.topicHash, kind);
  const account = params.account?.toLowerCase();
  const events: TokenEvent[] = [];
  const scan = scanLogs({
    provider: params.provider,
    address: params.token,
    topics: [...kindOf.keys()],
    fromBlock: params.fromBlock,
    toBlock: params.toBlock,
    onProgress: params.onProgress,
  });
  for await (const logs of scan) {
    for (const log of logs) {
      const parsed = iface.parseLog(log);
      if (!parsed) continue;
      const args: Record<string, string | bigint> = {};
      parsed.fragment.inputs.forEach((input, i) => {
        const value = parsed.args[i] as unknown;
        if (input.type === "bytes32" && input.name === "role") args[input.name] = roleLabel(value as string);
        else if (input.type === "bytes32" && input.name === "referenceId") args.reference = readableReference(value as string);
        else args[input.name] = typeof value === "bigint" ? value : String(value);
      });
      if (account && !Object.values(args).some((v) => typeof v === "string" && v.toLowerCase() === account)) continue;
      events.push({ kind: kindOf.get(log.topics[0])!, name: parsed.name, blockNumber: log.blockNumber, transactionHash: log.transactionHash, args });
    }
  }
  return events;
}

/** A redemption reference as written: its text when it is readable, else the 32-byte hash. */
function readableReference(word: string): string {
  try {
    const text = decodeBytes32String(word);
    if (/^[\x20-\x7e]+$/.test(text)) return text;
  } catch {
    // not a short string: the hash of a longer reference
  }
  return word;
}
