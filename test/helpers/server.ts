import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** A server in a child process, started and awaited until it prints `listening on <url>`. */
export interface ServerChild {
  child: ChildProcess;
  url: string;
  pid: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, as Ctrl-C or a supervisor stops it; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
}

/**
 * Runs `node <argv>` (netd, an example, a bench server) with only the environment given plus PATH and HOME, and
 * resolves once it prints `listening on <url>`; rejects with its output if it exits first. The one helper the
 * tests and the benchmarks start servers with.
 */
export function spawnServer(argv: string[], env: Record<string, string>, cwd: string): Promise<ServerChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let started = false;
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    const running = () => child.exitCode === null && child.signalCode === null;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match || started) return;
      started = true;
      resolve({
        child,
        url: match[1],
        pid: child.pid!,
        output: () => output,
        stop: async () => {
          if (running()) child.kill("SIGTERM");
          return exited;
        },
        kill: async () => {
          if (running()) child.kill("SIGKILL");
          await exited;
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      if (!started)
        reject(
          new Error(
            `${path.basename(argv.find((a) => !a.startsWith("-")) ?? "node")} ${argv.slice(1).join(" ")} exited with ${code} before listening:\n${output}`,
          ),
        );
    });
  });
}
