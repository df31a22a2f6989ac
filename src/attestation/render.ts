import { formatAmount } from "../amounts";
import type { CheckReport } from "./check";

const usd = (v: bigint) => `$${formatAmount(v)}`;
/** The verdict in words, as the report and the transparency page say it. */
export const VERDICT_TEXT: Record<CheckReport["verdict"], string> = {
  backed: "BACKED",
  "under-backed": "NOT BACKED (under-backed)",
  mismatch: "NOT BACKED (reconciliation mismatch)",
  invalid: "INVALID ATTESTATION",
  unreadable: "UNVERIFIED (a chain could not be read)",
};

function age(seconds: bigint): string {
  const s = seconds < 0n ? -seconds : seconds;
  const d = s / 86_400n;
  const h = (s % 86_400n) / 3_600n;
  const m = (s % 3_600n) / 60n;
  return `${seconds < 0n ? "in " : ""}${d ? `${d}d ` : ""}${h}h ${m}m${seconds < 0n ? "" : " ago"}`;
}

/** The report for people, on a terminal. */
export function renderText(r: CheckReport): string {
  const lines = [
    `Verdict: ${VERDICT_TEXT[r.verdict]}`,
    "",
    `Issuer        ${r.issuer}`,
    `As of         ${r.asOf} (${age(r.ageSeconds)})`,
    `Accountant    ${r.accountant}`,
    `Report SHA-256 ${r.reportSha256}`,
    `Attestor      ${r.signature.attestor ?? "(unsigned)"}: ${r.signature.valid ? "signature valid" : "signature NOT valid"}, ${r.signature.trusted ? "trusted" : "NOT trusted"}`,
    "",
    `Reserves      ${usd(r.reserves)}`,
    `Outstanding   ${usd(r.outstanding)} (total supply at the attested blocks)`,
    `Headroom      ${r.headroom < 0n ? "-" : ""}${usd(r.headroom < 0n ? -r.headroom : r.headroom)}`,
    `Collateral    ${r.collateralization}`,
  ];
  for (const d of r.deployments) {
    lines.push("", `Chain ${d.chainId}, token ${d.token}`, `  block ${d.blockNumber} (${d.blockTimestamp})`);
    if (d.totalSupply !== undefined) {
      lines.push(
        `  total supply ${usd(d.totalSupply)}${d.totalSupply === d.documentOutstanding ? " (matches the attestation)" : ` (attestation says ${usd(d.documentOutstanding)})`}`,
      );
    }
    if (d.allocation !== undefined) lines.push(`  allocated reserves ${usd(d.allocation)} (what this deployment's mint guard allows)`);
    const rec = d.reconciliation;
    if (rec) {
      lines.push(
        `  events ${rec.events} in blocks ${rec.fromBlock}-${rec.toBlock}: minted ${usd(rec.minted)}, burned ${usd(rec.burned)}, redeemed ${usd(rec.redeemed)}, seized ${usd(rec.seized)}`,
        `  reconciliation ${rec.matches ? "matches total supply" : `MISMATCH: events give ${usd(rec.reconstructed)}`}`,
      );
      if (rec.divergence) {
        lines.push(
          `  diverges between block ${rec.divergence.lastAgreeingBlock} and ${rec.divergence.firstDivergingBlock}: events ${usd(rec.divergence.eventsSum)}, total supply ${usd(rec.divergence.totalSupply)}`,
        );
      }
    }
    if (d.unusedMinterAllowance !== undefined) lines.push(`  unused minter allowances ${usd(d.unusedMinterAllowance)} (${d.minters?.length ?? 0} minters)`);
    if (d.oracle) lines.push(`  oracle ${d.oracle.address || "-"}: ${d.oracle.note}`);
  }
  if (r.problems.length) lines.push("", "Problems:", ...r.problems.map((p) => `  [${p.kind}] ${p.message}`));
  return lines.join("\n");
}

/** The same report as Markdown, for publishing. */
export function renderMarkdown(r: CheckReport): string {
  const rows = [
    ["Verdict", `**${VERDICT_TEXT[r.verdict]}**`],
    ["Issuer", r.issuer],
    ["As of", r.asOf],
    ["Accountant", r.accountant],
    ["Report SHA-256", `\`${r.reportSha256}\``],
    [
      "Attestor",
      `\`${r.signature.attestor ?? "unsigned"}\` (${r.signature.valid ? "valid" : "invalid"} signature, ${r.signature.trusted ? "trusted" : "not trusted"})`,
    ],
    ["Reserves", usd(r.reserves)],
    ["Outstanding", usd(r.outstanding)],
    ["Headroom", `${r.headroom < 0n ? "-" : ""}${usd(r.headroom < 0n ? -r.headroom : r.headroom)}`],
    ["Collateralization", r.collateralization],
  ];
  const out = ["# Reserve attestation check", "", "| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`), "", "## Deployments", ""];
  out.push("| chain | token | block | total supply | events | reconciliation | unused minter allowances | oracle |", "|---|---|---:|---:|---:|---|---:|---|");
  for (const d of r.deployments) {
    out.push(
      `| ${d.chainId} | \`${d.token}\` | ${d.blockNumber} | ${d.totalSupply === undefined ? "?" : usd(d.totalSupply)} | ${d.reconciliation?.events ?? "?"} | ${
        d.reconciliation ? (d.reconciliation.matches ? "matches" : "**mismatch**") : "?"
      } | ${d.unusedMinterAllowance === undefined ? "?" : usd(d.unusedMinterAllowance)} | ${d.oracle?.note ?? "?"} |`,
    );
  }
  if (r.problems.length) out.push("", "## Problems", "", ...r.problems.map((p) => `- **${p.kind}**: ${p.message}`));
  return out.join("\n") + "\n";
}
