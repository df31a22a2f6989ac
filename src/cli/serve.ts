import type { RunningServer } from "../x402/facilitatorServer";
import { ExitWithCode } from "./action";
import type { CliContext } from "./context";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** The interface a server listens on; anything but loopback is said aloud on stderr. */
export function parseHost(ctx: CliContext, host: string): string {
  if (!LOOPBACK.has(host)) ctx.out.note(`warning: listening on ${host}, not loopback: anyone who can reach it can use this service`);
  return host;
}

/** Keeps a server running until Ctrl-C or SIGTERM, then closes it (and runs `cleanup`). */
export async function runUntilStopped(servers: RunningServer[], cleanup?: () => Promise<void>): Promise<never> {
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  for (const s of servers) await s.close();
  await cleanup?.();
  throw new ExitWithCode(0);
}
