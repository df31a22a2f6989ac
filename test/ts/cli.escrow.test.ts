import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { ConditionalEscrow__factory, NetDollar__factory, type ConditionalEscrow, type NetDollar } from "../../typechain-types";
import { ok, ADDRESSES, KEYS, startCliEnvironment, type CliEnvironment } from "../helpers/cli";
import { devnetWallet } from "../../src/devnet";
import { fromPaymentDocument, paymentId } from "../../src/escrow/payment";

const USD = 1_000_000n;
const creators = [devnetWallet(4), devnetWallet(5), devnetWallet(6)];
const verifier = devnetWallet(7); // the "auditor" account acts as verifier here
const operator = devnetWallet(8);
const arbiter = devnetWallet(9);

describe("netd escrow, end to end against a Hardhat node", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let provider: JsonRpcProvider;
  let token: NetDollar;
  let escrow: ConditionalEscrow;
  let n = 0;

  /** `netd escrow create` as the agent, into a fresh file; returns the file and the payment id. */
  async function create(args: string[]): Promise<{ file: string; id: string }> {
    const file = path.join(env.dir, `payment-${n++}.json`);
    ok(await env.run(["escrow", "create", "--amount", "30", "--out", file, ...args], { key: KEYS.agent }));
    return { file, id: JSON.parse(readFileSync(file, "utf8")).id };
  }

  async function increaseTime(seconds: number): Promise<void> {
    await provider.send("evm_increaseTime", [seconds]);
    await provider.send("evm_mine", []);
  }

  before(async function () {
    env = await startCliEnvironment();
    provider = new JsonRpcProvider(env.node.url, undefined, { cacheTimeout: -1 });
    const deployed = ok(await env.run(["deploy", "--json"]));
    const contracts = (deployed.json.deployment as { contracts: Record<string, { address: string }> }).contracts;
    token = NetDollar__factory.connect(contracts.NetDollar.address, provider);
    escrow = ConditionalEscrow__factory.connect(contracts.ConditionalEscrow.address, provider);
    ok(await env.run(["minter", "configure", ADDRESSES.minter, "100000", "--yes"]));
    ok(await env.run(["mint", ADDRESSES.agent, "1000", "--yes"], { key: KEYS.minter }));
  });

  after(async function () {
    provider?.destroy();
    await env?.node.stop();
  });

  it("deploy records the escrow in the deployment file", async function () {
    const d = JSON.parse(readFileSync(env.deployment, "utf8"));
    expect(d.contracts.ConditionalEscrow.address).to.equal(await escrow.getAddress());
    expect(d.contracts.ConditionalEscrow.blockNumber).to.be.a("number");
  });

  it("create → fund (the payer signs) → sign-receipt → confirm --receipt (anyone relays): split three ways", async function () {
    const { file, id } = await create([...creators.map((c) => `--payee=${c.address}`), "--verifier", verifier.address]);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(doc.payment.payees.map((p: { shareBps: number }) => p.shareBps)).to.deep.equal([3334, 3333, 3333]);
    const funded = ok(await env.run(["escrow", "fund", file, "--yes", "--json"], { key: KEYS.agent }));
    expect(funded.json).to.include({ status: "funded", held: (30n * USD).toString() });
    expect(await token.balanceOf(await escrow.getAddress())).to.equal(30n * USD);
    const status = ok(await env.run(["escrow", "status", file, "--json"], { key: null }));
    expect(status.json.possible).to.deep.equal(["confirm (verifier, or its signed receipt)"]);
    const receipt = path.join(env.dir, "receipt.json");
    ok(await env.run(["escrow", "sign-receipt", file, "--out", receipt], { key: verifier.privateKey }));
    const confirmed = ok(await env.run(["escrow", "confirm", file, "--receipt", receipt, "--yes", "--json"], { key: KEYS.issuer }));
    expect(confirmed.json).to.include({ id, status: "settled", held: "0", refundable: (30n * USD).toString() });
    const balances = await Promise.all(creators.map((c) => token.balanceOf(c.address)));
    expect(balances).to.deep.equal([10_002_000n, 9_999_000n, 9_999_000n]); // 33.34% / 33.33% / 33.33% of $30

    // status shows the payees, the fee terms and the history, with each payout as the chain recorded it.
    const after = ok(await env.run(["escrow", "status", file, "--json"], { key: null }));
    const history = after.json.history as { name: string; by?: string; amount?: string; fee?: string; transfers?: { to: string; amount: string }[] }[];
    expect(history.map((h) => h.name)).to.deep.equal(["PaymentFunded", "PaymentReleased"]);
    expect(history[0]).to.include({ by: ADDRESSES.agent, amount: (30n * USD).toString() });
    expect(history[1]).to.include({ amount: (30n * USD).toString(), fee: "0" });
    expect(history[1].transfers).to.have.deep.members([
      { to: creators[0].address, amount: "10002000" },
      { to: creators[1].address, amount: "9999000" },
      { to: creators[2].address, amount: "9999000" },
    ]);
    const human = ok(await env.run(["escrow", "status", file], { key: null })).stdout;
    expect(human).to.include(`payees:\n  ${creators[0].address}  33.34%\n  ${creators[1].address}  33.33%\n  ${creators[2].address}  33.33%\n`);
    expect(human).to.match(/released 30\.00 NETD \(fee 0\.00 NETD\) by 0x[0-9a-fA-F]{40} {2}\(tx 0x[0-9a-f]{64}\)\n {6}paid /);
    expect(human).to.include(`      paid 10.002 NETD to ${creators[0].address}`);
    expect(human).to.match(/fee\s+none/);
  });

  it("a funding signature relayed by someone else, then confirm by the verifier itself", async function () {
    const { file } = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address]);
    const funding = path.join(env.dir, "funding.json");
    ok(await env.run(["escrow", "sign-funding", file, "--out", funding], { key: KEYS.agent }));
    const before = await token.balanceOf(ADDRESSES.agent);
    ok(await env.run(["escrow", "fund", file, "--authorization", funding, "--yes"], { key: KEYS.issuer }));
    expect(await token.balanceOf(ADDRESSES.agent)).to.equal(before - 30n * USD);
    ok(await env.run(["escrow", "confirm", file, "--yes"], { key: verifier.privateKey }));
  });

  it("fund --authorization and confirm --receipt read their document through its schema: missing, garbled, wrong kind or another payment's is exit 2, nothing sent", async function () {
    const { file, id } = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address]);
    const other = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address]);
    const funding = path.join(env.dir, "funding-other.json");
    ok(await env.run(["escrow", "sign-funding", other.file, "--out", funding], { key: KEYS.agent }));
    const garbled = path.join(env.dir, "garbled.json");
    writeFileSync(garbled, "{ not json");
    const unsigned = path.join(env.dir, "unsigned.json");
    writeFileSync(unsigned, JSON.stringify({ type: "netd/escrow-funding", version: 1, id }));
    const before = await token.balanceOf(ADDRESSES.agent);
    for (const [args, message] of [
      [["fund", file, "--authorization", path.join(env.dir, "missing.json")], /--authorization .*missing\.json: no such file/],
      [["fund", file, "--authorization", garbled], /garbled\.json is not JSON/],
      [["fund", file, "--authorization", unsigned], /unsigned\.json is not a signed escrow document: signature: Required/],
      [["fund", file, "--authorization", funding], new RegExp(`funding-other\\.json is for payment ${other.id}, not ${id}`)],
      [["confirm", file, "--receipt", funding], /funding-other\.json is a netd\/escrow-funding, not a netd\/escrow-receipt/],
    ] as [string[], RegExp][]) {
      const run = await env.run(["escrow", ...args, "--yes"], { key: KEYS.issuer });
      expect(run.code, `${args.join(" ")}\n${run.stderr}`).to.equal(2);
      expect(run.stderr).to.match(message);
      expect(run.stderr).to.not.include("internal error");
    }
    expect(await token.balanceOf(ADDRESSES.agent)).to.equal(before);
  });

  it("fund --approve, capture part with a fee, void the rest (operator)", async function () {
    const { file } = await create([
      `--payee=${creators[1].address}`,
      "--operator",
      operator.address,
      "--fee-bps",
      "100:300",
      "--fee-receiver",
      ADDRESSES.merchant,
    ]);
    ok(await env.run(["escrow", "fund", file, "--approve", "--yes"], { key: KEYS.agent }));
    const captured = ok(await env.run(["escrow", "capture", file, "10", "--fee-bps", "300", "--yes", "--json"], { key: operator.privateKey }));
    expect(captured.json).to.include({ held: (20n * USD).toString(), refundable: (10n * USD).toString() });
    const refused = await env.run(["escrow", "capture", file, "5", "--fee-bps", "301", "--yes"], { key: operator.privateKey });
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/a fee of 301 bps is outside the payment's bounds 100-300 bps/);
    const agentBefore = await token.balanceOf(ADDRESSES.agent);
    ok(await env.run(["escrow", "void", file, "--yes"], { key: operator.privateKey }));
    expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore + 20n * USD);
  });

  it("dispute (payee) and rule (arbiter) split what is held", async function () {
    const { file } = await create([`--payee=${creators[2].address}`, "--arbiter", arbiter.address]);
    ok(await env.run(["escrow", "fund", file, "--yes"], { key: KEYS.agent }));
    ok(await env.run(["escrow", "dispute", file, "--yes"], { key: creators[2].privateKey }));
    const agentBefore = await token.balanceOf(ADDRESSES.agent);
    const creatorBefore = await token.balanceOf(creators[2].address);
    ok(await env.run(["escrow", "rule", file, "40%", "--yes"], { key: arbiter.privateKey }));
    expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore + 12n * USD);
    expect(await token.balanceOf(creators[2].address)).to.equal(creatorBefore + 18n * USD);
  });

  it("after the deadlines, reclaim (default refund) and release (default release); then a payee refunds", async function () {
    const refund = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address, "--confirm-within", "60", "--dispute-window", "60"]);
    const release = await create([`--payee=${creators[0].address}`, "--default", "release", "--confirm-within", "60", "--dispute-window", "60"]);
    ok(await env.run(["escrow", "fund", refund.file, "--yes"], { key: KEYS.agent }));
    ok(await env.run(["escrow", "fund", release.file, "--yes"], { key: KEYS.agent }));
    const early = await env.run(["escrow", "reclaim", refund.file, "--yes"], { key: KEYS.issuer });
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/this is possible only after/);
    await increaseTime(3600 + 121);
    const agentBefore = await token.balanceOf(ADDRESSES.agent);
    ok(await env.run(["escrow", "reclaim", refund.file, "--yes"], { key: KEYS.issuer }));
    expect(await token.balanceOf(ADDRESSES.agent)).to.equal(agentBefore + 30n * USD);
    const creatorBefore = await token.balanceOf(creators[0].address);
    ok(await env.run(["escrow", "release", release.file, "--yes"], { key: KEYS.issuer }));
    expect(await token.balanceOf(creators[0].address)).to.equal(creatorBefore + 30n * USD);
    const refunded = ok(await env.run(["escrow", "refund", release.file, "7.5", "--yes", "--json"], { key: creators[0].privateKey }));
    expect(refunded.json.refundable).to.equal((225n * USD) / 10n + "");
  });

  it("a blocklisted payee's share is credited; it withdraws once unblocked", async function () {
    const { file } = await create([`--payee=${creators[1].address}`, `--payee=${creators[2].address}`, "--verifier", verifier.address]);
    ok(await env.run(["escrow", "fund", file, "--yes"], { key: KEYS.agent }));
    ok(await env.run(["blocklist", "add", creators[1].address, "--yes"]));
    ok(await env.run(["escrow", "confirm", file, "--yes"], { key: verifier.privateKey }));
    expect(await escrow.claimable(await token.getAddress(), creators[1].address)).to.equal(15n * USD);
    const blocked = await env.run(["escrow", "withdraw", "--yes"], { key: creators[1].privateKey });
    expect(blocked.code).to.equal(1);
    expect(blocked.stderr).to.match(/is blocklisted/);
    ok(await env.run(["blocklist", "remove", creators[1].address, "--yes"]));
    const before = await token.balanceOf(creators[1].address);
    ok(await env.run(["escrow", "withdraw", "--yes"], { key: creators[1].privateKey }));
    expect(await token.balanceOf(creators[1].address)).to.equal(before + 15n * USD);
  });

  describe("bad input: exit code 2 and nothing sent", function () {
    it("a payment file whose terms were edited (id mismatch)", async function () {
      const { file } = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address]);
      const doc = JSON.parse(readFileSync(file, "utf8"));
      doc.payment.payees[0].account = ADDRESSES.auditor;
      writeFileSync(file, JSON.stringify(doc));
      const run = await env.run(["escrow", "fund", file, "--yes"], { key: KEYS.agent });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/does not match its terms .*was it edited\?/);
    });

    it("a payment file naming another escrow than the deployment's", async function () {
      const { file } = await create([`--payee=${creators[0].address}`, "--verifier", verifier.address]);
      const doc = JSON.parse(readFileSync(file, "utf8"));
      // A consistent document (its id recomputed) that points the payer's money at another address.
      const { payment } = fromPaymentDocument(doc);
      doc.escrow = ADDRESSES.auditor;
      doc.id = paymentId(payment, ADDRESSES.auditor, 31337n);
      writeFileSync(file, JSON.stringify(doc));
      const run = await env.run(["escrow", "fund", file, "--yes"], { key: KEYS.agent });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/names escrow 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955, not this deployment's/);
    });

    for (const [what, args, pattern] of [
      ["shares that do not sum to 10,000", [`--payee=${creators[0].address}:5000`], /payee shares sum to 5000 basis points, not 10,000/],
      ["a malformed duration", [`--payee=${creators[0].address}`, "--fund-within", "soon"], /--fund-within "soon" is not a duration/],
      ["an unknown default outcome", [`--payee=${creators[0].address}`, "--default", "split"], /--default "split" is neither refund nor release/],
      ["a fee without a receiver", [`--payee=${creators[0].address}`, "--fee-bps", "100"], /a fee is possible but no fee receiver is named/],
      ["a bad payee", ["--payee=0x1234"], /payee "0x1234" is not an address/],
    ] as [string, string[], RegExp][]) {
      it(what, async function () {
        const run = await env.run(["escrow", "create", "--amount", "30", ...args], { key: KEYS.agent });
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr.split("\n")[0]).to.match(pattern);
      });
    }

    it("a ruling percentage above 100", async function () {
      const { file } = await create([`--payee=${creators[0].address}`, "--arbiter", arbiter.address]);
      const run = await env.run(["escrow", "rule", file, "140%", "--yes"], { key: arbiter.privateKey });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/payer share "140%" is not a percentage between 0 and 100/);
    });
  });
});
