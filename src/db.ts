/**
 * The database a server keeps what it must not forget in: PostgreSQL (through `pg`) for a `postgres://` URL, shared
 * by several processes, or embedded PGlite (Postgres compiled to WASM, the same SQL, no server) in a directory, so a
 * devnet needs nothing installed. Migrations (db/migrations/*.sql) are applied on open, once, under a lock.
 */
import { readdirSync, readFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigurationError } from "./errors";

/** One SQL statement's rows. Values come back as the driver gives them: use {@link big} for numerics. */
export interface QueryResult<T> {
  rows: T[];
}

export interface Database {
  /** "postgres" (a server, shared) or "pglite" (embedded, this process only). */
  readonly kind: "postgres" | "pglite";
  /** Where it is, without credentials (for logs). */
  readonly location: string;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on a throw) on one connection. */
  transaction<T>(fn: (tx: Pick<Database, "query">) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The default embedded database directory, relative to the working directory. */
export const DEFAULT_DATABASE_DIR = ".netd/db";

const MIGRATIONS_DIR = resolve(__dirname, "..", "db", "migrations");
/** The advisory lock migrations run under on a shared server (any constant; "netd" in ASCII). */
const MIGRATION_LOCK = 0x6e657464;

/** Whether `location` names a PostgreSQL server rather than an embedded database directory. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A `postgres://` URL with its password hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

/**
 * Opens (and migrates) the database at `location`: a `postgres://` URL, or a directory for PGlite (created if
 * absent; default {@link DEFAULT_DATABASE_DIR}); `memory:` for a throwaway in-memory PGlite. A server that cannot be
 * reached is a {@link ConfigurationError} that says where and why.
 *
 * @example
 * const db = await openDatabase(process.env.NETD_DATABASE_URL ?? ".netd/db");
 */
export async function openDatabase(location: string = DEFAULT_DATABASE_DIR, options: { poolSize?: number } = {}): Promise<Database> {
  const db = isPostgresUrl(location) ? await openPostgres(location, options.poolSize ?? 10) : await openPglite(location);
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new ConfigurationError(`the database at ${db.location} could not be migrated: ${(error as Error).message}`);
  }
  return db;
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const { Pool } = await import("pg");
  const pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its server emits "error" on the pool: without a listener that kills the process.
  pool.on("error", () => undefined);
  const location = redactUrl(url);
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new ConfigurationError(`the database at ${location} could not be reached: ${(error as Error).message || String(error)}`);
  }
  return {
    kind: "postgres",
    location,
    query: async <T>(sql: string, params?: readonly unknown[]) => ({ rows: (await pool.query(sql, params as unknown[])).rows as T[] }),
    transaction: async <T>(fn: (tx: Pick<Database, "query">) => Promise<T>) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn({
          query: async <R>(sql: string, params?: readonly unknown[]) => ({ rows: (await client.query(sql, params as unknown[])).rows as R[] }),
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(location: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const memory = location === "memory:";
  if (!memory) mkdirSync(location, { recursive: true });
  let pg: InstanceType<typeof PGlite>;
  try {
    pg = new PGlite(memory ? undefined : location);
    await pg.waitReady;
  } catch (error) {
    throw new ConfigurationError(`the embedded database in ${location} could not be opened (is another process using it?): ${(error as Error).message}`);
  }
  return {
    kind: "pglite",
    location: memory ? "memory:" : resolve(location),
    query: async <T>(sql: string, params?: readonly unknown[]) => ({ rows: (await pg.query<T>(sql, params as unknown[])).rows }),
    transaction: <T>(fn: (tx: Pick<Database, "query">) => Promise<T>) =>
      pg.transaction((tx) =>
        fn({ query: async <R>(sql: string, params?: readonly unknown[]) => ({ rows: (await tx.query<R>(sql, params as unknown[])).rows }) }),
      ),
    close: () => pg.close(),
  };
}

/** Applies every migration not yet applied, in file-name order, each in its own transaction. */
async function migrate(db: Database): Promise<void> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  await db.transaction(async (tx) => {
    // Serializes processes starting together on one server (released at commit).
    if (db.kind === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query("CREATE TABLE IF NOT EXISTS netd_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const applied = new Set((await tx.query<{ name: string }>("SELECT name FROM netd_migrations")).rows.map((r) => r.name));
    for (const file of files) {
      if (applied.has(file)) continue;
      for (const statement of splitStatements(readFileSync(join(MIGRATIONS_DIR, file), "utf8"))) await tx.query(statement);
      await tx.query("INSERT INTO netd_migrations (name) VALUES ($1)", [file]);
    }
  });
}

/** The statements of a migration file (split on `;` at line ends; the files hold no procedural code). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}

/** A numeric column's value (the drivers return strings for numeric, numbers or strings for bigint) as a bigint. */
export function big(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" || typeof value === "string") return BigInt(value);
  throw new TypeError(`not a number from the database: ${String(value)}`);
}
