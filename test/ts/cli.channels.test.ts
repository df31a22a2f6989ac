import { mkdtempSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Wallet, type JsonRpcProvider } from "ethers";
import { devnetWallet } from "../../src/devnet";
import type { NetDollar } from "../../typechain-types";
import { ok, deployWithAgentFunds, ADDRESSES, KEYS, startCliEnvironment, startCliServer, type CliEnvironment, type CliServer } from "../helpers/cli";

/**
 * Micropayments from the terminal against a Hardhat node: `netd x402 serve-demo --scheme batch-settlement` (embedded
 * channel store, claims on an interval), `netd pay --scheme batch-settlement --count --parallel` over one channel, and
 * the payer's `netd channel status|refund|withdraw|finalize`.
 */
describe("netd pay --scheme batch-settlement and netd channel, end to end", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let provider: JsonRpcProvider;
  let token: NetDollar;
  let api: CliServer;
  let state: string;

  before(async function () {
    env = await startCliEnvironment();
    ({ provider, token } = await deployWithAgentFunds(env));
    ok(await env.run(["mint", ADDRESSES.creator1, "10", "--yes"], { key: KEYS.minter }));
    const database = path.join(env.dir, "db");
    api = await startCliServer(
      ["x402", "serve-demo", "--port", "0", "--scheme", "batch-settlement", "--database", database, "--claim-interval", "2s"],
      { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: KEYS.merchant },
      env.dir,
    );
    state = mkdtempSync(path.join(env.dir, "channels-"));
  });

  after(async function () {
    await api?.stop();
    provider?.destroy();
    await env?.node.stop();
  });

  it("serve-demo says where its channel store is and how it claims", async function () {
    expect(api.output()).to.match(/schemes\s+batch-settlement, exact/);
    expect(api.output()).to.match(/channel store\s+pglite .*db/);
    expect(api.output()).to.match(/claims\s+every 2s, and at once on a withdrawal/);
  });

  it("pays 30 calls (5 in flight) over one channel with one deposit; the server claims them on its own", async function () {
    const [agentBefore, merchantBefore] = await Promise.all([token.balanceOf(ADDRESSES.agent), token.balanceOf(ADDRESSES.merchant)]);
    const run = ok(
      await env.run(
        [
          "pay",
          `${api.url}/tick`,
          "--scheme",
          "batch-settlement",
          "--deposit",
          "0.02",
          "--max",
          "0.01",
          "--count",
          "30",
          "--parallel",
          "5",
          "--state",
          state,
          "--json",
        ],
        { key: KEYS.agent },
      ),
    );
    expect(run.json).to.deep.include({ ok: true, count: 30, served: 30, paid: "3000", deposited: "20000", payments: 30 });
    expect(agentBefore - (await token.balanceOf(ADDRESSES.agent))).to.equal(20_000n);
    const one = ok(await env.run(["pay", `${api.url}/tick`, "--scheme", "batch-settlement", "--max", "0.01", "--state", state], { key: KEYS.agent }));
    expect(one.stderr).to.match(/paid\s+0\.0001 NETD to 0x90F79bf6EB2c4f870365E785982E1f101E93b906 by voucher \(ceiling 0\.0031 NETD\)/);
    expect(one.stderr).to.match(/transaction\s+\(none: claimed later, with others\)/);
    const deadline = Date.now() + 30_000;
    while ((await token.balanceOf(ADDRESSES.merchant)) - merchantBefore < 3_100n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect((await token.balanceOf(ADDRESSES.merchant)) - merchantBefore).to.equal(3_100n);
    expect(api.output()).to.match(/claimed 0\.00\d+ NETD from 1 channel \(0x[0-9a-f]{64}\)/);
  });

  it("channel status shows the channel as the chain and the server see it", async function () {
    const run = ok(await env.run(["channel", "status", "--state", state, "--json"], { key: KEYS.agent }));
    const [ch] = run.json.channels as Record<string, unknown>[];
    expect(ch).to.deep.include({
      receiver: ADDRESSES.merchant,
      balance: "20000",
      totalClaimed: "3100",
      charged: "3100",
      signed: "3100",
      withdrawRequestedAt: 0,
    });
  });

  it("channel refund takes back what is unspent, through the server", async function () {
    const before = await token.balanceOf(ADDRESSES.agent);
    const run = ok(await env.run(["channel", "refund", `${api.url}/tick`, "--state", state, "--json"], { key: KEYS.agent }));
    expect(run.json).to.deep.include({ refunded: "16900" });
    expect((await token.balanceOf(ADDRESSES.agent)) - before).to.equal(16_900n);
    const [ch] = ok(await env.run(["channel", "status", "--state", state, "--json"], { key: KEYS.agent })).json.channels as Record<string, unknown>[];
    expect(ch).to.deep.include({ balance: "3100", totalClaimed: "3100" });
    const again = await env.run(["channel", "withdraw", String(ch.channelId), "--state", state, "--yes"], { key: KEYS.agent });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include("holds nothing unclaimed to withdraw");
  });

  it("serve-a2a and serve-mcp take channels too: x402 buy pays two reports by voucher, x402 call three forecasts; each server claims them", async function () {
    // Payers of their own (no gas needed: their deposits are ERC-3009 authorizations the facilitator relays), and
    // servers relaying with a key of their own (serve-demo above keeps relaying with the merchant's), paying the merchant.
    const [payer, agent2] = [Wallet.createRandom(), Wallet.createRandom()];
    for (const p of [payer, agent2]) await (await token.connect(new Wallet(KEYS.agent, provider)).transfer(p.address, 1_000_000n)).wait();
    const relaying = { NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: devnetWallet(9).privateKey };
    const merchantBefore = await token.balanceOf(ADDRESSES.merchant);
    const shop = await startCliServer(
      [
        "x402",
        "serve-a2a",
        "--port",
        "0",
        "--price",
        "0.001",
        "--scheme",
        "batch-settlement",
        "--database",
        path.join(env.dir, "db-a2a"),
        "--claim-interval",
        "2s",
        "--pay-to",
        ADDRESSES.merchant,
      ],
      relaying,
      env.dir,
    );
    try {
      expect(shop.output()).to.match(/schemes\s+batch-settlement, exact/);
      const wallet = mkdtempSync(path.join(env.dir, "channels-a2a-"));
      for (const topic of ["stablecoins", "payments"]) {
        const args = ["x402", "buy", shop.url, topic, "--max", "0.01", "--scheme", "batch-settlement", "--deposit", "0.02", "--state", wallet, "--json"];
        const bought = ok(await env.run(args, { key: payer.privateKey }));
        expect(bought.json).to.deep.include({
          result: `Market report on ${topic}: volumes up 12% this quarter, fees down 3%.`,
          paymentStatus: "payment-completed",
        });
        expect((bought.json as { payment: { scheme: string; status: string } }).payment).to.deep.include({ scheme: "batch-settlement", status: "settled" });
      }
      const deadline = Date.now() + 30_000;
      while ((await token.balanceOf(ADDRESSES.merchant)) - merchantBefore < 2_000n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect((await token.balanceOf(ADDRESSES.merchant)) - merchantBefore).to.equal(2_000n);
    } finally {
      await shop.stop();
    }

    const tools = await startCliServer(
      [
        "x402",
        "serve-mcp",
        "--port",
        "0",
        "--scheme",
        "batch-settlement",
        "--database",
        path.join(env.dir, "db-mcp"),
        "--claim-interval",
        "1h",
        "--pay-to",
        ADDRESSES.merchant,
      ],
      relaying,
      env.dir,
    );
    const middle = await token.balanceOf(ADDRESSES.merchant);
    try {
      // netd x402 call: two forecasts in one run (a deposit, then a voucher), a third in another run (the channel's
      // state kept in --state), all one channel and nothing on chain until the server claims.
      const wallet = mkdtempSync(path.join(env.dir, "channels-mcp-"));
      const paying = ["--scheme", "batch-settlement", "--deposit", "0.2", "--max", "0.01", "--state", wallet];
      const two = ok(
        await env.run(["x402", "call", tools.url, "forecast", "--arg", "city=Lisbon", "--count", "2", ...paying, "--json"], { key: agent2.privateKey }),
      );
      expect(two.json).to.deep.include({ count: 2, answered: 2, paid: "20000", deposited: "200000", payments: 2 });
      const third = ok(await env.run(["x402", "call", tools.url, "forecast", "--arg", "city=Faro", ...paying, "--json"], { key: agent2.privateKey }));
      expect(third.json.result).to.deep.include({ content: [{ type: "text", text: "Tomorrow in Faro: sunny, 21°C." }] });
      expect(third.json.payment).to.deep.include({ scheme: "batch-settlement", status: "settled", amount: "10000", ceiling: "30000" });
      expect(third.json.payment).to.not.have.property("deposit");
      expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(middle);
    } finally {
      await tools.stop(); // Ctrl-C: the last claim
    }
    expect((await token.balanceOf(ADDRESSES.merchant)) - middle).to.equal(30_000n);
    expect(tools.output()).to.match(/claimed 0\.03 NETD from 1 channel/);
  });

  it("channel withdraw and finalize, without the server: it claims what it charged during the delay, the rest comes back", async function () {
    const own = mkdtempSync(path.join(env.dir, "channels-"));
    ok(
      await env.run(["pay", `${api.url}/tick`, "--scheme", "batch-settlement", "--deposit", "0.01", "--max", "0.01", "--count", "3", "--state", own], {
        key: KEYS.creator1,
      }),
    );
    const [ch] = ok(await env.run(["channel", "status", "--state", own, "--json"], { key: KEYS.creator1 })).json.channels as Record<string, unknown>[];
    const id = String(ch.channelId);
    const started = ok(await env.run(["channel", "withdraw", id, "--state", own, "--yes", "--json"], { key: KEYS.creator1 }));
    expect(started.json).to.deep.include({ channelId: id });
    const early = await env.run(["channel", "finalize", id, "--state", own, "--yes"], { key: KEYS.creator1 });
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/can be finalized from 20\d\d-/);
    // The server notices the withdrawal and claims its 3 calls.
    const deadline = Date.now() + 30_000;
    while (!/started a withdrawal/.test(api.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    while (Date.now() < deadline) {
      const [now] = ok(await env.run(["channel", "status", "--state", own, "--json"], { key: KEYS.creator1 })).json.channels as Record<string, unknown>[];
      if (now.totalClaimed === "300") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await provider.send("evm_increaseTime", [901]);
    await provider.send("evm_mine", []);
    const before = await token.balanceOf(ADDRESSES.creator1);
    const done = ok(await env.run(["channel", "finalize", id, "--state", own, "--yes", "--json"], { key: KEYS.creator1 }));
    expect(done.json).to.deep.include({ returned: "9700" });
    expect((await token.balanceOf(ADDRESSES.creator1)) - before).to.equal(9_700n);
  });

  it("refuses bad input with exit 2 and nothing paid; a busy port is an error, not a second server", async function () {
    for (const [args, message] of [
      [["pay", `${api.url}/tick`, "--scheme", "channels"], /--scheme "channels" is not exact or batch-settlement/],
      [["pay", `${api.url}/tick`, "--deposit", "0.02"], /--deposit is for --scheme batch-settlement/],
      [["pay", `${api.url}/tick`, "--scheme", "batch-settlement", "--deposit", "0"], /--deposit must be more than zero/],
      [["pay", `${api.url}/tick`, "--count", "0"], /--count "0" is not a whole number from 1/],
      [["channel", "withdraw", "0x1234"], /"0x1234" is not a channel id/],
      [["channel", "finalize", `0x${"ab".repeat(32)}`, "--state", state], /no channel 0xabab/],
    ] as [string[], RegExp][]) {
      const run = await env.run(args, { key: KEYS.agent });
      expect(run.code, `${args.join(" ")}\n${run.stderr}`).to.equal(2);
      expect(run.stderr).to.match(message);
    }
    const port = new URL(api.url).port;
    const busy = await env.run(["x402", "serve-demo", "--port", port, "--scheme", "batch-settlement", "--database", path.join(env.dir, "db2")], {
      key: KEYS.merchant,
    });
    expect(busy.code).to.equal(1);
    expect(busy.stderr).to.include(`port ${port} on 127.0.0.1 is in use`);
    expect(busy.stdout).to.not.include("listening");
  });
});
