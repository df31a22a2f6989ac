/**
 * The PostgreSQL server tests may use: `NETD_TEST_DATABASE_URL` (`.ci/run` starts a throwaway cluster on 127.0.0.1 and
 * sets it). Without it the suites that need a server say they are skipped; with `NETD_REQUIRE_POSTGRES=1` (CI) a
 * skip is a failure, so CI cannot pass without having run them.
 */
import { randomBytes } from "node:crypto";

export function postgresUrl(): string | undefined {
  const url = process.env.NETD_TEST_DATABASE_URL?.trim();
  if (url) return url;
  if (process.env.NETD_REQUIRE_POSTGRES === "1")
    throw new Error("NETD_REQUIRE_POSTGRES=1 but NETD_TEST_DATABASE_URL is not set: the PostgreSQL suites must run here");
  return undefined;
}

/** Call in a `before` hook: skips the suite (saying why) when no server is configured. */
export function requirePostgres(ctx: Mocha.Context): string {
  const url = postgresUrl();
  if (!url) {
    console.log("      [postgres] skipped: set NETD_TEST_DATABASE_URL=postgres://… to run against a real server (CI does)");
    ctx.skip();
  }
  return url!;
}

/** A fresh, empty database on the server for one suite (dropped by the returned function). */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client } = await import("pg");
  const name = `netd_test_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
