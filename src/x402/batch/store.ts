/**
 * What a paywall must not forget about its payment channels, in a database (see ../../db.ts): each channel's on-chain
 * state as last read, what it has charged, the highest voucher it holds (the only claim on the money), and every
 * voucher it served a request for. Every update is one atomic statement, so processes sharing a PostgreSQL server
 * never charge a voucher twice, never beyond its ceiling or the deposit, and never lose the latest voucher.
 */
import { getAddress } from "ethers";
import { big, type Database } from "../../db";
import type { ChannelConfig } from "./channel";
import type { ChannelState } from "./state";

/** A channel as the paywall knows it. */
export interface StoredChannel {
  channelId: string;
  network: string;
  config: ChannelConfig;
  balance: bigint;
  totalClaimed: bigint;
  withdrawRequestedAt: number;
  refundNonce: bigint;
  payerBlocklisted: boolean;
  /** The cumulative price of every request served on this channel. */
  charged: bigint;
  /** The highest voucher ceiling held (0 when none) and its signature. */
  signedMax: bigint;
  signature: string;
  syncedAt: Date;
  lastRequestAt: Date;
}

/** Why a voucher was not charged. */
export type ChargeRefusal =
  /** No such channel in the store. */
  | "unknown"
  /** No voucher held covers what was charged before plus this price: the client's count is behind. */
  | "mismatch"
  /** This very voucher (channel and ceiling) was already served. */
  | "replayed"
  /** Its ceiling is above the channel's balance as last read. */
  | "exceeds-balance"
  /** The payer has started a timed withdrawal. */
  | "withdrawing"
  /** The payer is on the token's blocklist (as last read). */
  | "blocklisted";

/**
 * `redelivery`: this voucher was charged before and its answer never left (the server died first): serve it now,
 * without charging again.
 */
export type ChargeOutcome = { ok: true; channel: StoredChannel; redelivery?: boolean } | { ok: false; refusal: ChargeRefusal; channel?: StoredChannel };

/** One voucher to charge: `price` for a request, under a voucher for `ceiling` in total. */
export interface Charge {
  channelId: string;
  ceiling: bigint;
  signature: string;
  price: bigint;
  route: string;
}

/** A channel with something charged and not yet claimed on chain. */
export interface Unclaimed {
  channelId: string;
  config: ChannelConfig;
  signedMax: bigint;
  signature: string;
  charged: bigint;
  totalClaimed: bigint;
  withdrawRequestedAt: number;
}

const COLUMNS = `channel_id, network, config, balance::text AS balance, total_claimed::text AS total_claimed,
  withdraw_requested_at, refund_nonce::text AS refund_nonce, payer_blocklisted, charged::text AS charged, signed_max::text AS signed_max,
  signature, synced_at, last_request_at`;

interface Row {
  channel_id: string;
  network: string;
  config: ChannelConfig | string;
  balance: string;
  total_claimed: string;
  withdraw_requested_at: string | number;
  refund_nonce: string;
  payer_blocklisted: boolean;
  charged: string;
  signed_max: string;
  signature: string;
  synced_at: Date | string;
  last_request_at: Date | string;
}

function toChannel(r: Row): StoredChannel {
  return {
    channelId: r.channel_id,
    network: r.network,
    config: typeof r.config === "string" ? (JSON.parse(r.config) as ChannelConfig) : r.config,
    balance: big(r.balance),
    totalClaimed: big(r.total_claimed),
    withdrawRequestedAt: Number(r.withdraw_requested_at),
    refundNonce: big(r.refund_nonce),
    payerBlocklisted: r.payer_blocklisted,
    charged: big(r.charged),
    signedMax: big(r.signed_max),
    signature: r.signature,
    syncedAt: new Date(r.synced_at),
    lastRequestAt: new Date(r.last_request_at),
  };
}

/** Postgres' unique-violation SQLSTATE. */
const UNIQUE_VIOLATION = "23505";

/**
 * The channel store. Amounts are bigints here and numeric(78,0) in the database.
 *
 * @example
 * const store = new ChannelStore(await openDatabase(".netd/db"));
 * const outcome = await store.charge({ channelId, ceiling: 2_000n, signature, price: 100n, route: "GET /joke" });
 */
export class ChannelStore {
  private readonly pendingServed = new Map<string, { channelId: string; ceiling: bigint }>();
  private flushTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly db: Database,
    private readonly servedFlushMs = 50,
  ) {}

  async get(channelId: string): Promise<StoredChannel | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM netd_channels WHERE channel_id = $1`, [channelId.toLowerCase()]);
    return rows[0] ? toChannel(rows[0]) : undefined;
  }

  /**
   * Records a channel's on-chain state: a new channel starts with nothing charged beyond what is claimed on chain; a
   * known one takes the new balance, withdrawal, refund nonce and blocklist status, and never lowers what it has
   * claimed.
   */
  async sync(network: string, config: ChannelConfig, state: ChannelState, payerBlocklisted = false): Promise<StoredChannel> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO netd_channels AS c (channel_id, network, config, receiver, token, balance, total_claimed, withdraw_requested_at, refund_nonce, payer_blocklisted, charged, signed_max)
       VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, $9::numeric, $10, $7::numeric, 0)
       ON CONFLICT (channel_id) DO UPDATE SET
         balance = EXCLUDED.balance,
         total_claimed = GREATEST(c.total_claimed, EXCLUDED.total_claimed),
         charged = GREATEST(c.charged, EXCLUDED.total_claimed),
         withdraw_requested_at = EXCLUDED.withdraw_requested_at,
         refund_nonce = GREATEST(c.refund_nonce, EXCLUDED.refund_nonce),
         payer_blocklisted = EXCLUDED.payer_blocklisted,
         synced_at = now()
       RETURNING ${COLUMNS}`,
      [
        state.channelId.toLowerCase(),
        network,
        JSON.stringify(config),
        getAddress(config.receiver),
        getAddress(config.token),
        state.balance.toString(),
        state.totalClaimed.toString(),
        state.withdrawRequestedAt,
        state.refundNonce.toString(),
        payerBlocklisted,
      ],
    );
    return toChannel(rows[0]);
  }

  /**
   * Charges `price` under a voucher, atomically: only if this ceiling was never served before, it is within the
   * balance, no withdrawal is pending, and the highest voucher held afterwards covers everything charged plus this
   * price. The voucher is kept when it is the highest.
   *
   * This is what lets one channel carry parallel requests: a client signs the ceilings base + p, base + 2p, … for its
   * in-flight requests, and they may arrive in any order (the row lock sequences them), each is served once, and the
   * total charged never exceeds the highest voucher held, which is what the server claims with. A replayed voucher
   * hits the (channel, ceiling) key and is refused.
   */
  async charge(c: Charge): Promise<ChargeOutcome> {
    const id = c.channelId.toLowerCase();
    try {
      const { rows } = await this.db.query<Row>(
        `WITH updated AS (
           UPDATE netd_channels SET
             charged = charged + $3::numeric,
             signature = CASE WHEN $2::numeric > signed_max THEN $4 ELSE signature END,
             signed_max = GREATEST(signed_max, $2::numeric),
             last_request_at = now()
           WHERE channel_id = $1 AND charged + $3::numeric <= GREATEST(signed_max, $2::numeric) AND $2::numeric <= balance AND withdraw_requested_at = 0 AND NOT payer_blocklisted
           RETURNING ${COLUMNS}
         ), served AS (
           INSERT INTO netd_vouchers (channel_id, max_claimable, signature, amount, charged_after, route)
           SELECT $1, $2::numeric, $4, $3::numeric, updated.charged::numeric, $5 FROM updated
           RETURNING channel_id
         )
         SELECT updated.* FROM updated, served`,
        [id, c.ceiling.toString(), c.price.toString(), c.signature, c.route],
      );
      if (rows[0]) return { ok: true, channel: toChannel(rows[0]) };
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      return (await this.redeliver(c)) ?? { ok: false, refusal: "replayed", channel: await this.get(id) };
    }
    const channel = await this.get(id);
    if (!channel) return { ok: false, refusal: "unknown" };
    const again = await this.redeliver(c);
    if (again) return again;
    if (channel.withdrawRequestedAt !== 0) return { ok: false, refusal: "withdrawing", channel };
    if (channel.payerBlocklisted) return { ok: false, refusal: "blocklisted", channel };
    if (c.ceiling > channel.balance) return { ok: false, refusal: "exceeds-balance", channel };
    return { ok: false, refusal: "mismatch", channel };
  }

  /**
   * Before a cooperative refund: returns the channel as it is and lowers its recorded balance to what is charged, in
   * one transaction, so no voucher is charged against money that is about to leave. After the refund (or its
   * failure) {@link sync} records the chain's balance again.
   */
  async holdForRefund(channelId: string): Promise<StoredChannel | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM netd_channels WHERE channel_id = $1 FOR UPDATE`, [channelId.toLowerCase()]);
      if (!rows[0]) return undefined;
      await tx.query(`UPDATE netd_channels SET balance = charged WHERE channel_id = $1`, [channelId.toLowerCase()]);
      return toChannel(rows[0]);
    });
  }

  /**
   * A voucher presented again that was charged for this route and never served (same signature): taken for serving
   * now, once (the row is marked served atomically, so two presentations cannot both be served).
   */
  private async redeliver(c: Charge): Promise<ChargeOutcome | undefined> {
    if (this.pendingServed.has(`${c.channelId.toLowerCase()}:${c.ceiling}`)) return undefined;
    const { rows } = await this.db.query(
      `UPDATE netd_vouchers SET served_at = now() WHERE channel_id = $1 AND max_claimable = $2::numeric AND signature = $3 AND route = $4 AND served_at IS NULL RETURNING channel_id`,
      [c.channelId.toLowerCase(), c.ceiling.toString(), c.signature, c.route],
    );
    if (rows.length === 0) return undefined;
    return { ok: true, channel: (await this.get(c.channelId))!, redelivery: true };
  }

  /** A voucher charged before, if any: its signature and whether its response went out. */
  async voucher(channelId: string, ceiling: bigint): Promise<{ signature: string; served: boolean } | undefined> {
    const { rows } = await this.db.query<{ signature: string; served: boolean }>(
      `SELECT signature, served_at IS NOT NULL AS served FROM netd_vouchers WHERE channel_id = $1 AND max_claimable = $2::numeric`,
      [channelId.toLowerCase(), ceiling.toString()],
    );
    const served = this.pendingServed.has(`${channelId.toLowerCase()}:${ceiling}`);
    return rows[0] ? { signature: rows[0].signature, served: rows[0].served || served } : undefined;
  }

  /**
   * Marks a charged voucher served (its response was handed to the network). The marks are written in batches, one
   * statement every `servedFlushMs` (a write per request would double the database's work); until then this process
   * already treats the voucher as served. A process that dies loses its unwritten marks: those answered vouchers
   * could then be served once more if presented again (never charged again).
   */
  markServed(channelId: string, ceiling: bigint): void {
    this.pendingServed.set(`${channelId.toLowerCase()}:${ceiling}`, { channelId: channelId.toLowerCase(), ceiling });
    this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), this.servedFlushMs);
  }

  /** Writes the pending "served" marks now (one flush at a time; rows locked in key order, so flushes never deadlock). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const run = this.flushing.then(async () => {
      if (this.pendingServed.size === 0) return;
      const marks = [...this.pendingServed.values()];
      await this.db.query(
        `UPDATE netd_vouchers AS v SET served_at = now()
         FROM (SELECT channel_id, max_claimable FROM netd_vouchers
               WHERE (channel_id, max_claimable) IN (SELECT unnest($1::text[]), unnest($2::text[])::numeric) AND served_at IS NULL
               ORDER BY channel_id, max_claimable FOR UPDATE) AS m
         WHERE v.channel_id = m.channel_id AND v.max_claimable = m.max_claimable`,
        [marks.map((m) => m.channelId), marks.map((m) => m.ceiling.toString())],
      );
      for (const m of marks) this.pendingServed.delete(`${m.channelId}:${m.ceiling}`);
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Channels of `receiver` in `token` with something charged and unclaimed, those with a pending withdrawal first. */
  async unclaimed(network: string, receiver: string, token: string, limit: number): Promise<Unclaimed[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM netd_channels
       WHERE network = $1 AND receiver = $2 AND token = $3 AND charged > total_claimed AND signed_max > 0
       ORDER BY (withdraw_requested_at <> 0) DESC, last_request_at LIMIT $4`,
      [network, getAddress(receiver), getAddress(token), limit],
    );
    return rows.map(toChannel).map((c) => ({
      channelId: c.channelId,
      config: c.config,
      signedMax: c.signedMax,
      signature: c.signature,
      charged: c.charged,
      totalClaimed: c.totalClaimed,
      withdrawRequestedAt: c.withdrawRequestedAt,
    }));
  }

  /** What is charged and not claimed, in total, for a receiver's channels. */
  async unclaimedTotal(network: string, receiver: string, token: string): Promise<{ amount: bigint; channels: number; withdrawing: number }> {
    const { rows } = await this.db.query<{ amount: string | null; channels: string | number; withdrawing: string | number }>(
      `SELECT COALESCE(SUM(charged - total_claimed), 0)::text AS amount, COUNT(*) AS channels, COUNT(*) FILTER (WHERE withdraw_requested_at <> 0) AS withdrawing
       FROM netd_channels WHERE network = $1 AND receiver = $2 AND token = $3 AND charged > total_claimed AND signed_max > 0`,
      [network, getAddress(receiver), getAddress(token)],
    );
    return { amount: big(rows[0]?.amount ?? "0"), channels: Number(rows[0]?.channels ?? 0), withdrawing: Number(rows[0]?.withdrawing ?? 0) };
  }

  /** Records what a confirmed claim moved: each channel's claimed total (never lowered). */
  async markClaimed(claims: readonly { channelId: string; totalClaimed: bigint }[]): Promise<void> {
    if (claims.length === 0) return;
    await this.db.query(
      `UPDATE netd_channels AS c SET total_claimed = GREATEST(c.total_claimed, v.total::numeric)
       FROM (SELECT unnest($1::text[]) AS id, unnest($2::text[]) AS total) AS v WHERE c.channel_id = v.id`,
      [claims.map((c) => c.channelId.toLowerCase()), claims.map((c) => c.totalClaimed.toString())],
    );
  }

  /** Records a claim transaction (sent, then confirmed or failed). */
  async recordClaim(
    network: string,
    claim: { transaction: string; channels: number; amount: bigint; status: "confirmed" | "failed"; error?: string },
  ): Promise<void> {
    await this.db.query(`INSERT INTO netd_claims (network, transaction, channels, amount, status, error) VALUES ($1, $2, $3, $4::numeric, $5, $6)`, [
      network,
      claim.transaction,
      claim.channels,
      claim.amount.toString(),
      claim.status,
      claim.error ?? null,
    ]);
  }

  /** Marks a payer's timed withdrawal (from its `WithdrawInitiated` event); vouchers are refused from then on. */
  async markWithdrawal(channelId: string, initiatedAt: number): Promise<boolean> {
    const { rows } = await this.db.query(`UPDATE netd_channels SET withdraw_requested_at = $2 WHERE channel_id = $1 RETURNING channel_id`, [
      channelId.toLowerCase(),
      initiatedAt,
    ]);
    return rows.length > 0;
  }

  /**
   * Takes (or renews) the lease `name` for `holder` for `ms` milliseconds; false when another holder's lease is live.
   * Processes sharing the database run claims one at a time this way.
   */
  async lease(name: string, holder: string, ms: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO netd_leases AS l (name, holder, expires_at) VALUES ($1, $2, now() + ($3::text || ' milliseconds')::interval)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
       RETURNING holder`,
      [name, holder, String(ms)],
    );
    return rows.length > 0;
  }

  /** Gives a lease back. */
  async release(name: string, holder: string): Promise<void> {
    await this.db.query(`DELETE FROM netd_leases WHERE name = $1 AND holder = $2`, [name, holder]);
  }

  /** Totals over every channel: what was served (vouchers), charged and claimed. */
  async totals(): Promise<{ vouchers: number; charged: bigint; claimed: bigint; channels: number }> {
    const [v, c] = await Promise.all([
      this.db.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM netd_vouchers`),
      this.db.query<{ charged: string; claimed: string; n: string | number }>(
        `SELECT COALESCE(SUM(charged), 0)::text AS charged, COALESCE(SUM(total_claimed), 0)::text AS claimed, COUNT(*) AS n FROM netd_channels`,
      ),
    ]);
    return { vouchers: Number(v.rows[0].n), charged: big(c.rows[0].charged), claimed: big(c.rows[0].claimed), channels: Number(c.rows[0].n) };
  }
}
