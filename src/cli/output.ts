import { writeFileSync } from "node:fs";

/** Output for people (stdout lines, progress on stderr) or for programs (`--json`: one JSON document on stdout). */
export class Output {
  constructor(readonly json: boolean) {}

  /** Progress and notes: stderr, so that stdout stays clean for results and --json. */
  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  /** The command's result: `lines` for people, `data` for --json (bigints become decimal strings). */
  result(lines: string[], data: Record<string, unknown>): void {
    if (this.json) process.stdout.write(toJson({ ok: true, ...data }) + "\n");
    else process.stdout.write(lines.join("\n") + "\n");
  }

  /**
   * A signed or built document (authorization, payment, attestation): written to `out` when given, with `message`
   * for people and `{ ok, command, file, document }` for --json; else the document itself on stdout, so that
   * `> file` and pipes work.
   */
  document(doc: unknown, params: { out?: string; message: string; command: string }): void {
    if (params.out) {
      writeFileSync(params.out, toJson(doc) + "\n");
      this.result([`${params.message}; written to ${params.out}`], { command: params.command, file: params.out, document: doc });
    } else {
      process.stdout.write(toJson(doc) + "\n");
    }
  }
}

/** JSON with bigints as decimal strings (base units never lose precision). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Aligns "label: value" rows. */
export function table(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}
