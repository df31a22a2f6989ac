import { writeFileSync } from "node:fs";
import path from "node:path";

/** One measured row: the gas of each implementation (undefined when it has no such operation). */
export interface GasRow {
  operation: string;
  measured: Record<string, bigint | undefined>;
  reference?: number;
  budget?: number;
  note?: string;
}

export interface GasSection {
  title: string;
  /** Column names, in order; the first is ours and is compared with the budget. */
  columns: string[];
  referenceName?: string;
  rows: GasRow[];
  notes?: string[];
}

const fmt = (n: bigint | number | undefined) => (n === undefined ? "—" : Number(n).toLocaleString("en-US"));

/** Renders one section as a Markdown table with a within/over verdict per row. */
export function renderSection(section: GasSection): string {
  const ref = section.referenceName ?? "reference";
  const head = ["operation", ...section.columns, ref, "budget", "verdict"];
  const lines = [`## ${section.title}`, "", `| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const row of section.rows) {
    const ours = row.measured[section.columns[0]];
    let verdict = "";
    if (row.budget !== undefined && ours !== undefined) {
      const diff = Number(ours) - row.budget;
      verdict = diff <= 0 ? `within (${fmt(-diff)} under)` : `**over by ${fmt(diff)}**`;
    }
    const cells = [row.operation, ...section.columns.map((c) => fmt(row.measured[c])), fmt(row.reference), fmt(row.budget), verdict];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (section.notes?.length) lines.push("", ...section.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

/** Whether every budgeted row of every section is within budget. */
export function allWithinBudget(sections: GasSection[]): boolean {
  return sections.every((s) => s.rows.every((r) => r.budget === undefined || (r.measured[s.columns[0]] ?? 0n) <= BigInt(r.budget)));
}

/** Writes bench/gas.md (the table reviewers read) and bench/gas.json (a snapshot whose diff shows every change). */
export function writeGasReport(sections: GasSection[], header: string[]): void {
  const dir = path.join(__dirname, "..");
  const snapshot = Object.fromEntries(
    sections.map((s) => [
      s.title,
      Object.fromEntries(s.rows.map((r) => [r.operation, Object.fromEntries(s.columns.map((c) => [c, r.measured[c]?.toString() ?? null]))])),
    ]),
  );
  writeFileSync(path.join(dir, "gas.json"), JSON.stringify(snapshot, null, 2) + "\n");
  writeFileSync(path.join(dir, "gas.md"), [...header, "", sections.map(renderSection).join("\n\n"), ""].join("\n"));
}
