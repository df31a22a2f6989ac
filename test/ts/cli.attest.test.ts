import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { NetDollarV2__factory, ReserveOracle__factory, type NetDollarV2 } from "../../typechain-types";
import { ok, runCli, ADDRESSES, KEYS, startCliEnvironment, type CliEnvironment } from "../helpers/cli";
import { spawnServer } from "../helpers/server";
import { devnetWallet, freePort } from "../../src/devnet";
import { toIsoSeconds } from "../../src/attestation";

const USD = 1_000_000n;
const accountant = devnetWallet(7); // the devnet's "auditor"

describe("netd attest and netd reserve, end to end against a Hardhat node", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let provider: JsonRpcProvider;
  let token: NetDollarV2;
  let reservesFile: string;
  let oracleAddress: string;

  /** The chain's latest block time, after mining one so that a block after asOf exists. */
  async function nowOnChain(): Promise<bigint> {
    const t = BigInt((await provider.getBlock("latest"))!.timestamp);
    await provider.send("evm_setNextBlockTimestamp", [Number(t + 1n)]);
    await provider.send("evm_mine", []);
    return t;
  }

  function writeReserves(dollars: string): string {
    const file = path.join(env.dir, `reserves-${dollars}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        issuer: "NET Dollar Inc.",
        accountant: "Example LLP",
        report: "report.pdf",
        lines: [{ kind: "cash", custodian: "First Bank", amount: dollars }],
      }),
    );
    return file;
  }

  /** create + sign, as of the chain's current time. */
  async function attest(dollars: string, name: string): Promise<string> {
    const asOf = toIsoSeconds(await nowOnChain());
    const unsigned = path.join(env.dir, `${name}.json`);
    ok(await env.run(["attest", "create", "--reserves", writeReserves(dollars), "--as-of", asOf, "--out", unsigned], { key: null }));
    const signed = path.join(env.dir, `${name}.signed.json`);
    ok(await env.run(["attest", "sign", unsigned, "--out", signed], { key: accountant.privateKey }));
    return signed;
  }

  it("create --as-of now: as of the latest block, no waiting for a block after it", async function () {
    const out = path.join(env.dir, "now.json");
    const head = await nowOnChain();
    ok(await env.run(["attest", "create", "--reserves", writeReserves("1500"), "--as-of", "now", "--out", out], { key: null }));
    const doc = JSON.parse(readFileSync(out, "utf8")) as { asOf: string; deployments: { blockTimestamp: string }[] };
    expect(Date.parse(doc.asOf) / 1000).to.be.at.least(Number(head));
    expect(doc.deployments[0].blockTimestamp).to.equal(doc.asOf);
    const bad = await env.run(["attest", "create", "--reserves", writeReserves("1500"), "--as-of", "soon"], { key: null });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--as-of "soon" is not a UTC time/);
  });

  it("create --allocate gives the deployment its share; a share above the reserves or for another chain is refused (exit 2)", async function () {
    const asOf = toIsoSeconds(await nowOnChain());
    const out = path.join(env.dir, "allocated.json");
    ok(await env.run(["attest", "create", "--reserves", writeReserves("1500"), "--as-of", asOf, "--allocate", "31337=1200.50", "--out", out], { key: null }));
    expect(JSON.parse(readFileSync(out, "utf8")).deployments[0].allocation).to.equal("1200500000");
    for (const [flag, message] of [
      ["31337=1500.01", /more than the reserves/],
      ["1=10", /no allocation given for chain 31337/],
      ["31337", /not CHAINID=DOLLARS/],
    ] as const) {
      const run = await env.run(["attest", "create", "--reserves", writeReserves("1500"), "--as-of", asOf, "--allocate", flag], { key: null });
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(message);
    }
  });

  const check = (file: string, extra: string[] = []) => env.run(["attest", "check", file, "--trusted-attestor", accountant.address, ...extra], { key: null });

  before(async function () {
    env = await startCliEnvironment();
    provider = new JsonRpcProvider(env.node.url, undefined, { cacheTimeout: -1 });
    writeFileSync(path.join(env.dir, "report.pdf"), "the accountant's report");
    reservesFile = path.join(env.dir, "reserves.json");
    const deployed = ok(await env.run(["deploy", "--json"]));
    const contracts = (deployed.json.deployment as { contracts: Record<string, { address: string }> }).contracts;
    token = NetDollarV2__factory.connect(contracts.NetDollar.address, provider);
    oracleAddress = contracts.ReserveOracle.address;
    ok(await env.run(["reserve", "attestor", "add", accountant.address, "--yes"]));
    ok(await env.run(["minter", "configure", ADDRESSES.minter, "100000", "--yes"]));
    ok(await env.run(["mint", ADDRESSES.agent, "1000", "--yes"], { key: KEYS.minter })); // guard still off
    void reservesFile;
  });

  after(async function () {
    provider?.destroy();
    await env?.node.stop();
  });

  it("create records the supply at the attested block and the report's SHA-256; verify accepts a trusted signature", async function () {
    const signed = await attest("1500", "a1");
    const doc = JSON.parse(readFileSync(signed, "utf8"));
    expect(doc.deployments[0]).to.include({ chainId: "31337", token: await token.getAddress(), outstanding: (1000n * USD).toString() });
    expect(doc.report.sha256).to.equal("0x" + createHash("sha256").update("the accountant's report").digest("hex"));
    expect(doc.attestor).to.equal(accountant.address);
    expect(doc).to.include({ version: 2 });
    expect(doc.deployments[0].allocation).to.equal((1500n * USD).toString());
    ok(await env.run(["attest", "verify", signed, "--trusted-attestor", accountant.address], { key: null }));
    const untrusted = await env.run(["attest", "verify", signed, "--trusted-attestor", ADDRESSES.agent], { key: null });
    expect(untrusted.code).to.equal(2);
    expect(untrusted.stdout).to.match(/NOT VERIFIED: the attestor 0x\w+ is not among the trusted attestors/);
  });

  it("publish, then the guard holds minting to the attested reserves, refusing with the figures", async function () {
    const signed = await attest("1500", "a2");
    ok(await env.run(["attest", "publish", signed, "--yes"], { key: KEYS.agent }));
    const replay = await env.run(["attest", "publish", signed, "--yes"], { key: KEYS.agent });
    expect(replay.code).to.equal(1);
    expect(replay.stderr).to.match(/is not newer than the oracle's latest .*replayed or out of order/);
    // A bare number is refused: "35" would be 35 seconds where 35 days are meant.
    const bare = await env.run(["reserve", "configure", "--max-age", "35", "--yes"]);
    expect(bare.code).to.equal(2);
    expect(bare.stderr).to.match(/--max-age "35" needs a unit/);
    ok(await env.run(["reserve", "configure", "--max-age", "1d", "--yes"]));
    const status = ok(await env.run(["reserve", "status", "--json"], { key: null }));
    expect(status.json).to.include({ enabled: true, fresh: true, mintable: (500n * USD).toString() });
    const refused = await env.run(["mint", ADDRESSES.agent, "500.000001", "--yes"], { key: KEYS.minter });
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/minting would take the supply to 1,500\.000001 NETD, above the 1,500\.00 NETD the attested reserves of \$1,500\.00 allow/);
    ok(await env.run(["mint", ADDRESSES.agent, "500", "--yes"], { key: KEYS.minter }));
  });

  it("check: backed → exit 0 (text, --json and --markdown)", async function () {
    expect(await token.totalSupply()).to.equal(1500n * USD);
    const signed = await attest("1500", "backed");
    const text = ok(await check(signed));
    expect(text.stdout).to.match(/^Verdict: BACKED/);
    expect(text.stdout).to.match(/Collateral\s+100\.0000%/);
    const json = ok(await check(signed, ["--json"]));
    expect(json.json).to.include({ ok: true, verdict: "backed", reserves: (1500n * USD).toString(), outstanding: (1500n * USD).toString(), headroom: "0" });
    const md = ok(await check(signed, ["--markdown"]));
    expect(md.stdout).to.match(/^# Reserve attestation check/);
  });

  it("check: one base unit short → exit 1", async function () {
    const signed = await attest("1499.999999", "short");
    const run = await check(signed);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(/^Verdict: NOT BACKED \(under-backed\)/);
  });

  it("check: tampered, untrusted or stale → exit 2", async function () {
    const signed = await attest("2000", "tamper");
    const doc = JSON.parse(readFileSync(signed, "utf8"));
    doc.accountant = "Someone Else LLP";
    const tampered = path.join(env.dir, "tampered.json");
    writeFileSync(tampered, JSON.stringify(doc));
    const r1 = await check(tampered);
    expect(r1.code).to.equal(2);
    expect(r1.stdout).to.match(/\[invalid\] the signature is not .* \(a field was changed after signing, or another key signed\)/);
    const r2 = await env.run(["attest", "check", signed, "--trusted-attestor", ADDRESSES.agent], { key: null });
    expect(r2.code).to.equal(2);
    const r3 = await check(signed, ["--max-age", "0"]);
    expect(r3.code).to.equal(2);
    expect(r3.stdout).to.match(/the attestation is stale/);
    writeFileSync(tampered, "{}");
    const r4 = await check(tampered);
    expect(r4.code).to.equal(2);
    expect(r4.stderr).to.match(/is not a valid reserve attestation/);
  });

  it("check: a chain that cannot be read → exit 3", async function () {
    const signed = await attest("2000", "unreadable");
    const run = await env.run(["attest", "check", signed, "--trusted-attestor", accountant.address, "--rpc-url", `http://127.0.0.1:${await freePort()}`], {
      key: null,
    });
    expect(run.code).to.equal(3);
    expect(run.stderr).to.match(/cannot reach the RPC endpoint/);
  });

  it("transparency build writes the page and data.json from the chain; serve answers it; bad input exits 2, a busy port 1", async function () {
    const signed = await attest("2000", "page");
    ok(await env.run(["attest", "publish", signed, "--yes"], { key: KEYS.agent }));
    ok(await env.run(["reserve", "configure", "--max-age", "1d", "--yes"])); // as the tests before left it: the guard names the oracle the page reads
    const out = path.join(env.dir, "site");
    const built = ok(await env.run(["transparency", "build", signed, "--trusted-attestor", accountant.address, "--out", out, "--json"], { key: null }));
    expect(built.json).to.deep.include({ ok: true, command: "transparency build", verdict: "backed", stale: false, unreadable: [] });
    const data = JSON.parse(readFileSync(path.join(out, "data.json"), "utf8"));
    expect(data.chains[0].inCirculation).to.equal((await token.totalSupply()).toString());
    expect(data.check.reserves).to.equal((2000n * USD).toString());
    expect(data.chains[0].attestationRound).to.equal((await ReserveOracle__factory.connect(oracleAddress, provider).latestRoundData())[0].toString());
    const html = readFileSync(path.join(out, "index.html"), "utf8");
    expect(html).to.include('<div class="value" id="reserves">$2,000.00</div>');
    expect(readFileSync(path.join(out, "chart.umd.min.js"), "utf8")).to.match(/Chart\.js v4/);

    const server = await spawnServer(
      [path.join(__dirname, "..", "..", "bin", "netd.js"), "transparency", "serve", signed, "--trusted-attestor", accountant.address, "--port", "0"],
      { NETD_RPC_URL: env.node.url },
      env.dir,
    );
    try {
      const page = await fetch(server.url);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include('<div class="value" id="reserves">$2,000.00</div>');
      const json = (await (await fetch(new URL("data.json", server.url))).json()) as { check: { verdict: string } };
      expect(json.check.verdict).to.equal("backed");
      expect((await fetch(new URL("nothing", server.url))).status).to.equal(404);
      const busy = await env.run(["transparency", "serve", signed, "--trusted-attestor", accountant.address, "--port", new URL(server.url).port], {
        key: null,
      });
      expect(busy.code, busy.stderr).to.equal(1);
      expect(busy.stderr).to.match(/port \d+ on 127\.0\.0\.1 is in use/);
    } finally {
      expect(await server.stop()).to.equal(0);
    }
    writeFileSync(path.join(env.dir, "broken.json"), "{");
    const bad = await env.run(["transparency", "build", path.join(env.dir, "broken.json"), "--trusted-attestor", accountant.address, "--out", out], {
      key: null,
    });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/cannot read .*broken\.json as JSON/);
    // Piped: no progress bar. On a terminal (a pseudo-terminal from script(1), in bsdutils, essential on Debian): one.
    expect(built.stderr).to.not.match(/\[[#.]{30}\]/);
    const tty = await runCli(
      [
        "-c",
        `node ${path.join(__dirname, "..", "..", "bin", "netd.js")} transparency build ${signed} --trusted-attestor ${accountant.address} --out ${out}`,
        "-q",
        "/dev/null",
      ],
      { NETD_RPC_URL: env.node.url },
      undefined,
      env.dir,
      "script",
    );
    expect(tty.code, tty.stdout).to.equal(0);
    expect(tty.stdout).to.match(/\[#{30}\] 100% {2}(reconciling|flows on) chain 31337 {2}block \d+\/\d+/);
    expect(tty.stdout).to.match(/Transparency page written to/);
    const help = ok(await env.run(["transparency", "build", "--help"], { key: null }));
    expect(help.stdout).to.match(/Example:\n\s+\$ netd transparency build/);
  });

  it("a stale attestation blocks minting (fail closed), a fresh one unblocks it", async function () {
    await provider.send("evm_increaseTime", [2 * 86_400]);
    await provider.send("evm_mine", []);
    const blocked = await env.run(["mint", ADDRESSES.agent, "1", "--yes"], { key: KEYS.minter });
    expect(blocked.code).to.equal(1);
    expect(blocked.stderr).to.match(/the latest reserve attestation .* is older than 86400 seconds .*minting is blocked until a newer one is published/);
    const signed = await attest("3000", "fresh");
    ok(await env.run(["attest", "publish", signed, "--yes"], { key: KEYS.agent }));
    ok(await env.run(["mint", ADDRESSES.agent, "1", "--yes"], { key: KEYS.minter }));
    const oracle = ReserveOracle__factory.connect((await token.reserveGuard())[0], provider);
    expect((await oracle.latestReserves())[0]).to.equal(3000n * USD);
  });

  it("reserve disable turns the guard off explicitly", async function () {
    const run = ok(await env.run(["reserve", "disable", "--yes", "--json"]));
    expect(run.json.enabled).to.equal(false);
    const logs = await token.queryFilter(token.filters.ReserveGuardDisabled());
    expect(logs).to.have.length(1);
  });
});
