import { expect } from "chai";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, getCreate2Address, keccak256 } from "ethers";
import type { Browser, Page } from "puppeteer-core";
import { NetDollarV2__factory, ReserveOracle__factory, type NetDollarV2 } from "../../typechain-types";
import { formatAmount } from "../../src/amounts";
import { collateralization, createAttestation, signAttestation, toAttestationDataV2, toIsoSeconds, type AttestationDocument } from "../../src/attestation";
import { devnetWallet, startHardhatNode, type HardhatNode } from "../../src/devnet";
import { DEVNET_CREATE2_DEPLOYER, setupDevnet } from "../../src/deploy/devnetSetup";
import { TOKEN_SALTS } from "../../src/deploy/deploy";
import type { RunningServer } from "../../src/x402/facilitatorServer";
import { readTransparency, serveTransparency } from "../../src/transparency";
import { launchBrowserOrSkip } from "../helpers/browser";
import { runCli } from "../helpers/cli";

// The page's globals, as far as the callbacks run in the browser use them (the project compiles without the DOM lib).
interface Canvas {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: { body: { dataset: Record<string, string | undefined> }; getElementById(id: string): Canvas };
declare const window: { Chart: { getChart(c: Canvas): { data: { labels: string[]; datasets: { data: number[] }[] } } } };

const USD = 1_000_000n;
const DAY = 86_400;
const accountant = devnetWallet(7);
const usd = (v: bigint) => `$${formatAmount(v)}`;
/** Where the test leaves its screenshot for review (not committed; docs/transparency.png is a copy of one). */
const SCREENSHOTS = path.join(__dirname, "..", "..", "test-output");

describe("the transparency page in headless Chromium, against two devnet chains with a history", function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let nodes: HardhatNode[] = [];
  let providers: JsonRpcProvider[] = [];
  let tokens: NetDollarV2[] = [];
  let server: RunningServer | undefined;
  let latest: AttestationDocument;
  let attestationFile: string;
  let setups: Awaited<ReturnType<typeof setupDevnet>>[] = [];

  /** Both chains' clocks forward, a block mined on each; returns the earlier head time. */
  async function advance(seconds: number): Promise<bigint> {
    const heads: bigint[] = [];
    for (const p of providers) {
      await p.send("evm_increaseTime", [seconds]);
      await p.send("evm_mine", []);
      heads.push(BigInt((await p.getBlock("latest"))!.timestamp));
    }
    return heads.reduce((a, b) => (b < a ? b : a));
  }

  /** The page's clock: the chains' (which the test moves), not the wall clock. */
  async function chainNow(): Promise<bigint> {
    return BigInt((await providers[0].getBlock("latest"))!.timestamp);
  }

  /** A round of attestation covering both chains, signed by the accountant and published to each chain's oracle. */
  async function attestRound(reservesDollars: bigint): Promise<AttestationDocument> {
    const asOf = await advance(DAY);
    await advance(1); // a block after asOf on each chain
    const doc = await signAttestation(
      await createAttestation({
        issuer: "NET Dollar devnet issuer",
        accountant: "Devnet Accountants LLP",
        reportSha256: "0x" + "ab".repeat(32),
        lines: [
          { kind: "cash", custodian: "Devnet Bank", amount: 100_000n * USD },
          { kind: "treasury-bills", custodian: "Devnet Custody", amount: (reservesDollars - 100_000n) * USD },
        ],
        asOf,
        deployments: await Promise.all(providers.map(async (provider, i) => ({ provider, token: await tokens[i].getAddress() }))),
      }),
      accountant,
    );
    for (const p of providers) {
      const [oracle] = await tokens[providers.indexOf(p)].reserveGuard();
      const relayer = new NonceManager(devnetWallet(2).connect(p));
      await (await ReserveOracle__factory.connect(oracle, relayer).publishV2(toAttestationDataV2(doc), doc.attestor!, doc.signature!)).wait();
    }
    return doc;
  }

  /** Loads the page; fails the test on any console error, page error, failed request or HTTP error. */
  async function open(url: string): Promise<Page> {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1200, height: 1800 });
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(`console: ${m.text()}`)));
    page.on("pageerror", (e) => void errors.push(`page error: ${(e as Error).message}`));
    page.on("requestfailed", (r) => void errors.push(`request failed: ${r.url()}`));
    page.on("response", (r) => void (r.status() >= 400 && errors.push(`HTTP ${r.status()} ${r.url()}`)));
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.body.dataset.chartPoints !== undefined, { timeout: 10_000 });
    expect(errors, errors.join("\n")).to.deep.equal([]);
    return page;
  }

  const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e as unknown as { innerText: string }).innerText.trim());

  before(async function () {
    browser = await launchBrowserOrSkip(this);
    nodes = await Promise.all([startHardhatNode({ chainId: 31337 }), startHardhatNode({ chainId: 31338 })]);
    providers = nodes.map((n) => new JsonRpcProvider(n.url, undefined, { cacheTimeout: -1 }));
    setups = [];
    for (const p of providers) setups.push(await setupDevnet(p)); // round 1 on each: $2,000,000, that chain only
    tokens = setups.map((s, i) => NetDollarV2__factory.connect(s.deployment.contracts.NetDollar.address, providers[i]));
    // History: more issued on 31337; on 31338 the merchant is paid and redeems part of it.
    const minter = (i: number) => tokens[i].connect(new NonceManager(devnetWallet(1).connect(providers[i])));
    await (await minter(0).mint(devnetWallet(2).address, 1_000n * USD)).wait();
    await attestRound(2_050_000n); // round 2
    await (await minter(1).mint(devnetWallet(3).address, 500n * USD)).wait();
    const merchant = tokens[1].connect(new NonceManager(devnetWallet(3).connect(providers[1])));
    await (await merchant.redeem(200n * USD, "0x" + "01".repeat(32))).wait();
    latest = await attestRound(2_100_000n); // round 3
    // Supply moves on 31337 after the attestation: the page shows it as current, the check still holds at asOf.
    await (await minter(0).mint(devnetWallet(2).address, 50n * USD)).wait();
    const dir = mkdtempSync(path.join(tmpdir(), "netd-transparency-"));
    attestationFile = path.join(dir, "attestation.json");
    writeFileSync(attestationFile, JSON.stringify(latest));
    server = await serveTransparency({
      refreshSeconds: 0,
      load: async () =>
        readTransparency({
          document: latest,
          providers: await live(),
          trustedAttestors: [accountant.address],
          maxAgeSeconds: 35n * 86_400n,
          now: await chainNow(),
        }),
    });
  });

  /** The providers of the nodes still running. */
  async function live(): Promise<JsonRpcProvider[]> {
    return providers.filter((_, i) => nodes[i].process.exitCode === null && nodes[i].process.signalCode === null);
  }

  after(async function () {
    await browser?.close();
    await server?.close();
    providers.forEach((p) => p.destroy());
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("one token at the same address on both chains, deployed through the CREATE2 deployer", async function () {
    expect(await tokens[1].getAddress()).to.equal(await tokens[0].getAddress());
    const implementation = getCreate2Address(DEVNET_CREATE2_DEPLOYER, TOKEN_SALTS.implementation, keccak256(NetDollarV2__factory.bytecode));
    for (const s of setups) expect(s.deployment.contracts.NetDollar.implementation).to.equal(implementation);
    expect(latest.deployments.map((d) => d.chainId)).to.deep.equal(["31337", "31338"]);
  });

  it("shows the chains' figures: circulation per chain and in total, reserves, the ratio, 7/30/365-day flows, the verdict", async function () {
    const page = await open(server!.url);
    const supplies = await Promise.all(tokens.map((t) => t.totalSupply()));
    expect(supplies).to.deep.equal([11_050n * USD, 10_300n * USD]);
    expect(await text(page, "#circulation-total")).to.equal(usd(supplies[0] + supplies[1]));
    for (const [i, chainId] of ["31337", "31338"].entries()) {
      expect(await text(page, `.circulation[data-chain="${chainId}"]`)).to.equal(usd(supplies[i]));
    }
    // As of the attestation, before the last $50: what the checker compares with the reserves.
    const attested = await Promise.all(tokens.map((t, i) => t.totalSupply({ blockTag: Number(latest.deployments[i].blockNumber) })));
    expect(attested).to.deep.equal([11_000n * USD, 10_300n * USD]);
    expect(await text(page, `.attested-supply[data-chain="31337"]`)).to.equal(usd(attested[0]));
    expect(await text(page, "#outstanding")).to.equal(usd(attested[0] + attested[1]));
    expect(await text(page, "#reserves")).to.equal(usd(2_100_000n * USD));
    expect(await text(page, "#collateralization")).to.equal(collateralization(2_100_000n * USD, attested[0] + attested[1]));
    expect(await text(page, "#verdict")).to.equal("BACKED");
    expect(await text(page, "#signature")).to.equal("verified: valid, by a trusted attestor");
    expect(await text(page, "#report-hash")).to.equal("0x" + "ab".repeat(32));
    // Issued: $10,000 + $1,000 + $50 on 31337, $10,000 + $500 on 31338; redeemed $200; all within 7 days.
    for (const days of [7, 30, 365]) {
      expect(await text(page, `[data-flow="issued-${days}"]`)).to.equal(usd(21_550n * USD));
      expect(await text(page, `[data-flow="redeemed-${days}"]`)).to.equal(usd(200n * USD));
      expect(await text(page, `[data-flow="net-${days}"]`)).to.equal(`+${usd(21_350n * USD)}`);
    }
    expect(await page.$("#stale")).to.equal(null);

    // The chart: one point per attestation round (each chain's own round 1, then the two shared rounds).
    const asOfs = new Set<string>();
    for (const t of tokens) {
      const oracle = ReserveOracle__factory.connect((await t.reserveGuard())[0], t.runner);
      const [rounds] = await oracle.latestRoundData();
      for (let r = 1n; r <= rounds; r++) asOfs.add(toIsoSeconds((await oracle.getRoundData(r))[3]));
    }
    expect(asOfs.size).to.equal(4);
    const chart = await page.evaluate(() => {
      const canvas = document.getElementById("supply-chart");
      const c = window.Chart.getChart(canvas);
      const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
      return { labels: c.data.labels, reserves: c.data.datasets[0].data, supply: c.data.datasets[1].data, painted, points: document.body.dataset.chartPoints };
    });
    expect(chart.labels).to.deep.equal([...asOfs].sort());
    expect(chart.points).to.equal("4");
    expect(chart.reserves.slice(2)).to.deep.equal([2_050_000, 2_100_000]);
    expect(chart.supply.slice(2)).to.deep.equal([21_000, 21_300]);
    expect(chart.painted).to.be.greaterThan(5_000);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "transparency.png"), fullPage: true });
    await page.close();
  });

  it("a chain that cannot be read is said so, the other still shown; attest check exits 3 and reports the other", async function () {
    await nodes[1].stop();
    const page = await open(server!.url);
    expect(await text(page, `.unreadable[data-chain="31338"]`)).to.match(/^chain 31338 could not be read: /);
    expect(await text(page, `.circulation[data-chain="31338"]`)).to.equal("could not be read");
    expect(await text(page, `.circulation[data-chain="31337"]`)).to.equal(usd(await tokens[0].totalSupply()));
    expect(await text(page, "#verdict")).to.equal("UNVERIFIED (a chain could not be read)");
    await page.close();

    const run = await runCli(
      ["attest", "check", attestationFile, "--rpc-url", nodes[0].url, "--rpc-url", nodes[1].url, "--trusted-attestor", accountant.address, "--max-age", "400d"],
      {},
    );
    expect(run.code, run.stdout + run.stderr).to.equal(3);
    expect(run.stdout, run.stderr).to.match(/UNVERIFIED \(a chain could not be read\)/);
    expect(run.stdout).to.match(
      /chain 31338 could not be read: no endpoint that answered serves it \(cannot reach the RPC endpoint http:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(run.stdout).to.match(/Chain 31337, token 0x\w+\n\s+block \d+ .*\n\s+total supply \$11,000\.00 \(matches the attestation\)/);
  });

  it("an attestation older than the maximum age is shown as stale, not as current", async function () {
    await providers[0].send("evm_increaseTime", [36 * DAY]);
    await providers[0].send("evm_mine", []);
    const page = await open(server!.url);
    expect(await text(page, "#stale")).to.match(
      /^STALE: the latest attestation is as of \S+Z, 36 d 0 h ago, older than the maximum of 35 d 0 h\. Its reserve figures are not current\.$/,
    );
    expect(await text(page, "#verdict")).to.equal("INVALID ATTESTATION");
    await page.close();
  });
});
