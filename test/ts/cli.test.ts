import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, Wallet, encodeBytes32String, encryptKeystoreJson } from "ethers";
import { MockERC20__factory, NetDollarNextMock__factory, NetDollar__factory, type NetDollar } from "../../typechain-types";
import { getImplementation } from "../../src/token/status";
import { spawn } from "node:child_process";
import { ADDRESSES, KEYS, ok, startCliEnvironment, type CliEnvironment, type CliRun } from "../helpers/cli";
import { freePort } from "../../src/devnet";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli";

const USD = 1_000_000n;

/** Bad input: exit code 2, one line naming the problem on stderr, nothing on the chain. */
function expectInputError(run: CliRun, pattern: RegExp): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(2);
  expect(run.stderr.split("\n")[0]).to.match(pattern);
  expect(run.stderr).to.not.match(/\n\s+at /); // no stack trace
}

describe("netd CLI, end to end against a Hardhat node", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let provider: JsonRpcProvider;
  let token: NetDollar;

  const blockNumber = () => provider.getBlockNumber();

  let deployed: CliRun;

  // Every test below needs the token: it is deployed here, not by the first test, so any test can run alone (--grep).
  before(async function () {
    env = await startCliEnvironment();
    provider = new JsonRpcProvider(env.node.url, undefined, { cacheTimeout: -1 });
    deployed = await env.run(["deploy", "--json"]);
    const file = JSON.parse(readFileSync(env.deployment, "utf8"));
    token = NetDollar__factory.connect(file.contracts.NetDollar.address, provider);
  });

  after(async function () {
    provider?.destroy();
    await env?.node.stop();
  });

  describe("deploy", function () {
    it("deploys NetDollar behind its proxy and writes the deployment file", async function () {
      const run = deployed;
      expect(run.code, run.stderr).to.equal(0);
      expect(run.json.ok).to.equal(true);
      const file = JSON.parse(readFileSync(env.deployment, "utf8"));
      expect(file.chainId).to.equal(31337);
      expect(file.deployer).to.equal(ADDRESSES.issuer);
      expect(file.contracts.NetDollar.address).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(file.contracts.NetDollar.implementation).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(file.contracts.NetDollar.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(file.roles.pauser).to.equal(ADDRESSES.issuer);
      expect(await token.getAddress()).to.equal(file.contracts.NetDollar.address);
      expect(await token.hasRole(await token.UPGRADER_ROLE(), ADDRESSES.issuer)).to.equal(true);
      expect(await token.symbol()).to.equal("NETD");
      // The x402 batch-settlement contracts, where the reference client and facilitator expect them.
      expect(file.contracts.BatchSettlement.address).to.equal("0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003");
      expect(file.contracts.ERC3009DepositCollector.address).to.equal("0x4020806089470a89826cB9fB1f4059150b550004");
      for (const address of [
        file.contracts.BatchSettlement.address,
        file.contracts.ERC3009DepositCollector.address,
        "0xcA11bde05977b3631167028862bE2a173976CA11",
      ]) {
        expect(await provider.getCode(address)).to.not.equal("0x");
      }
      expect((run.json.deployment as { contracts: Record<string, { address: string }> }).contracts.BatchSettlement.address).to.equal(
        file.contracts.BatchSettlement.address,
      );
    });

    it("skips what is already deployed on a re-run, and redeploys with --fresh", async function () {
      const before = JSON.parse(readFileSync(env.deployment, "utf8"));
      const again = await env.run(["deploy", "--json"]);
      expect(again.code).to.equal(0);
      expect(again.stderr).to.match(/already deployed/);
      expect(JSON.parse(readFileSync(env.deployment, "utf8")).contracts.NetDollar.address).to.equal(before.contracts.NetDollar.address);
      const otherFile = path.join(env.dir, "fresh.json");
      writeFileSync(otherFile, JSON.stringify(before));
      const fresh = await env.run(["deploy", "--fresh", "--json", "--deployment", otherFile]);
      expect(fresh.code).to.equal(0);
      expect(JSON.parse(readFileSync(otherFile, "utf8")).contracts.NetDollar.address).to.not.equal(before.contracts.NetDollar.address);
    });

    it("assigns role holders given by flags", async function () {
      const file = path.join(env.dir, "roles.json");
      const run = await env.run(["deploy", "--json", "--deployment", file, "--pauser", ADDRESSES.auditor, "--symbol", "tNETD"]);
      expect(run.code, run.stderr).to.equal(0);
      const d = JSON.parse(readFileSync(file, "utf8"));
      const t = NetDollar__factory.connect(d.contracts.NetDollar.address, provider);
      expect(await t.hasRole(await t.PAUSER_ROLE(), ADDRESSES.auditor)).to.equal(true);
      expect(await t.hasRole(await t.PAUSER_ROLE(), ADDRESSES.issuer)).to.equal(false);
      expect(await t.symbol()).to.equal("tNETD");
    });
  });

  describe("issuing", function () {
    it("minter configure, then mint spends the allowance and prints the resulting state", async function () {
      const configure = await env.run(["minter", "configure", ADDRESSES.minter, "1000", "--yes", "--json"]);
      expect(configure.code, configure.stderr).to.equal(0);
      expect(configure.json.minterAllowance).to.equal((1000n * USD).toString());
      const mint = await env.run(["mint", ADDRESSES.agent, "250.5", "--yes", "--json"], { key: KEYS.minter });
      expect(mint.code, mint.stderr).to.equal(0);
      expect(mint.json).to.include({ command: "mint", balance: (2505n * USD) / 10n + "", minterAllowance: ((7495n * USD) / 10n).toString() });
      const tx = mint.json.transaction as { hash: string; gasUsed: string };
      expect((await provider.getTransactionReceipt(tx.hash))!.gasUsed.toString()).to.equal(tx.gasUsed);
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal((2505n * USD) / 10n);
    });

    it("prints a human summary with the transaction hash and gas used", async function () {
      const run = await env.run(["mint", ADDRESSES.merchant, "10", "--yes"], { key: KEYS.minter });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/Mint 10\.00 NETD to 0x90F79bf6EB2c4f870365E785982E1f101E93b906: done/);
      expect(run.stdout).to.match(/transaction\s+0x[0-9a-f]{64}/);
      expect(run.stdout).to.match(/gas used\s+[\d,]+/);
      expect(run.stdout).to.match(/minter allowance left\s+739\.50 NETD/);
    });

    it("a mint over the allowance is refused in plain words, exit 1, and nothing is sent", async function () {
      const height = await blockNumber();
      const run = await env.run(["mint", ADDRESSES.agent, "1000", "--yes"], { key: KEYS.minter });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/minter 0x7099…79C8 has an allowance of 739\.50 NETD; minting 1,000\.00 needs 260\.50 more/);
      expect(run.stderr).to.include(`next: the minter admin raises its allowance: \`netd minter configure ${ADDRESSES.minter} <allowance>\``);
      expect(await blockNumber()).to.equal(height);
    });

    it("burn and redeem burn from the caller; redeem records its reference", async function () {
      await env.run(["transfer", ADDRESSES.minter, "5", "--yes"], { key: KEYS.agent });
      const burn = await env.run(["burn", "2", "--yes", "--json"], { key: KEYS.minter });
      expect(burn.code, burn.stderr).to.equal(0);
      expect(burn.json.balance).to.equal((3n * USD).toString());
      const grant = await env.run(["role", "grant", "redeemer", ADDRESSES.merchant, "--yes", "--json"]);
      expect(grant.code, grant.stderr).to.equal(0);
      const redeem = await env.run(["redeem", "4", "--reference", "WIRE-42", "--yes", "--json"], { key: KEYS.merchant });
      expect(redeem.code, redeem.stderr).to.equal(0);
      expect(redeem.json.reference).to.equal(encodeBytes32String("WIRE-42"));
      const logs = await token.queryFilter(token.filters.Redeemed(ADDRESSES.merchant));
      expect(logs.at(-1)!.args.amount).to.equal(4n * USD);
      expect(logs.at(-1)!.args.referenceId).to.equal(encodeBytes32String("WIRE-42"));
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(6n * USD);
    });

    it("minter list and minter remove", async function () {
      const list = await env.run(["minter", "list", "--json"], { key: null });
      expect(list.code, list.stderr).to.equal(0);
      expect(list.json.minters).to.deep.equal([{ address: ADDRESSES.minter, allowance: ((7395n * USD) / 10n).toString() }]);
      const remove = await env.run(["minter", "remove", ADDRESSES.minter, "--yes", "--json"]);
      expect(remove.code).to.equal(0);
      expect(await token.isMinter(ADDRESSES.minter)).to.equal(false);
      const after = await env.run(["minter", "list", "--json"], { key: null });
      expect(after.json.minters).to.deep.equal([]);
      await env.run(["minter", "configure", ADDRESSES.minter, "1000", "--yes"]);
    });
  });

  describe("reading", function () {
    it("status shows supply, pause, implementation, minters and role holders", async function () {
      const run = await env.run(["status", "--json"], { key: null });
      expect(run.code, run.stderr).to.equal(0);
      const roles = run.json.roles as Record<string, string[]>;
      expect(run.json).to.include({
        name: "NET Dollar",
        symbol: "NETD",
        paused: false,
        totalSupply: (await token.totalSupply()).toString(),
        contract: "NetDollarV2",
      });
      expect(run.json.implementation).to.equal(JSON.parse(readFileSync(env.deployment, "utf8")).contracts.NetDollar.implementation);
      expect(roles.redeemer).to.deep.equal([ADDRESSES.merchant]);
      expect(roles.pauser).to.deep.equal([ADDRESSES.issuer]);
      expect(run.json.minters).to.deep.equal([{ address: ADDRESSES.minter, allowance: (1000n * USD).toString() }]);
      const human = await env.run(["status"], { key: null });
      expect(human.stdout).to.match(/total supply\s+[\d,.]+ NETD/);
      expect(human.stdout).to.match(/contract\s+NetDollarV2 \(version 2: minting held to the attested reserves\)/);
    });

    it("balance of an account, and of the configured key by default", async function () {
      const run = await env.run(["balance", ADDRESSES.agent, "--json"], { key: null });
      expect(run.json.balance).to.equal((await token.balanceOf(ADDRESSES.agent)).toString());
      const own = await env.run(["balance", "--json"], { key: KEYS.merchant });
      expect(own.json.account).to.equal(ADDRESSES.merchant);
    });

    it("role list shows every role", async function () {
      const run = await env.run(["role", "list", "--json"], { key: null });
      expect(run.code).to.equal(0);
      expect((run.json.roles as Record<string, string[]>).admin).to.deep.equal([ADDRESSES.issuer]);
    });

    it("transfer of 0 is refused before anything is sent", async function () {
      const before = await token.balanceOf(ADDRESSES.agent);
      const run = await env.run(["transfer", ADDRESSES.creator1, "0", "--yes"], { key: KEYS.agent });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include("a transfer of 0 moves nothing: give an amount above zero");
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal(before);
    });

    it("--json prints nothing but JSON on stdout", async function () {
      const [agentBefore, creatorBefore] = await Promise.all([token.balanceOf(ADDRESSES.agent), token.balanceOf(ADDRESSES.creator1)]);
      const run = ok(await env.run(["transfer", ADDRESSES.creator1, "1", "--yes", "--json"], { key: KEYS.agent }));
      const json = JSON.parse(run.stdout); // the whole of stdout is one JSON document
      expect(json).to.include({ ok: true, command: "transfer", to: ADDRESSES.creator1, amount: USD.toString(), toBalance: (creatorBefore + USD).toString() });
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore - USD);
      expect(await token.balanceOf(ADDRESSES.creator1)).to.equal(creatorBefore + USD);
    });
  });

  describe("administering", function () {
    it("pause stops transfers (refused in plain words before sending); unpause resumes them", async function () {
      expect((await env.run(["pause", "--yes", "--json"])).json.paused).to.equal(true);
      const height = await blockNumber();
      const refused = await env.run(["transfer", ADDRESSES.creator1, "1", "--yes"], { key: KEYS.agent });
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/the token is paused/);
      expect(await blockNumber()).to.equal(height);
      expect((await env.run(["unpause", "--yes", "--json"])).json.paused).to.equal(false);
    });

    it("blocklist add, check, seize and remove", async function () {
      const add = await env.run(["blocklist", "add", ADDRESSES.creator1, "--yes", "--json"]);
      expect(add.json.blocklisted).to.equal(true);
      const check = await env.run(["blocklist", "check", ADDRESSES.creator1, "--json"], { key: null });
      expect(check.json).to.include({ blocklisted: true, balance: (1n * USD).toString() });
      const refused = await env.run(["transfer", ADDRESSES.creator1, "1", "--yes"], { key: KEYS.agent });
      expect(refused.stderr).to.match(/0x15d3…6A65 is blocklisted/);
      const seize = await env.run(["seize", ADDRESSES.creator1, "--yes", "--json"]);
      expect(seize.code, seize.stderr).to.equal(0);
      expect(seize.json.seized).to.equal((1n * USD).toString());
      expect(await token.balanceOf(ADDRESSES.creator1)).to.equal(0n);
      const remove = await env.run(["blocklist", "remove", ADDRESSES.creator1, "--yes", "--json"]);
      expect(remove.json.blocklisted).to.equal(false);
    });

    it("role grant and revoke, refused for a caller without the admin role", async function () {
      const grant = await env.run(["role", "grant", "pauser", ADDRESSES.auditor, "--yes", "--json"]);
      expect(grant.json.holds).to.equal(true);
      const denied = await env.run(["role", "revoke", "pauser", ADDRESSES.auditor, "--yes"], { key: KEYS.agent });
      expect(denied.code).to.equal(1);
      expect(denied.stderr).to.match(/0x3C44…93BC does not hold DEFAULT_ADMIN_ROLE/);
      expect(denied.stderr).to.include("next: only the default admin can do this: sign with its key (`netd admin show` names it)");
      const pause = await env.run(["pause", "--yes"], { key: KEYS.agent });
      expect(pause.code).to.equal(1);
      expect(pause.stderr).to.include(`next: sign with a key that holds it, or have the default admin grant it: \`netd role grant pauser ${ADDRESSES.agent}\``);
      const revoke = await env.run(["role", "revoke", "PAUSER_ROLE", ADDRESSES.auditor, "--yes", "--json"]);
      expect(revoke.json.holds).to.equal(false);
    });

    it("rescue sends another token back out of the contract", async function () {
      const issuer = new Wallet(KEYS.issuer, provider);
      const mock = await new MockERC20__factory(issuer).deploy();
      await mock.waitForDeployment();
      await (await mock.mint(await token.getAddress(), 5n * 10n ** 18n)).wait();
      const run = await env.run(["rescue", await mock.getAddress(), ADDRESSES.auditor, "1.5", "--yes", "--json"]);
      expect(run.code, run.stderr).to.equal(0);
      expect(await mock.balanceOf(ADDRESSES.auditor)).to.equal(15n * 10n ** 17n);
      expect(run.json.left).to.equal((35n * 10n ** 17n).toString());
    });
  });

  describe("authorizations", function () {
    it("authorize prints a signed authorization that submit-authorization relays", async function () {
      const file = path.join(env.dir, "auth.json");
      const signed = await env.run(["authorize", ADDRESSES.merchant, "0.25", "--valid-for", "600", "--out", file], { key: KEYS.agent });
      expect(signed.code, signed.stderr).to.equal(0);
      const doc = JSON.parse(readFileSync(file, "utf8"));
      expect(doc).to.include({ type: "netd/eip3009-authorization", kind: "transfer", chainId: "31337" });
      expect(doc.authorization).to.include({ from: ADDRESSES.agent, to: ADDRESSES.merchant, value: "250000" });
      const before = await token.balanceOf(ADDRESSES.merchant);
      const relayed = await env.run(["submit-authorization", file, "--yes", "--json"], { key: KEYS.auditor });
      expect(relayed.code, relayed.stderr).to.equal(0);
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before + 250_000n);
      expect(await token.authorizationState(ADDRESSES.agent, doc.authorization.nonce)).to.equal(true);
      const replay = await env.run(["submit-authorization", file, "--yes"], { key: KEYS.auditor });
      expect(replay.code).to.equal(1);
      expect(replay.stderr).to.match(/has already used or cancelled authorization nonce/);
    });

    it("authorize without --out prints the document on stdout; a receive authorization is relayed only by its payee", async function () {
      const signed = await env.run(["authorize", ADDRESSES.merchant, "0.1", "--valid-for", "600", "--receive"], { key: KEYS.agent });
      const doc = JSON.parse(signed.stdout);
      expect(doc.kind).to.equal("receive");
      const file = path.join(env.dir, "receive.json");
      writeFileSync(file, signed.stdout);
      const wrong = await env.run(["submit-authorization", file, "--yes"], { key: KEYS.auditor });
      expectInputError(wrong, /can be submitted only by its payee/);
      const right = await env.run(["submit-authorization", file, "--yes", "--json"], { key: KEYS.merchant });
      expect(right.code, right.stderr).to.equal(0);
    });

    it("refuses a tampered authorization before sending anything", async function () {
      const signed = await env.run(["authorize", ADDRESSES.merchant, "0.1", "--valid-for", "600"], { key: KEYS.agent });
      const doc = JSON.parse(signed.stdout);
      doc.authorization.value = "100000000";
      const file = path.join(env.dir, "tampered.json");
      writeFileSync(file, JSON.stringify(doc));
      const height = await blockNumber();
      expectInputError(await env.run(["submit-authorization", file, "--yes"], { key: KEYS.auditor }), /was signed by 0x[0-9a-fA-F]{40}, not by the payer/);
      writeFileSync(file, JSON.stringify({ ...doc, authorization: { ...doc.authorization, nonce: "0x12" } }));
      expectInputError(await env.run(["submit-authorization", file, "--yes"], { key: KEYS.auditor }), /not a valid authorization document/);
      writeFileSync(file, "{ not json");
      expectInputError(await env.run(["submit-authorization", file, "--yes"], { key: KEYS.auditor }), /is not valid JSON/);
      expect(await blockNumber()).to.equal(height);
    });
  });

  describe("bad input: one line naming the problem, exit code 2, no transaction", function () {
    const cases: [string, string[], RegExp, string | null][] = [
      ["a malformed address", ["transfer", "0x1234", "1", "--yes"], /receiver "0x1234" is not an address/, KEYS.agent],
      ["a bad-checksum address", ["transfer", "0x70997970c51812dc3a010c7d01b50e0d17dc79C8", "1", "--yes"], /has a bad checksum/, KEYS.agent],
      ["an amount with 7 decimals", ["transfer", ADDRESSES.merchant, "0.0000001", "--yes"], /amount "0\.0000001" has 7 decimals; NET Dollar has 6/, KEYS.agent],
      ["a negative amount", ["mint", ADDRESSES.merchant, "-5", "--yes"], /amount "-5" is negative/, KEYS.minter],
      ["a non-numeric amount", ["mint", ADDRESSES.merchant, "ten", "--yes"], /amount "ten" is not a decimal number/, KEYS.minter],
      ["an exponent", ["mint", ADDRESSES.merchant, "1e6", "--yes"], /amount "1e6" is not a decimal number/, KEYS.minter],
      ["an amount above 2^256-1", ["mint", ADDRESSES.merchant, "9".repeat(80), "--yes"], /above the largest possible amount/, KEYS.minter],
      ["an unknown role", ["role", "grant", "treasurer", ADDRESSES.merchant, "--yes"], /unknown role "treasurer"/, KEYS.issuer],
      ["no key for a write", ["pause", "--yes"], /no key is configured for a transaction/, null],
      ["a redemption reference over 31 bytes", ["redeem", "1", "--reference", "x".repeat(40), "--yes"], /longer than 31 bytes/, KEYS.merchant],
      ["a malformed private key", ["pause", "--yes"], /NETD_PRIVATE_KEY is not a 32-byte hex private key/, "0xnot-a-key"],
      ["an unknown command", ["frobnicate"], /unknown command 'frobnicate'/, null],
      ["a missing argument", ["mint", ADDRESSES.merchant], /missing required argument 'amount'/, KEYS.minter],
    ];
    for (const [what, args, pattern, key] of cases) {
      it(what, async function () {
        const height = await blockNumber();
        const run = await env.run(args, { key });
        expectInputError(run, pattern);
        expect(run.stderr).to.not.include("0xnot-a-key");
        expect(await blockNumber()).to.equal(height);
      });
    }

    it("a missing deployment file", async function () {
      expectInputError(await env.run(["status"], { env: { NETD_DEPLOYMENT: path.join(env.dir, "missing.json") } }), /no deployment file at .*missing\.json/);
    });

    it("a deployment file for another chain than the endpoint", async function () {
      const file = path.join(env.dir, "other-chain.json");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(env.deployment, "utf8")), chainId: 1 }));
      expectInputError(await env.run(["status"], { env: { NETD_DEPLOYMENT: file } }), /is for chain 1, but the endpoint serves chain 31337/);
    });

    it("a write without --yes and no terminal to confirm on: says what it would send, where, as whom, for about what gas", async function () {
      const height = await blockNumber();
      const run = await env.run(["pause"]);
      expectInputError(run, /not sending without confirmation/);
      expect(run.stderr).to.match(/chain\s+31337 at http:\/\/127\.0\.0\.1:\d+/);
      expect(run.stderr).to.include(`signer  ${ADDRESSES.issuer}`);
      expect(run.stderr).to.match(/gas\s+about [\d,]+/);
      expect(run.stderr).to.include("pass --yes to confirm when there is no terminal to ask on");
      expect(await blockNumber()).to.equal(height);
    });

    it("a write prints its hash as soon as it is sent, then the receipt", async function () {
      const run = await env.run(["transfer", ADDRESSES.creator1, "0.01", "--yes", "--json"], { key: KEYS.agent });
      expect(run.code, run.stderr).to.equal(0);
      const hash = (run.json.transaction as { hash: string }).hash;
      expect(run.stderr).to.include(`sent ${hash}, waiting for 1 confirmation`);
    });

    it("an unreachable endpoint exits 1 with a clear message, not a stack trace", async function () {
      const port = await freePort();
      const run = await env.run(["status"], { env: { NETD_RPC_URL: `http://127.0.0.1:${port}` } });
      expect(run.code).to.equal(1);
      expect(run.stderr.split("\n")[0]).to.equal(`error: cannot reach the RPC endpoint http://127.0.0.1:${port}`);
      expect(run.stderr).to.include("is `npx netd devnet` running (or --rpc-url / NETD_RPC_URL pointing elsewhere)?");
      expect(run.stderr).to.not.match(/\n\s+at /);
    });

    it("--json reports an error as JSON too", async function () {
      const run = await env.run(["transfer", "nope", "1", "--yes", "--json"], { key: KEYS.agent });
      expect(run.code).to.equal(2);
      expect(run.json).to.deep.include({ ok: false });
      expect((run.json.error as { message: string }).message).to.match(/is not an address/);
    });
  });

  describe("keystore", function () {
    let keystore: string;
    before(async function () {
      keystore = path.join(env.dir, "issuer.keystore.json");
      const wallet = new Wallet(KEYS.issuer);
      // A low scrypt cost keeps the test fast; real keystores use ethers' default.
      writeFileSync(keystore, await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, "correct horse", { scrypt: { N: 1024 } }));
    });

    it("signs with an encrypted JSON keystore and NETD_KEYSTORE_PASSWORD", async function () {
      const run = await env.run(["balance", "--json"], { key: null, env: { NETD_KEYSTORE: keystore, NETD_KEYSTORE_PASSWORD: "correct horse" } });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.json.account).to.equal(ADDRESSES.issuer);
      const flag = await env.run(["--keystore", keystore, "pause", "--yes", "--json"], { key: null, env: { NETD_KEYSTORE_PASSWORD: "correct horse" } });
      expect(flag.json.paused).to.equal(true);
      await env.run(["unpause", "--yes"]);
    });

    it("a wrong password is a configuration error (exit 2) that shows neither the password nor the key", async function () {
      const run = await env.run(["pause", "--yes"], { key: null, env: { NETD_KEYSTORE: keystore, NETD_KEYSTORE_PASSWORD: "hunter2-bad" } });
      expectInputError(run, /cannot decrypt the keystore/);
      expect(run.stderr).to.not.include("hunter2-bad");
    });

    it("without a password and no terminal to ask on, says how to give one", async function () {
      expectInputError(await env.run(["pause", "--yes"], { key: null, env: { NETD_KEYSTORE: keystore } }), /the keystore needs a password/);
    });

    it("a private key and a keystore at once is refused", async function () {
      expectInputError(
        await env.run(["pause", "--yes"], { env: { NETD_KEYSTORE: keystore, NETD_KEYSTORE_PASSWORD: "correct horse" } }),
        /both a private key and a keystore are configured/,
      );
    });
  });

  describe("upgrade script (scripts/upgrade.ts, through the Upgrades plugin)", function () {
    function upgrade(to: string, extra: Record<string, string> = {}): Promise<{ code: number; out: string }> {
      const root = path.join(__dirname, "..", "..");
      return new Promise((resolve, reject) => {
        const child = spawn(path.join(root, "node_modules", ".bin", "hardhat"), ["run", "scripts/upgrade.ts", "--network", "target", "--no-compile"], {
          cwd: root,
          env: { ...process.env, NETD_RPC_URL: env.node.url, NETD_PRIVATE_KEY: KEYS.issuer, NETD_DEPLOYMENT: env.deployment, NETD_UPGRADE_TO: to, ...extra },
        });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, out }));
      });
    }

    it("refuses an implementation with an incompatible storage layout and changes nothing", async function () {
      const before = JSON.parse(readFileSync(env.deployment, "utf8")).contracts.NetDollar.implementation;
      const run = await upgrade("NetDollarBadLayoutMock");
      expect(run.code, run.out).to.equal(1);
      expect(run.out).to.match(/New storage layout is incompatible/);
      expect(await getImplementation(provider, await token.getAddress())).to.equal(before);
    });

    it("refuses to take NETD_UPGRADE_FROM's word: a proxy running NetDollarV2 is not upgraded as if it ran NetDollar", async function () {
      const before = await getImplementation(provider, await token.getAddress());
      const run = await upgrade("NetDollarV2", { NETD_UPGRADE_FROM: "NetDollar" });
      expect(run.code, run.out).to.equal(1);
      expect(run.out).to.match(/does not run NetDollar \(NETD_UPGRADE_FROM\) as compiled here: it runs NetDollarV2; set NETD_UPGRADE_FROM to what it runs/);
      expect(await getImplementation(provider, await token.getAddress())).to.equal(before);
    });

    it("upgrades to a compatible implementation, keeps balances and updates the deployment file", async function () {
      const balance = await token.balanceOf(ADDRESSES.agent);
      const dry = await upgrade("NetDollarNextMock", { NETD_UPGRADE_DRY_RUN: "1" });
      expect(dry.code, dry.out).to.equal(0);
      expect(dry.out).to.match(/dry run: the upgrade is safe; nothing sent/);
      const run = await upgrade("NetDollarNextMock");
      expect(run.code, run.out).to.equal(0);
      const implementation = await getImplementation(provider, await token.getAddress());
      expect(JSON.parse(readFileSync(env.deployment, "utf8")).contracts.NetDollar.implementation).to.equal(implementation);
      expect(await NetDollarNextMock__factory.connect(await token.getAddress(), provider).marker()).to.equal(0n);
      expect(await token.balanceOf(ADDRESSES.agent)).to.equal(balance);
    });
  });

  describe("--help", function () {
    it("a subcommand's --help lists the global flags too", async function () {
      const run = await env.run(["mint", "--help"], { key: null });
      expect(run.code).to.equal(0);
      for (const flag of ["--yes", "--json", "--rpc-url", "--deployment", "--keystore"]) expect(run.stdout).to.include(flag);
      expect(run.stdout).to.match(/Global Options:/);
    });

    it("netd --help lists every command and the exit codes", async function () {
      const run = await env.run(["--help"], { key: null });
      expect(run.code).to.equal(0);
      expect(run.stdout).to.match(/Exit codes: 0 success, 1 the chain refused or could not be reached, 2 bad input or usage/);
    });

    it("every command's help has an example", function () {
      // In-process (same text the binary prints), to keep the suite fast.
      const walk = (command: Command): Command[] => [command, ...command.commands.flatMap(walk)];
      const leaves = walk(buildProgram()).filter((c) => c.commands.length === 0 && c.name() !== "help");
      expect(leaves.length).to.be.greaterThan(20);
      for (const command of leaves) {
        let help = "";
        command.configureOutput({ writeOut: (s) => (help += s) });
        command.outputHelp();
        expect(help, command.name()).to.match(/Examples?[^:\n]*:\n\s+\$ netd /);
      }
    });
  });
});
