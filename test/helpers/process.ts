import path from "node:path";

import { spawnServer, type ServerChild } from "./server";

export { freePort } from "../../src/devnet";

const BIN = path.join(__dirname, "..", "..", "bin", "netd.js");

/**
 * A long-running `netd` command (a server) on a fixed port, as an operator runs it: started until it prints
 * `listening on`, killed with SIGKILL (a crash) or stopped with SIGTERM, and started again on the same port.
 */
export class NetdProcess {
  private server?: ServerChild;
  constructor(
    readonly port: number,
    /** The command and its options, without --port. */
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the current run printed. */
  get output(): string {
    return this.server?.output() ?? "";
  }

  async start(): Promise<void> {
    this.server = await spawnServer([BIN, ...this.args, "--port", String(this.port)], this.env, process.cwd());
  }

  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void> {
    return this.server!.kill();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
