import path from "node:path";
import { formatAmount } from "../amounts";
import { VERDICT_TEXT } from "../attestation/render";
import { FLOW_WINDOWS, type TransparencyData } from "./data";

/** Chart.js's self-contained browser build (npm `chart.js`), served or copied next to the page as {@link CHART_JS_NAME}. */
export const CHART_JS_FILE = path.join(path.dirname(require.resolve("chart.js")), "chart.umd.min.js");
export const CHART_JS_NAME = "chart.umd.min.js";

const usd = (v: bigint) => `${v < 0n ? "−" : ""}$${formatAmount(v < 0n ? -v : v)}`;
const signed = (v: bigint) => (v > 0n ? `+${usd(v)}` : usd(v));

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function duration(seconds: bigint): string {
  const d = seconds / 86_400n;
  const h = (seconds % 86_400n) / 3_600n;
  const m = (seconds % 3_600n) / 60n;
  return d ? `${d} d ${h} h` : `${h} h ${m} min`;
}

/** A table: headers, then rows of cells; a cell is text (escaped) or [text, attributes]. */
function table(id: string, headers: string[], rows: (string | [string, string])[][]): string {
  const cell = (tag: string, c: string | [string, string]) =>
    typeof c === "string" ? `<${tag}>${escape(c)}</${tag}>` : `<${tag} ${c[1]}>${escape(c[0])}</${tag}>`;
  return `<table id="${id}"><thead><tr>${headers.map((h) => cell("th", h)).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => cell(i === 0 ? "th" : "td", c)).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** What the chart draws: one point per attestation round, in dollars (display only; every figure in text is exact). */
export function chartData(data: TransparencyData): { labels: string[]; reserves: number[]; supply: number[] } {
  const dollars = (v: bigint) => Number(v) / 1e6;
  return {
    labels: data.history.map((p) => p.asOf),
    reserves: data.history.map((p) => dollars(p.reserves)),
    supply: data.history.map((p) => dollars(p.supply)),
  };
}

/**
 * The transparency page, one self-contained HTML document (it loads only {@link CHART_JS_NAME} beside it): every
 * figure is rendered here from {@link TransparencyData}, exactly; the script only draws the chart.
 */
export function renderTransparencyPage(data: TransparencyData): string {
  const r = data.check;
  const alerts: string[] = [];
  if (data.check.stale) {
    alerts.push(
      `<p class="alert" id="stale">STALE: the latest attestation is as of ${escape(r.asOf)}, ${duration(r.ageSeconds)} ago, older than the maximum of ${duration(data.maxAgeSeconds!)}. Its reserve figures are not current.</p>`,
    );
  }
  for (const c of data.chains) if (c.unreadable) alerts.push(`<p class="alert unreadable" data-chain="${c.chainId}">${escape(c.unreadable)}</p>`);

  const byChain = new Map(r.deployments.map((d) => [d.chainId, d]));
  const chainRows = data.chains.map((c) => {
    const d = byChain.get(c.chainId)!;
    return [
      `chain ${c.chainId}`,
      [c.inCirculation !== undefined ? usd(c.inCirculation) : "could not be read", `class="circulation" data-chain="${c.chainId}"`],
      [d.totalSupply !== undefined ? usd(d.totalSupply) : usd(d.documentOutstanding) + " (attested)", `class="attested-supply" data-chain="${c.chainId}"`],
      d.allocation !== undefined ? usd(d.allocation) : "—",
      c.attestationRound !== undefined ? `round ${c.attestationRound}` : c.unreadable ? "could not be read" : "not published",
      d.reconciliation ? (d.reconciliation.matches ? "events match supply" : "MISMATCH") : "—",
      c.token,
    ] as (string | [string, string])[];
  });
  const flowRows = (["issued", "redeemed", "seized", "net"] as const).map((kind) => [
    kind === "net" ? "net change" : kind,
    ...FLOW_WINDOWS.map((days, i): [string, string] => {
      const readable = data.chains.filter((c) => c.flows);
      const sum = readable.reduce((a, c) => a + c.flows![i][kind], 0n);
      return [readable.length ? (kind === "net" ? signed(sum) : usd(sum)) : "could not be read", `data-flow="${kind}-${days}"`];
    }),
  ]);
  const reserveRows = data.reserveLines.map((l) => [l.kind, l.custodian, [usd(BigInt(l.amount)), `class="reserve-line"`] as [string, string]]);
  reserveRows.push(["total", "", [usd(r.reserves), `id="reserves-total"`]]);
  const sig = r.signature;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>NET Dollar transparency: ${escape(r.issuer)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
.verdict { display: inline-block; padding: 0.3rem 0.8rem; border-radius: 0.4rem; font-weight: 600; color: #fff; background: #b42318; }
.verdict.backed { background: #1a7f37; }
.alert { background: #fff4e5; border-left: 4px solid #d97706; padding: 0.6rem 0.9rem; font-weight: 600; }
.figures { display: flex; gap: 1rem; flex-wrap: wrap; } .figure { border: 1px solid #d0d7de; border-radius: 0.5rem; padding: 0.8rem 1rem; min-width: 14rem; }
.figure .value { font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 0.5rem 0; } th, td { text-align: left; padding: 0.3rem 0.8rem; border-bottom: 1px solid #eaeef2; }
td { font-variant-numeric: tabular-nums; } code { font-size: 0.85em; word-break: break-all; }
#chart-box { position: relative; height: 22rem; }
</style>
</head>
<body>
<h1>NET Dollar transparency</h1>
<p>${escape(r.issuer)} · generated ${escape(data.generatedAt)} from the chains and the signed attestation alone</p>
<p><span class="verdict${r.verdict === "backed" ? " backed" : ""}" id="verdict">${escape(VERDICT_TEXT[r.verdict])}</span></p>
${alerts.join("\n")}
<div class="figures">
  <div class="figure"><div>In circulation now${data.complete ? "" : " (chains that could be read)"}</div><div class="value" id="circulation-total">${usd(data.inCirculation)}</div></div>
  <div class="figure"><div>Reserves as of ${escape(r.asOf)}</div><div class="value" id="reserves">${usd(r.reserves)}</div></div>
  <div class="figure"><div>Collateralization at the attested blocks</div><div class="value" id="collateralization">${escape(r.collateralization)}</div></div>
  <div class="figure"><div>Outstanding at the attested blocks</div><div class="value" id="outstanding">${usd(r.outstanding)}</div></div>
</div>

<h2>By chain</h2>
${table("chains", ["", "in circulation now", "supply as of the attestation", "reserves allocated", "oracle", "reconciliation", "token"], chainRows)}

<h2>Reserves by kind and custodian</h2>
${table("reserve-lines", ["kind", "custodian", "amount"], reserveRows)}

<h2>Issued and redeemed</h2>
${table("flows", ["", "last 7 days", "last 30 days", "last 365 days"], flowRows)}

<h2>Supply and attested reserves, one point per attestation round</h2>
<div id="chart-box"><canvas id="supply-chart" aria-label="supply against attested reserves" role="img"></canvas></div>
<script type="application/json" id="chart-data">${JSON.stringify(chartData(data)).replace(/</g, "\\u003c")}</script>

<h2>The attestation</h2>
${table(
  "attestation",
  ["", ""],
  [
    ["as of", r.asOf],
    ["age", `${duration(r.ageSeconds < 0n ? 0n : r.ageSeconds)}${data.check.stale ? " (STALE)" : ""}`],
    ["accountant", r.accountant],
    ["report SHA-256", [r.reportSha256, `id="report-hash"`]],
    ["attestor", sig.attestor ?? "(unsigned)"],
    [
      "signature",
      [
        sig.valid && sig.trusted ? "verified: valid, by a trusted attestor" : sig.valid ? "valid, but NOT by a trusted attestor" : "NOT valid",
        `id="signature"`,
      ],
    ],
  ],
)}
<h2>The checker's findings</h2>
${r.problems.length ? `<ul id="problems">${r.problems.map((p) => `<li>${escape(p.message)}</li>`).join("")}</ul>` : `<p id="problems">None: the attestation is signed by a trusted attestor, the chains' supply matches it and their events, and the reserves cover it.</p>`}
<p>Check it yourself: <code>netd attest check attestation.json --rpc-url &lt;each chain&gt; --trusted-attestor ${sig.attestor ? escape(sig.attestor) : "&lt;attestor&gt;"}</code></p>

<script src="${CHART_JS_NAME}"></script>
<script>
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var canvas = document.getElementById("supply-chart");
  if (typeof Chart === "undefined") { canvas.replaceWith("The chart library did not load."); return; }
  new Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets: [
      { label: "attested reserves (USD)", data: data.reserves, borderColor: "#1a7f37", backgroundColor: "#1a7f37", stepped: true },
      { label: "in circulation (NETD)", data: data.supply, borderColor: "#0969da", backgroundColor: "#0969da" }
    ] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
  });
  document.body.dataset.chartPoints = String(data.labels.length);
})();
</script>
</body>
</html>
`;
}
