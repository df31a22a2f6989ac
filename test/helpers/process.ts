import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export { freePort } from "../../src/devnet";

const BIN = path.join(__dirname, "..", "..", "bin", "netd.js");

/**
 * A long-running `netd` command (a server) on a fixed port, as an operator runs it: started until it prints
 * `listening on`, killed with SIGKILL (a crash) or stopped with SIGTERM, and started again on the same port.
 */
export class NetdProcess {
  child?: ChildProcess;
  output = "";
  constructor(
    readonly port: number,
    /** The command and its options, without --port. */
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.output = "";
    const child = spawn(process.execPath, [BIN, ...this.args, "--port", String(this.port)], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes("listening on")) resolve();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`netd ${this.args[0]} exited with ${code} before listening:\n${this.output}`)));
    });
  }

  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void> {
    const child = this.child!;
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child!.once("exit", () => resolve());
      this.child!.kill("SIGTERM");
    });
  }
}
