/**
 * The coverage gate (`npm run coverage`, run by `npm test`): every contract outside `contracts/mocks/` (skipped in
 * .solcover.js) must have 100% of its lines and functions and at least 95% of its branches covered.
 * Reads coverage/coverage-summary.json, written by solidity-coverage; exits 1 with the shortfalls otherwise.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const THRESHOLDS = { lines: 100, functions: 100, branches: 95 } as const;

/**
 * Files allowed below the thresholds, each with the reason. Empty: every contract meets them.
 * (Add entries as `"contracts/x/Y.sol": "why it cannot be covered"`.)
 */
const EXCLUSIONS: Record<string, string> = {};

type Metric = { total: number; covered: number; pct: number };
const summary = JSON.parse(readFileSync(path.join(__dirname, "..", "coverage", "coverage-summary.json"), "utf8")) as Record<
  string,
  Record<keyof typeof THRESHOLDS, Metric>
>;

const failures: string[] = [];
const rows: string[] = [];
for (const [file, metrics] of Object.entries(summary)) {
  if (file === "total") continue;
  const relative = path.relative(path.join(__dirname, ".."), path.resolve(file)).replace(/\\/g, "/");
  if (relative.startsWith("contracts/mocks/")) continue;
  const cells = (Object.keys(THRESHOLDS) as (keyof typeof THRESHOLDS)[]).map((k) => {
    const m = metrics[k];
    // A file with nothing of a kind (an interface has no branches) is fully covered in it.
    const pct = m.total === 0 ? 100 : (100 * m.covered) / m.total;
    if (pct < THRESHOLDS[k] && !EXCLUSIONS[relative]) failures.push(`${relative}: ${k} ${pct.toFixed(2)}% < ${THRESHOLDS[k]}% (${m.covered}/${m.total})`);
    return `${k} ${pct.toFixed(2)}%`;
  });
  rows.push(`  ${relative.padEnd(46)} ${cells.join("  ")}${EXCLUSIONS[relative] ? `  (excluded: ${EXCLUSIONS[relative]})` : ""}`);
}

// Every product contract must be in the report: a file left out of the run is not covered.
const root = path.join(__dirname, "..");
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
const reported = new Set(Object.keys(summary).map((f) => path.relative(root, path.resolve(f)).replace(/\\/g, "/")));
for (const file of walk(path.join(root, "contracts")).map((f) => path.relative(root, f).replace(/\\/g, "/"))) {
  if (file.endsWith(".sol") && !file.startsWith("contracts/mocks/") && !reported.has(file)) failures.push(`${file}: not in the coverage report`);
}

console.log(
  `coverage gate: lines ${THRESHOLDS.lines}%, functions ${THRESHOLDS.functions}%, branches ≥ ${THRESHOLDS.branches}% for every contract outside contracts/mocks/`,
);
console.log(rows.join("\n"));
if (failures.length) {
  console.error(`\ncoverage below the thresholds:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("coverage gate: passed");
