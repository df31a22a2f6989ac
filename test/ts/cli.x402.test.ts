import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { JsonRpcProvider } from "ethers";
import type { NetDollar } from "../../typechain-types";
import { devnetWallet } from "../../src/devnet";
import { generateMandateKey, openPaymentMandate, signMandate } from "../../src/ap2";
import { ok, deployWithAgentFunds, ADDRESSES, KEYS, startCliEnvironment, startCliServer, type CliEnvironment, type CliServer } from "../helpers/cli";

const RELAYER_KEY = devnetWallet(10).privateKey;

describe("netd x402 and netd pay, end to end against a Hardhat node", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let provider: JsonRpcProvider;
  let token: NetDollar;
  const servers: CliServer[] = [];
  let facilitator: CliServer;
  let api: CliServer;

  const serverEnv = (key: string) => ({ NETD_RPC_URL: env.node.url, NETD_DEPLOYMENT: env.deployment, NETD_PRIVATE_KEY: key });
  const balances = () => Promise.all([token.balanceOf(ADDRESSES.agent), token.balanceOf(ADDRESSES.merchant)]);

  before(async function () {
    env = await startCliEnvironment();
    ({ provider, token } = await deployWithAgentFunds(env));
    facilitator = await startCliServer(["x402", "facilitator", "--port", "0"], serverEnv(RELAYER_KEY), env.dir);
    servers.push(facilitator);
    api = await startCliServer(["x402", "serve-demo", "--port", "0", "--facilitator-url", facilitator.url], serverEnv(KEYS.merchant), env.dir);
    servers.push(api);
  });

  after(async function () {
    for (const s of servers) await s.stop();
    provider?.destroy();
    await env?.node.stop();
  });

  it("x402 facilitator prints its network, relayer and asset, and answers /supported", async function () {
    expect(facilitator.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(facilitator.output())
      .to.include("eip155:31337")
      .and.include(devnetWallet(10).address)
      .and.include(await token.getAddress());
    const supported = (await (await fetch(`${facilitator.url}/supported`)).json()) as { kinds: unknown[]; signers: Record<string, string[]> };
    expect(supported.kinds).to.deep.equal([
      { x402Version: 2, scheme: "exact", network: "eip155:31337" },
      { x402Version: 2, scheme: "batch-settlement", network: "eip155:31337" },
    ]);
    expect(supported.signers["eip155:*"]).to.deep.equal([devnetWallet(10).address]);
  });

  it("x402 serve-demo lists its prices for free at /", async function () {
    const index = (await (await fetch(`${api.url}/`)).json()) as { payTo: string; routes: { route: string; price: string }[] };
    expect(index.payTo).to.equal(ADDRESSES.merchant);
    expect(index.routes.map((r: { route: string; price: string }) => `${r.route} ${r.price}`)).to.deep.equal([
      "GET /tick $0.0001",
      "GET /joke $0.001",
      "GET /weather $0.01",
      "POST /summarize $0.05",
    ]);
  });

  it("pay prints the response and the receipt, and moves exactly the price", async function () {
    const before = await balances();
    const run = ok(await env.run(["pay", `${api.url}/joke`, "--max", "0.01"], { key: KEYS.agent }));
    expect(JSON.parse(run.stdout)).to.have.property("joke");
    expect(run.stderr)
      .to.match(/HTTP 200/)
      .and.match(/paid\s+0\.001 NETD to 0x90F79bf6EB2c4f870365E785982E1f101E93b906/)
      .and.match(/status\s+settled/);
    const tx = /transaction\s+(0x[0-9a-f]{64})/.exec(run.stderr)![1];
    expect((await provider.getTransactionReceipt(tx))!.status).to.equal(1);
    expect(await balances()).to.deep.equal([before[0] - 1_000n, before[1] + 1_000n]);
  });

  it("pay refused (the token is paused): the reason in plain words, no JSON dump, exit 1, nothing moved", async function () {
    ok(await env.run(["pause", "--yes"], { key: KEYS.issuer }));
    try {
      const before = await balances();
      const run = await env.run(["pay", `${api.url}/joke`, "--max", "0.01"], { key: KEYS.agent });
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal("");
      expect(run.stderr.split("\n")[0]).to.match(/^the server refused the payment: invalid_exact_evm_\w+: .*paused/i);
      expect(run.stderr).to.match(/status\s+refused/);
      expect(await balances()).to.deep.equal(before);
    } finally {
      ok(await env.run(["unpause", "--yes"], { key: KEYS.issuer }));
    }
  });

  it("pay --json with a POST body: the parsed body and the payment record", async function () {
    const run = ok(
      await env.run(["pay", `${api.url}/summarize`, "--method", "POST", "--data", '{"text":"agents pay per call in NET Dollar"}', "--json"], {
        key: KEYS.agent,
      }),
    );
    expect(run.json).to.deep.include({ ok: true, httpStatus: 200, body: { summary: "agents pay per call in" } });
    expect(run.json.payment).to.deep.include({ amount: "50000", status: "settled", payer: ADDRESSES.agent, payTo: ADDRESSES.merchant });
  });

  it("pay refuses a price above --max without signing anything (exit 2)", async function () {
    const before = await balances();
    const run = await env.run(["pay", `${api.url}/weather`, "--max", "0.005"], { key: KEYS.agent });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("the price 0.01 is above the maximum per payment 0.005").and.include("nothing was signed or paid");
    expect(await balances()).to.deep.equal(before);
  });

  it("serve-demo with its facilitator in process settles with the configured key", async function () {
    const inProcess = await startCliServer(["x402", "serve-demo", "--port", "0", "--mode", "verify-then-settle"], serverEnv(KEYS.merchant), env.dir);
    servers.push(inProcess);
    expect(inProcess.output()).to.include("in process");
    const before = await balances();
    ok(await env.run(["pay", `${inProcess.url}/weather`], { key: KEYS.agent }));
    expect(await balances()).to.deep.equal([before[0] - 10_000n, before[1] + 10_000n]);
  });

  it("a free resource is fetched without paying; an unreachable one fails with exit 1", async function () {
    const free = ok(await env.run(["pay", `${api.url}/`], { key: KEYS.agent }));
    expect(free.stderr).to.include("nothing (the resource did not ask for payment)");
    const down = await env.run(["pay", "http://127.0.0.1:1/joke"], { key: KEYS.agent });
    expect(down.code).to.equal(1);
    expect(down.stderr).to.match(/could not fetch http:\/\/127\.0\.0\.1:1\/joke/);
  });

  it("rejects bad input with exit 2 and says what was wrong", async function () {
    const cases: [string[], RegExp][] = [
      [["pay", "not a url"], /"not a url" is not a URL/],
      [["pay", "ftp://127.0.0.1/x"], /is not an http\(s\) URL/],
      [["pay", `${api.url}/joke`, "--max", "1.0000001"], /--max/],
      [["x402", "facilitator", "--port", "http"], /--port "http" is not a TCP port/],
      [["x402", "serve-demo", "--mode", "later"], /--mode "later" is not settle-before-serve or verify-then-settle/],
      [["x402", "serve-demo", "--facilitator-url", "nowhere"], /--facilitator-url "nowhere" is not a URL/],
      [["x402", "serve-demo", "--pay-to", "0x123"], /--pay-to/],
    ];
    for (const [args, message] of cases) {
      const run = await env.run(args, { key: KEYS.agent });
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.stderr, args.join(" ")).to.match(message);
    }
  });

  it("every x402 command has --help with an example", async function () {
    for (const args of [["x402", "facilitator"], ["x402", "serve-demo"], ["pay"], ["x402", "tools"], ["x402", "call"], ["mandate", "create-checkout"]]) {
      const run = ok(await env.run([...args, "--help"], { key: null }));
      expect(run.stdout).to.include("Example");
    }
  });
  it("mandate key, create, sign, verify; pay --mandate and x402 buy (A2A) until the budget is spent, refused before signing; the ledger verifies on chain", async function () {
    const file = (name: string) => path.join(env.dir, name);
    ok(await env.run(["mandate", "key", "--out", file("me.jwk"), "--public-out", file("me.pub.jwk")], { key: null }));
    const agentKey = ok(await env.run(["mandate", "key", "--out", file("agent.jwk"), "--public-out", file("agent.pub.jwk"), "--json"], { key: null }));
    expect(statSync(file("agent.jwk")).mode & 0o777).to.equal(0o600);
    const again = await env.run(["mandate", "key", "--out", file("me.jwk")], { key: null });
    expect([again.code, again.stderr]).to.deep.equal([2, `error: the key file ${file("me.jwk")} already exists; nothing was written\n`]);
    const refused = await env.run(["mandate", "create", "--agent", file("agent.pub.jwk"), "--max", "0.001"], { key: null });
    expect([refused.code, refused.stderr]).to.deep.equal([
      2,
      "error: the maximum per payment 0.001 NETD is not a whole number of cents (AP2 amounts are in minor units)\n",
    ]);
    const created = ok(
      await env.run(
        [
          "mandate",
          "create",
          "--agent",
          file("agent.pub.jwk"),
          "--max",
          "0.05",
          "--budget",
          "0.02",
          "--payee",
          `${ADDRESSES.merchant}=demo`,
          "--days",
          "7",
          "--out",
          file("m.json"),
          "--json",
        ],
        { key: null },
      ),
    );
    expect((created.json.document as { cnf: unknown }).cnf).to.deep.equal({ jwk: agentKey.json.publicJwk });
    ok(await env.run(["mandate", "sign", file("m.json"), "--key", file("me.jwk"), "--out", file("m.sdjwt")], { key: null }));
    const verified = ok(await env.run(["mandate", "verify", file("m.sdjwt"), "--issuer", file("me.pub.jwk"), "--json"], { key: null }));
    expect(verified.json).to.include({ valid: true, vct: "mandate.payment.open.1", trustedIssuer: true });
    const wrongIssuer = await env.run(["mandate", "verify", file("m.sdjwt"), "--issuer", file("agent.pub.jwk")], { key: null });
    expect(wrongIssuer.code).to.equal(2);
    expect(wrongIssuer.stderr).to.include("which is not a trusted issuer");

    const pay = (extra: string[] = []) =>
      env.run(["pay", `${api.url}/weather`, "--mandate", file("m.sdjwt"), "--agent-key", file("agent.jwk"), ...extra], { key: KEYS.agent });
    const [agentBefore] = await balances();
    expect(ok(await pay()).stderr).to.match(/mandate +nonce 0x[0-9a-f]{64} is its chain's hash; spent \$0\.01 under it \(1 payment\(s\)\)/);
    ok(await pay());
    const over = await pay();
    expect([over.code, over.stderr]).to.deep.equal([
      2,
      `error: not paying ${api.url}/weather under the mandate: $0.01 would exceed the mandate's budget: $0.02 of $0.02 already spent\n  nothing was signed or paid\n`,
    ]);
    expect((await balances())[0]).to.equal(agentBefore - 20_000n);
    const audit = ok(await env.run(["mandate", "verify", file("m.ledger.json"), "--issuer", file("me.pub.jwk"), "--json"], { key: null }));
    expect(audit.json).to.include({ paidAsMandated: true });
    expect((audit.json.payments as { problems: string[] }[]).map((p) => p.problems)).to.deep.equal([[], []]);
    // Over A2A: a merchant agent (serve-a2a) sells a report; buying it under the same, spent, mandate is refused
    // before signing; under a new one it is paid, and the ledger verifies on chain.
    const shop = await startCliServer(["x402", "serve-a2a", "--port", "0", "--require-mandate"], serverEnv(KEYS.merchant), env.dir);
    servers.push(shop);
    const buy = (mandateFile: string) =>
      env.run(["x402", "buy", shop.url, "stablecoins", "--mandate", file(mandateFile), "--agent-key", file("agent.jwk"), "--json"], { key: KEYS.agent });
    const spent = await buy("m.sdjwt");
    expect(spent.code).to.equal(2);
    expect(spent.stderr).to.include("would exceed the mandate's budget: $0.02 of $0.02 already spent");
    // Without a mandate: the terms say one is required, so nothing is signed.
    const plainBuy = await env.run(["x402", "buy", shop.url, "stablecoins"], { key: KEYS.agent });
    expect([plainBuy.code, plainBuy.stderr]).to.deep.equal([
      2,
      `error: not paying ${new URL(shop.url).host}: it takes only payments under an AP2 mandate (its terms' extensions["ap2-mandate"]), and this client pays under none\n  nothing was signed or paid\n`,
    ]);
    const channels = await env.run(["x402", "serve-a2a", "--port", "0", "--require-mandate", "--scheme", "batch-settlement"], { key: KEYS.merchant });
    expect([channels.code, channels.stderr]).to.deep.equal([
      2,
      "error: --require-mandate sells by exact payments only (a mandate closes one payment): leave out --scheme batch-settlement\n",
    ]);
    ok(await env.run(["mandate", "sign", file("m.json"), "--key", file("me.jwk"), "--out", file("m2.sdjwt")], { key: null }));
    const bought = ok(await buy("m2.sdjwt"));
    expect(bought.json).to.include({ result: "Market report on stablecoins: volumes up 12% this quarter, fees down 3%.", paymentStatus: "payment-completed" });
    expect(bought.json.payment).to.include({ status: "settled", amount: "10000", payTo: ADDRESSES.merchant });
    expect(ok(await env.run(["mandate", "verify", file("m2.ledger.json"), "--json"], { key: null })).json).to.include({ paidAsMandated: true });

    const noKey = await env.run(["pay", `${api.url}/weather`, "--mandate", file("m.sdjwt")], { key: KEYS.agent });
    expect([noKey.code, noKey.stderr]).to.deep.equal([2, "error: --mandate needs --agent-key (the agent's key it names)\n"]);
  });

  it("mandate create-checkout; serve-a2a --checkout-key sells by checkout; x402 buy --checkout-mandate buys, without it is refused before signing", async function () {
    const file = (name: string) => path.join(env.dir, `co-${name}`);
    const [me, agent, shopKey] = [generateMandateKey(), generateMandateKey(), generateMandateKey()];
    writeFileSync(file("agent.pub.jwk"), JSON.stringify(agent.publicJwk));
    writeFileSync(file("agent.jwk"), JSON.stringify(agent.privateJwk));
    writeFileSync(file("shop.jwk"), JSON.stringify(shopKey.privateJwk));
    writeFileSync(file("me.jwk"), JSON.stringify(me.privateJwk));
    writeFileSync(file("m.sdjwt"), await signMandate(openPaymentMandate({ agentKey: agent.publicJwk, maxAmount: 50_000n, budget: 50_000n }), me.privateJwk));
    const create = (extra: string[]) =>
      env.run(["mandate", "create-checkout", "--agent", file("agent.pub.jwk"), "--merchant", `${ADDRESSES.merchant}=reports`, "--days", "7", ...extra], {
        key: null,
      });
    const bad = await create(["--item", "report"]);
    expect([bad.code, bad.stderr]).to.deep.equal([2, `error: --item "report" is not id=title\n  e.g. --item report="a market report"\n`]);
    const created = ok(await create(["--item", "report=a market report", "--out", file("c.json"), "--json"]));
    expect(created.json.document).to.deep.include({ vct: "mandate.checkout.open.1", cnf: { jwk: agent.publicJwk } });
    ok(await env.run(["mandate", "sign", file("c.json"), "--key", file("me.jwk"), "--out", file("c.sdjwt")], { key: null }));

    const shop = await startCliServer(["x402", "serve-a2a", "--port", "0", "--checkout-key", file("shop.jwk")], serverEnv(KEYS.merchant), env.dir);
    servers.push(shop);
    expect(shop.output()).to.match(/mandates +required: by checkout/);
    const [agentBefore, merchantBefore] = await balances();
    const buy = (extra: string[]) =>
      env.run(["x402", "buy", shop.url, "stablecoins", "--mandate", file("m.sdjwt"), "--agent-key", file("agent.jwk"), ...extra], { key: KEYS.agent });
    const refused = await buy([]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.include("the merchant sells by checkout, and this agent holds no open checkout mandate to close for it");
    expect(refused.stderr).to.include("nothing was signed or paid");
    const bought = ok(await buy(["--checkout-mandate", file("c.sdjwt"), "--json"]));
    expect(bought.json).to.include({ result: "Market report on stablecoins: volumes up 12% this quarter, fees down 3%.", paymentStatus: "payment-completed" });
    expect(await balances()).to.deep.equal([agentBefore - 10_000n, merchantBefore + 10_000n]);
    const ledger = JSON.parse(readFileSync(file("m.ledger.json"), "utf8")) as { payments: { checkout?: string }[] };
    expect(ledger.payments).to.have.length(1);
    expect(ledger.payments[0].checkout).to.be.a("string");
    const noMandate = await env.run(["x402", "buy", shop.url, "stablecoins", "--checkout-mandate", file("c.sdjwt")], { key: KEYS.agent });
    expect([noMandate.code, noMandate.stderr]).to.deep.equal([2, "error: --agent-key, --checkout-mandate and --ledger are for --mandate\n"]);
  });

  it("serve-demo and serve-mcp --checkout-key sell their whole-cent routes and tools by checkout; pay and x402 call buy them under a checkout mandate", async function () {
    const file = (name: string) => path.join(env.dir, `hc-${name}`);
    const [me, agent, shopKey] = [generateMandateKey(), generateMandateKey(), generateMandateKey()];
    writeFileSync(file("agent.pub.jwk"), JSON.stringify(agent.publicJwk));
    writeFileSync(file("agent.jwk"), JSON.stringify(agent.privateJwk));
    writeFileSync(file("shop.jwk"), JSON.stringify(shopKey.privateJwk));
    writeFileSync(file("shop.pub.jwk"), JSON.stringify(shopKey.publicJwk));
    writeFileSync(file("me.jwk"), JSON.stringify(me.privateJwk));
    writeFileSync(file("m.sdjwt"), await signMandate(openPaymentMandate({ agentKey: agent.publicJwk, maxAmount: 50_000n, budget: 50_000n }), me.privateJwk));
    ok(
      await env.run(
        [
          "mandate",
          "create-checkout",
          "--agent",
          file("agent.pub.jwk"),
          "--merchant",
          ADDRESSES.merchant,
          "--item",
          "GET /weather=forecast",
          "--item",
          "forecast=forecast",
          "--days",
          "1",
          "--out",
          file("c.json"),
        ],
        { key: null },
      ),
    );
    ok(await env.run(["mandate", "sign", file("c.json"), "--key", file("me.jwk"), "--out", file("c.sdjwt")], { key: null }));
    const refused = await env.run(["x402", "serve-demo", "--port", "0", "--checkout-key", file("shop.jwk"), "--scheme", "batch-settlement"], {
      key: KEYS.merchant,
    });
    expect([refused.code, refused.stderr]).to.deep.equal([
      2,
      "error: --checkout-key sells by exact payments only (a mandate closes one payment): leave out --scheme batch-settlement\n",
    ]);
    const publicKey = await env.run(["x402", "serve-mcp", "--port", "0", "--checkout-key", file("shop.pub.jwk")], { key: KEYS.merchant });
    expect([publicKey.code, publicKey.stderr]).to.deep.equal([
      2,
      `error: --checkout-key ${file("shop.pub.jwk")} is a public key; signing checkouts needs the private key\n`,
    ]);

    const shop = await startCliServer(["x402", "serve-demo", "--port", "0", "--checkout-key", file("shop.jwk")], serverEnv(KEYS.merchant), env.dir);
    const tools = await startCliServer(["x402", "serve-mcp", "--port", "0", "--checkout-key", file("shop.jwk")], serverEnv(KEYS.merchant), env.dir);
    servers.push(shop, tools);
    expect(shop.output()).to.match(/GET \/weather +\$0\.01, by AP2 checkout signed by --checkout-key/);
    expect(tools.output()).to.match(/forecast +\$0\.01 \(argument: city\), by AP2 checkout/);
    const [agentBefore, merchantBefore] = await balances();
    const under = ["--mandate", file("m.sdjwt"), "--agent-key", file("agent.jwk")];
    const without = await env.run(["pay", `${shop.url}/weather`, ...under], { key: KEYS.agent });
    expect(without.code).to.equal(2);
    expect(without.stderr).to.include("the merchant sells by checkout, and this agent holds no open checkout mandate to close for it");
    ok(await env.run(["pay", `${shop.url}/weather`, ...under, "--checkout-mandate", file("c.sdjwt")], { key: KEYS.agent }));
    // The joke (a tenth of a cent) is not sold by checkout: paid as before, without a mandate.
    ok(await env.run(["pay", `${shop.url}/joke`], { key: KEYS.agent }));
    const called = ok(
      await env.run(["x402", "call", tools.url, "forecast", "--arg", "city=Lisbon", ...under, "--checkout-mandate", file("c.sdjwt")], {
        key: KEYS.agent,
      }),
    );
    expect(called.stdout).to.include("Tomorrow in Lisbon");
    expect(await balances()).to.deep.equal([agentBefore - 21_000n, merchantBefore + 21_000n]);
    const ledger = JSON.parse(readFileSync(file("m.ledger.json"), "utf8")) as { payments: { checkout?: string }[] };
    expect(ledger.payments.map((p) => typeof p.checkout)).to.deep.equal(["string", "string"]);
  });
});
