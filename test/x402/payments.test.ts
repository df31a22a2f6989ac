import { expect } from "chai";
import { Wallet, getAddress, id as topicOf } from "ethers";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { x402Client, wrapFetchWithPayment } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { MockERC1271Wallet__factory, type NetDollar } from "../../typechain-types";
import { devnetWallet } from "../../src/devnet";
import { NetDollarFacilitator, PayingClient, PaymentRefusedError, REASON, type RunningServer } from "../../src/x402";
import { signCancelAuthorization } from "../../src/eip712";
import { submitCancelAuthorization } from "../../src/token/authorizations";
import {
  NETWORK,
  requirementsOf,
  signPayment,
  startReferenceFacilitator,
  startReferencePaywall,
  startX402Environment,
  type X402Environment,
} from "../helpers/x402";

const TRANSFER = topicOf("Transfer(address,address,uint256)");

describe("x402: paying for HTTP requests in NET Dollar", function () {
  this.timeout(120_000);
  let env: X402Environment;
  let api: RunningServer;
  const served: string[] = [];

  before(async function () {
    env = await startX402Environment();
    api = await env.paidApi({ onServed: (route) => served.push(route) });
  });
  after(async function () {
    await env?.stop();
  });

  const balances = async (...accounts: string[]) => Promise.all(accounts.map((a) => env.token.balanceOf(a)));

  describe("the paywall's 402", function () {
    it("answers an unpaid request with PAYMENT-REQUIRED: x402 v2, eip155:31337, the price in base units and the token's EIP-712 domain", async function () {
      const res = await fetch(`${api.url}/joke`);
      expect(res.status).to.equal(402);
      const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED")!);
      expect(required.x402Version).to.equal(2);
      expect(required.resource.url).to.equal(`${api.url}/joke`);
      expect(required.accepts).to.deep.equal([
        {
          scheme: "exact",
          network: "eip155:31337",
          asset: env.asset.address,
          amount: "1000",
          payTo: env.merchant.address,
          maxTimeoutSeconds: 60,
          extra: { name: "NET Dollar", version: "1" },
        },
      ]);
      expect(await res.json()).to.deep.include({ x402Version: 2, error: "PAYMENT-SIGNATURE header is required" });
      expect(served).to.not.include("/joke");
    });

    it("prices each route in dollars: $0.01 is 10,000 base units, $0.05 is 50,000", async function () {
      expect((await requirementsOf(`${api.url}/weather`)).requirements.amount).to.equal("10000");
      expect((await requirementsOf(`${api.url}/summarize`, { method: "POST" })).requirements.amount).to.equal("50000");
    });

    it("lets free routes through untouched", async function () {
      const res = await fetch(`${api.url}/broken`);
      expect(res.status).to.equal(500);
    });
  });

  describe("our client, our paywall, our facilitator", function () {
    it("pays $0.001 once, moves exactly 1,000 base units from the agent to the merchant and serves the response", async function () {
      const client = new PayingClient({ signer: env.agent });
      const [agentBefore, merchantBefore] = await balances(env.agent.address, env.merchant.address);
      const servedBefore = served.length;
      const res = await client.fetch(`${api.url}/joke`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.have.property("joke");
      expect(served.length - servedBefore).to.equal(1);
      const [agentAfter, merchantAfter] = await balances(env.agent.address, env.merchant.address);
      expect(agentBefore - agentAfter).to.equal(1000n);
      expect(merchantAfter - merchantBefore).to.equal(1000n);

      expect(client.payments).to.have.length(1);
      const record = client.payments[0];
      expect(record).to.deep.include({
        status: "settled",
        amount: 1000n,
        payer: env.agent.address,
        payTo: env.merchant.address,
        network: NETWORK,
        httpStatus: 200,
      });
      const receipt = await env.provider.getTransactionReceipt(record.transaction!);
      expect(receipt!.status).to.equal(1);
      const transfer = receipt!.logs.find((l) => l.topics[0] === TRANSFER)!;
      expect(getAddress("0x" + transfer.topics[1].slice(26))).to.equal(env.agent.address);
      expect(getAddress("0x" + transfer.topics[2].slice(26))).to.equal(env.merchant.address);
      expect(BigInt(transfer.data)).to.equal(1000n);
      expect(client.spent()).to.equal(1000n);
    });

    it("replays a POST body with the payment", async function () {
      const client = new PayingClient({ signer: env.agent });
      const res = await client.fetch(`${api.url}/summarize`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "a long text about stablecoins" }),
      });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ summary: "a long text about stablecoins" });
      expect(client.payments[0].amount).to.equal(50_000n);
    });

    it("in verify-then-settle mode runs the handler, settles, then sends the held response", async function () {
      const lazy = await env.paidApi({ mode: "verify-then-settle" });
      const client = new PayingClient({ signer: env.agent });
      const [merchantBefore] = await balances(env.merchant.address);
      const res = await client.fetch(`${lazy.url}/weather`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({ forecast: "sunny" });
      expect(res.headers.get("PAYMENT-RESPONSE")).to.be.a("string");
      expect((await balances(env.merchant.address))[0] - merchantBefore).to.equal(10_000n);
      expect(client.payments[0].status).to.equal("settled");
    });

    it("a smart-contract wallet (ERC-1271) pays through the bytes-signature path", async function () {
      const owner = Wallet.createRandom(env.provider);
      const wallet = await new MockERC1271Wallet__factory(env.agent).deploy(owner.address);
      await wallet.waitForDeployment();
      const walletAddress = await wallet.getAddress();
      await (await env.token.connect(env.agent).transfer(walletAddress, 5_000n)).wait();
      const client = new PayingClient({ signer: owner, payer: walletAddress });
      const [merchantBefore] = await balances(env.merchant.address);
      const res = await client.fetch(`${api.url}/joke`);
      expect(res.status, `${client.payments[0].errorReason}`).to.equal(200);
      expect(await balances(walletAddress, env.merchant.address)).to.deep.equal([4_000n, merchantBefore + 1_000n]);
      expect(client.payments[0]).to.deep.include({ payer: walletAddress, status: "settled" });

      // The wallet decides: once it rejects every signature, its owner's key alone pays nothing.
      await (await wallet.setMode(1)).wait();
      const refused = await client.fetch(`${api.url}/joke`);
      expect(refused.status).to.equal(402);
      expect(client.payments[1]).to.deep.include({ status: "refused", errorReason: REASON.signature });
      expect(await balances(walletAddress)).to.deep.equal([4_000n]);
    });
  });

  describe("interoperability with the x402 reference implementation", function () {
    it("the reference client (@x402/fetch + @x402/evm) pays our paywall through our facilitator", async function () {
      const { privateKeyToAccount } = await import("viem/accounts");
      const account = privateKeyToAccount(env.agent.privateKey as `0x${string}`);
      const client = new x402Client().register(NETWORK, new ExactEvmScheme(account));
      client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: env.asset.address, maxAmountPerPayment: "1000000" }] });
      const payingFetch = wrapFetchWithPayment(fetch, client);
      const [agentBefore, merchantBefore] = await balances(env.agent.address, env.merchant.address);
      const res = await payingFetch(`${api.url}/weather`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({ forecast: "sunny" });
      const [agentAfter, merchantAfter] = await balances(env.agent.address, env.merchant.address);
      expect([agentBefore - agentAfter, merchantAfter - merchantBefore]).to.deep.equal([10_000n, 10_000n]);
    });

    it("our client pays a reference @x402/express paywall that settles through the reference facilitator", async function () {
      const facilitator = await startReferenceFacilitator(env.node.url, devnetWallet(11).privateKey);
      const paywall = await startReferencePaywall(facilitator.url, env.asset, env.merchant.address, "2500");
      env.servers.push(facilitator, paywall);
      const client = new PayingClient({ signer: env.agent });
      const [agentBefore, merchantBefore] = await balances(env.agent.address, env.merchant.address);
      const res = await client.fetch(`${paywall.url}/reference`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ served: "by the reference paywall" });
      const [agentAfter, merchantAfter] = await balances(env.agent.address, env.merchant.address);
      expect([agentBefore - agentAfter, merchantAfter - merchantBefore]).to.deep.equal([2_500n, 2_500n]);
      expect(client.payments[0]).to.deep.include({ status: "settled", amount: 2_500n });
      const receipt = await env.provider.getTransactionReceipt(client.payments[0].transaction!);
      expect(receipt!.status).to.equal(1);
    });
  });

  describe("spend controls", function () {
    it("refuses a price above the maximum per payment before signing anything", async function () {
      const client = new PayingClient({ signer: env.agent, controls: { maxPerPayment: 5_000n } });
      const [before] = await balances(env.agent.address);
      await expect(client.fetch(`${api.url}/weather`)).to.be.rejectedWith(PaymentRefusedError, "the price 0.01 is above the maximum per payment 0.005");
      expect(client.payments).to.have.length(0);
      expect(await balances(env.agent.address)).to.deep.equal([before]);
      expect((await client.fetch(`${api.url}/joke`)).status).to.equal(200);
    });

    it("caps the total and the spending per host, counting concurrent requests before they are signed", async function () {
      const client = new PayingClient({ signer: env.agent, controls: { maxTotal: 3_000n } });
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.fetch(`${api.url}/joke`)));
      expect(results.filter((r) => r.status === "fulfilled")).to.have.length(3);
      const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      expect(refused).to.have.length(2);
      expect(String(refused[0].reason.message)).to.match(/above the maximum 0\.003/);
      expect(client.spent()).to.equal(3_000n);

      const perHost = new PayingClient({ signer: env.agent, controls: { maxPerHost: 1_000n } });
      expect((await perHost.fetch(`${api.url}/joke`)).status).to.equal(200);
      await expect(perHost.fetch(`${api.url}/joke`)).to.be.rejectedWith(PaymentRefusedError, new URL(api.url).host);
      expect(perHost.spent(new URL(api.url).host)).to.equal(1_000n);
    });

    it("pays only with allowed assets on allowed networks", async function () {
      const wrongAsset = new PayingClient({ signer: env.agent, controls: { allowedAssets: [{ network: NETWORK, asset: env.merchant.address }] } });
      await expect(wrongAsset.fetch(`${api.url}/joke`)).to.be.rejectedWith(PaymentRefusedError, `asset ${env.asset.address} on eip155:31337 is not allowed`);
      const wrongNetwork = new PayingClient({ signer: env.agent, controls: { allowedNetworks: ["eip155:8453"] } });
      await expect(wrongNetwork.fetch(`${api.url}/joke`)).to.be.rejectedWith(PaymentRefusedError, "network eip155:31337 is not allowed");
    });
  });

  describe("the relayer", function () {
    it("recovers its nonce when its key sent a transaction the facilitator did not", async function () {
      await (await env.relayer.sendTransaction({ to: env.relayer.address, value: 0n })).wait();
      const client = new PayingClient({ signer: env.agent });
      const res = await client.fetch(`${api.url}/joke`);
      expect(res.status, client.payments[0].errorReason).to.equal(200);
      expect(client.payments[0].status).to.equal("settled");
    });
  });

  describe("settlement is idempotent", function () {
    it("settling one payment twice, concurrently and later, moves money once and answers the same transaction", async function () {
      const { requirements } = await requirementsOf(`${api.url}/joke`);
      const payment = await signPayment(env.agent, requirements);
      const [merchantBefore] = await balances(env.merchant.address);
      const [a, b] = await Promise.all([env.facilitator.settle(payment, requirements), env.facilitator.settle(payment, requirements)]);
      expect(a.success).to.equal(true);
      expect(b).to.deep.equal(a);
      const later = await env.facilitator.settle(payment, requirements);
      expect(later).to.deep.equal(a);
      expect((await balances(env.merchant.address))[0] - merchantBefore).to.equal(1_000n);
    });

    it("a payment someone else settled first (or this facilitator before a restart) is answered with that transaction", async function () {
      const { requirements } = await requirementsOf(`${api.url}/joke`);
      const payment = await signPayment(env.agent, requirements);
      const a = (payment.payload as { signature: string; authorization: Record<string, string> }).authorization;
      const sig = (payment.payload as { signature: string }).signature;
      // A watcher front-runs the settlement with the same signed authorization: the money still goes to the payee.
      const frontRun = await env.token
        .connect(env.merchant)
        ["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, sig);
      await frontRun.wait();
      const [merchantBefore] = await balances(env.merchant.address);
      const restarted = new NetDollarFacilitator({ networks: [{ network: NETWORK, provider: env.provider, relayer: env.relayer, assets: [env.asset] }] });
      const result = await restarted.settle(payment, requirements);
      expect(result).to.deep.equal({ success: true, transaction: frontRun.hash, payer: env.agent.address, network: NETWORK });
      expect(await balances(env.merchant.address)).to.deep.equal([merchantBefore]);
      // but a payment whose nonce was cancelled, not paid, is refused
      const cancelled = await signPayment(env.agent, requirements);
      const nonce = (cancelled.payload as { authorization: { nonce: string } }).authorization.nonce;
      const cancel = await signCancelAuthorization(
        env.agent,
        { name: env.asset.name, version: env.asset.version, chainId: 31337n, verifyingContract: env.asset.address },
        { authorizer: env.agent.address, nonce },
      );
      await (await submitCancelAuthorization(env.token.connect(env.merchant) as unknown as NetDollar, env.agent.address, nonce, cancel)).wait();
      expect(await restarted.settle(cancelled, requirements)).to.deep.include({ success: false, errorReason: REASON.nonceAlreadyUsed, transaction: "" });
    });
  });
});
