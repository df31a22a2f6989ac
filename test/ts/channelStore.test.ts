import { readdirSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { openDatabase, type Database } from "../../src/db";
import { ChannelStore, type ChannelConfig, type ChannelState } from "../../src/x402";
import { fcParameters } from "../helpers/fastcheck";
import { freshDatabase, requirePostgres } from "../helpers/postgres";

/**
 * The channel store on both backends: embedded PGlite and a real PostgreSQL server (two connection pools standing for
 * two paywall processes). Every charge rule with its refusal, concurrency (distinct ceilings all served once, the
 * same ceiling served once), migrations applied once, the claim lease, and a model-based property over random
 * operation sequences: nothing is charged beyond the highest voucher held or the balance, no ceiling twice.
 */
const NETWORK = "eip155:31337";
const config: ChannelConfig = {
  payer: "0x1111111111111111111111111111111111111111",
  payerAuthorizer: "0x1111111111111111111111111111111111111111",
  receiver: "0x2222222222222222222222222222222222222222",
  receiverAuthorizer: "0x3333333333333333333333333333333333333333",
  token: "0x4444444444444444444444444444444444444444",
  withdrawDelay: 900,
  salt: `0x${"00".repeat(32)}`,
};
let next = 0;
const newId = () => `0x${(++next).toString(16).padStart(64, "0")}`;
const state = (channelId: string, balance: bigint, totalClaimed = 0n, withdrawRequestedAt = 0): ChannelState => ({
  channelId,
  balance,
  totalClaimed,
  withdrawRequestedAt,
  withdrawAmount: 0n,
  refundNonce: 0n,
});

function suite(name: string, open: (ctx: Mocha.Context) => Promise<{ a: Database; b: Database; close(): Promise<void> }>) {
  describe(`channel store on ${name}`, function () {
    this.timeout(120_000);
    let a: ChannelStore;
    let b: ChannelStore;
    let close: () => Promise<void>;

    before(async function () {
      const dbs = await open(this);
      a = new ChannelStore(dbs.a);
      b = new ChannelStore(dbs.b);
      close = dbs.close;
    });
    after(async function () {
      await close?.();
    });

    /** A charge whose response then goes out (marked served), as the paywall does. */
    const charge = async (store: ChannelStore, channelId: string, ceiling: bigint, price = 100n, serve = true) => {
      const outcome = await store.charge({ channelId, ceiling, signature: `0x${ceiling.toString(16).padStart(130, "0")}`, price, route: "GET /tick" });
      if (serve && outcome.ok && !outcome.redelivery) {
        store.markServed(channelId, ceiling);
        await store.flush();
      }
      return outcome;
    };

    it("applies its migrations once (a second process opening the same database changes nothing)", async function () {
      const { rows } = await a.db.query<{ name: string }>("SELECT name FROM netd_migrations ORDER BY name");
      expect(rows.map((r) => r.name)).to.deep.equal(
        readdirSync(path.join(__dirname, "..", "..", "db", "migrations"))
          .filter((f) => f.endsWith(".sql"))
          .sort(),
      );
      expect(rows.map((r) => r.name)).to.include.members(["0001_channels.sql", "0002_exact_payments.sql"]);
    });

    it("charges a voucher once, refuses one behind, replayed, above the balance, during a withdrawal or for a blocklisted payer", async function () {
      const id = newId();
      expect((await charge(a, id, 100n)).ok).to.equal(false);
      expect(await charge(a, id, 100n)).to.deep.equal({ ok: false, refusal: "unknown" });
      await a.sync(NETWORK, config, state(id, 1_000n));
      const first = await charge(a, id, 100n);
      expect(first.ok && first.channel.charged).to.equal(100n);
      expect(await charge(b, id, 100n)).to.include({ ok: false, refusal: "mismatch" }); // behind (and replayed)
      expect(await charge(b, id, 1_001n)).to.include({ ok: false, refusal: "exceeds-balance" });
      const ahead = await charge(b, id, 500n); // a higher ceiling covers a charge of one price
      expect(ahead.ok && [ahead.channel.charged, ahead.channel.signedMax]).to.deep.equal([200n, 500n]);
      expect(await charge(a, id, 500n)).to.include({ ok: false, refusal: "replayed" }); // same ceiling, room left
      expect(await charge(a, id, 300n)).to.include({ ok: true }); // a lower, unused ceiling within the highest held
      expect((await a.get(id))!.signedMax).to.equal(500n);
      await a.markWithdrawal(id, 1_700_000_000);
      expect(await charge(a, id, 600n)).to.include({ ok: false, refusal: "withdrawing" });
      const other = newId();
      await a.sync(NETWORK, config, state(other, 1_000n), true);
      expect(await charge(a, other, 100n)).to.include({ ok: false, refusal: "blocklisted" });
      const { rows } = await a.db.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM netd_vouchers WHERE channel_id = $1", [id]);
      expect(rows[0].n).to.equal(3);
    });

    it("two processes, 100 parallel vouchers with distinct ceilings: every one served once, charged exactly 100 prices", async function () {
      const id = newId();
      await a.sync(NETWORK, config, state(id, 1_000_000n));
      const ceilings = Array.from({ length: 100 }, (_, i) => BigInt(i + 1) * 100n).sort(() => Math.random() - 0.5);
      const outcomes = await Promise.all(ceilings.map((c, i) => charge(i % 2 ? a : b, id, c)));
      expect(outcomes.filter((o) => o.ok)).to.have.length(100);
      const after = (await a.get(id))!;
      expect([after.charged, after.signedMax]).to.deep.equal([10_000n, 10_000n]);
    });

    it("two processes presenting the same voucher 20 times at once: it is charged once (and served at most once more, before the first answer is out)", async function () {
      const id = newId();
      await a.sync(NETWORK, config, state(id, 1_000_000n));
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => charge(i % 2 ? a : b, id, 5_000n)));
      expect(outcomes.filter((o) => o.ok && !o.redelivery)).to.have.length(1);
      expect(outcomes.filter((o) => o.ok && o.redelivery).length).to.be.at.most(1);
      expect((await a.get(id))!.charged).to.equal(100n);
    });

    it("a voucher charged whose answer never left (the process died) is served when presented again, once, never charged twice", async function () {
      const id = newId();
      await a.sync(NETWORK, config, state(id, 1_000n));
      expect(await charge(a, id, 100n, 100n, false)).to.deep.include({ ok: true });
      // the other process gets it again (the client retried through the load balancer)
      const again = await charge(b, id, 100n);
      expect(again).to.deep.include({ ok: true, redelivery: true });
      expect((await b.get(id))!.charged).to.equal(100n);
      expect(await charge(a, id, 100n)).to.include({ ok: false, refusal: "mismatch" });
      // "served" marks are written in batches; until then the process that holds them already refuses a replay
      const lazy = newId();
      await a.sync(NETWORK, config, state(lazy, 1_000n));
      expect(await charge(a, lazy, 100n, 100n, false)).to.deep.include({ ok: true });
      a.markServed(lazy, 100n);
      expect(await charge(a, lazy, 100n)).to.include({ ok: false, refusal: "mismatch" });
      await a.flush();
      expect(await charge(b, lazy, 100n)).to.include({ ok: false, refusal: "mismatch" });
      // a different signature for the same ceiling is not the voucher that was charged
      expect(await a.charge({ channelId: id, ceiling: 100n, signature: `0x${"ee".repeat(65)}`, price: 100n, route: "GET /tick" })).to.include({ ok: false });
    });

    it("a sync from chain never lowers what was claimed; a refund hold stops charges against leaving money", async function () {
      const id = newId();
      await a.sync(NETWORK, config, state(id, 1_000n));
      await charge(a, id, 300n);
      await a.markClaimed([{ channelId: id, totalClaimed: 100n }]);
      await a.sync(NETWORK, config, state(id, 1_000n, 0n));
      expect((await a.get(id))!.totalClaimed).to.equal(100n);
      const held = await a.holdForRefund(id);
      expect(held!.balance).to.equal(1_000n);
      expect(await charge(b, id, 400n)).to.include({ ok: false, refusal: "exceeds-balance" });
    });

    it("one claimer at a time: the lease", async function () {
      const name = `claims-${newId()}`;
      expect(await a.lease(name, "one", 60_000)).to.equal(true);
      expect(await b.lease(name, "two", 60_000)).to.equal(false);
      expect(await a.lease(name, "one", 60_000)).to.equal(true);
      await a.release(name, "one");
      expect(await b.lease(name, "two", 60_000)).to.equal(true);
      expect(await a.lease(`${name}-expired`, "one", 1)).to.equal(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(await b.lease(`${name}-expired`, "two", 60_000)).to.equal(true);
    });

    it("random charges, syncs and claims from two processes against a model: never beyond the vouchers or the balance, no ceiling twice", async function () {
      const op = fc.oneof(
        fc.record({ kind: fc.constant("charge" as const), ceiling: fc.integer({ min: 1, max: 40 }), price: fc.integer({ min: 1, max: 3 }), who: fc.boolean() }),
        fc.record({ kind: fc.constant("sync" as const), balance: fc.integer({ min: 10, max: 60 }) }),
        fc.record({ kind: fc.constant("claim" as const) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
          const id = newId();
          await a.sync(NETWORK, config, state(id, 30n));
          const model = { charged: 0n, signedMax: 0n, balance: 30n, claimed: 0n, used: new Set<bigint>() };
          for (const o of ops) {
            if (o.kind === "sync") {
              const balance = BigInt(o.balance) > model.claimed ? BigInt(o.balance) : model.claimed;
              await a.sync(NETWORK, config, state(id, balance, model.claimed));
              model.balance = balance;
            } else if (o.kind === "claim") {
              await b.markClaimed([{ channelId: id, totalClaimed: model.charged }]);
              model.claimed = model.charged;
            } else {
              const ceiling = BigInt(o.ceiling);
              const price = BigInt(o.price);
              const expected =
                !model.used.has(ceiling) && ceiling <= model.balance && model.charged + price <= (ceiling > model.signedMax ? ceiling : model.signedMax);
              const got = await charge(o.who ? a : b, id, ceiling, price);
              expect(
                got.ok,
                `charge ${ceiling} at ${price} with ${JSON.stringify(model, (_k, v) => (typeof v === "bigint" ? String(v) : v instanceof Set ? [...v].map(String) : v))}`,
              ).to.equal(expected);
              if (expected) {
                model.used.add(ceiling);
                model.charged += price;
                if (ceiling > model.signedMax) model.signedMax = ceiling;
              }
            }
            const s = (await a.get(id))!;
            expect([s.charged, s.signedMax, s.totalClaimed]).to.deep.equal([model.charged, model.signedMax, model.claimed]);
            expect(s.charged <= s.signedMax || s.charged === s.totalClaimed).to.equal(true);
          }
        }),
        fcParameters("store", { numRuns: 30 }),
      );
    });
  });
}

suite("embedded PGlite", async () => {
  const db = await openDatabase("memory:");
  // One PGlite is one process's database: both "processes" share it.
  return { a: db, b: db, close: () => db.close() };
});

suite("PostgreSQL (two connection pools)", async (ctx) => {
  const server = requirePostgres(ctx);
  const fresh = await freshDatabase(server);
  const [a, b] = await Promise.all([openDatabase(fresh.url), openDatabase(fresh.url)]);
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await fresh.drop();
    },
  };
});
