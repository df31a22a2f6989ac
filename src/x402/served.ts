/**
 * Which `exact` payments a paywall has served, so that a payment whose money moved is served exactly once: when its
 * first answer was lost (the paywall died after settling, the connection dropped), presenting it again serves it; once
 * its answer has left, presenting it again is refused. In a database (shared by a paywall's processes, kept across
 * restarts) or, without one, in this process's memory (a restart then forgets what was served, and a payment
 * presented again after it would be served once more).
 */
import type { Database } from "../db";

export class ServedPayments {
  private readonly memory = new Map<string, { state: "taken" | "served"; validBefore: bigint }>();
  /** Checkouts paid, in memory: checkout hash → the payment that claimed it, and when the checkout expires. */
  private readonly checkouts = new Map<string, { payment: string; exp: number }>();

  constructor(private readonly db?: Database) {}

  /** Whether it is kept in a database (across restarts and processes), not in this process's memory. */
  get durable(): boolean {
    return this.db !== undefined;
  }

  /**
   * Takes a settled payment for serving: true the first time, and again while its answer has not left (a lost
   * answer); false once it was served.
   */
  async take(p: { network: string; payer: string; nonce: string; route: string; transaction: string; validBefore: bigint }): Promise<boolean> {
    const key = `${p.network}:${p.payer}:${p.nonce}`.toLowerCase();
    if (!this.db) {
      const known = this.memory.get(key);
      if (known?.state === "served") return false;
      this.prune();
      this.memory.set(key, { state: "taken", validBefore: p.validBefore });
      return true;
    }
    const args = [p.network, p.payer.toLowerCase(), p.nonce.toLowerCase()];
    const inserted = await this.db.query(
      `INSERT INTO netd_exact_payments (network, payer, nonce, route, transaction) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING nonce`,
      [...args, p.route, p.transaction],
    );
    if (inserted.rows.length > 0) return true;
    const unserved = await this.db.query(`SELECT nonce FROM netd_exact_payments WHERE network = $1 AND payer = $2 AND nonce = $3 AND served_at IS NULL`, args);
    return unserved.rows.length > 0;
  }

  /** Its response was handed to the network: presenting it again is a replay from now on. */
  async served(p: { network: string; payer: string; nonce: string; validBefore: bigint }): Promise<void> {
    const key = `${p.network}:${p.payer}:${p.nonce}`.toLowerCase();
    if (!this.db) {
      this.memory.set(key, { state: "served", validBefore: p.validBefore });
      return;
    }
    await this.db.query(`UPDATE netd_exact_payments SET served_at = now() WHERE network = $1 AND payer = $2 AND nonce = $3 AND served_at IS NULL`, [
      p.network,
      p.payer.toLowerCase(),
      p.nonce.toLowerCase(),
    ]);
  }

  /** Whether it was served (its answer left). */
  async wasServed(p: { network: string; payer: string; nonce: string }): Promise<boolean> {
    const key = `${p.network}:${p.payer}:${p.nonce}`.toLowerCase();
    if (!this.db) return this.memory.get(key)?.state === "served";
    const { rows } = await this.db.query(`SELECT nonce FROM netd_exact_payments WHERE network = $1 AND payer = $2 AND nonce = $3 AND served_at IS NOT NULL`, [
      p.network,
      p.payer.toLowerCase(),
      p.nonce.toLowerCase(),
    ]);
    return rows.length > 0;
  }

  /**
   * Claims a checkout (selling by checkout, src/x402/checkouts.ts) for the payment `p`, before it is settled: true when
   * it is the first payment to present it, or the same payment again (its answer lost); false when another payment
   * claimed it, which must then not be settled.
   */
  async claimCheckout(c: { hash: string; orderId: string; exp: number }, p: { network: string; payer: string; nonce: string }): Promise<boolean> {
    const payment = `${p.network}:${p.payer}:${p.nonce}`.toLowerCase();
    if (!this.db) {
      const known = this.checkouts.get(c.hash);
      if (known) return known.payment === payment;
      if (this.checkouts.size >= 10_000) {
        const now = Math.floor(Date.now() / 1000);
        for (const [hash, v] of this.checkouts) if (v.exp < now) this.checkouts.delete(hash);
      }
      this.checkouts.set(c.hash, { payment, exp: c.exp });
      return true;
    }
    const args = [c.hash, c.orderId, p.network, p.payer.toLowerCase(), p.nonce.toLowerCase()];
    await this.db.query(
      `INSERT INTO netd_checkouts (checkout_hash, order_id, network, payer, nonce) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkout_hash) DO NOTHING`,
      args,
    );
    const { rows } = await this.db.query<{ network: string; payer: string; nonce: string }>(
      `SELECT network, payer, nonce FROM netd_checkouts WHERE checkout_hash = $1`,
      [c.hash],
    );
    return rows.length > 0 && `${rows[0].network}:${rows[0].payer}:${rows[0].nonce}`.toLowerCase() === payment;
  }

  private prune(): void {
    if (this.memory.size < 10_000) return;
    const now = BigInt(Math.floor(Date.now() / 1000));
    for (const [key, v] of this.memory) if (v.validBefore < now) this.memory.delete(key);
  }
}
