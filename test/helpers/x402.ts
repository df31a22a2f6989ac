import express from "express";
import { Wallet, type JsonRpcProvider, type Signer } from "ethers";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { TYPES, randomNonce } from "../../src/eip712";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme as registerFacilitatorScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { NetDollarV2__factory, type NetDollarV2 } from "../../typechain-types";
import { connect } from "../../src/provider";
import { setupDevnet } from "../../src/deploy/devnetSetup";
import type { Deployment } from "../../src/deployments";
import { devnetWallet, startHardhatNode, type HardhatNode } from "../../src/devnet";
import {
  NetDollarFacilitator,
  createDemoApi,
  createFacilitatorApp,
  facilitatorByUrl,
  listen,
  type FacilitatorAsset,
  type PaywallMode,
  type RunningServer,
  type ServedPayments,
} from "../../src/x402";

export const NETWORK = "eip155:31337" as const;

/** A devnet with NET Dollar deployed, our facilitator over HTTP, and the accounts the x402 tests use. */
export interface X402Environment {
  node: HardhatNode;
  /** The deployment record (for a child process: write it to a file and point NETD_DEPLOYMENT at it). */
  deployment: Deployment;
  provider: JsonRpcProvider;
  token: NetDollarV2;
  asset: FacilitatorAsset;
  agent: Wallet;
  merchant: Wallet;
  relayer: Wallet;
  facilitator: NetDollarFacilitator;
  facilitatorServer: RunningServer;
  servers: RunningServer[];
  /** A paid API (our paywall) over our facilitator, by URL. */
  paidApi(options?: { mode?: PaywallMode; facilitatorUrl?: string; onServed?: (route: string) => void; served?: ServedPayments }): Promise<RunningServer>;
  stop(): Promise<void>;
}

export async function startX402Environment(): Promise<X402Environment> {
  const node = await startHardhatNode();
  const provider = await connect({ rpcUrl: node.url });
  const { deployment } = await setupDevnet(provider);
  const token = NetDollarV2__factory.connect(deployment.contracts.NetDollar.address, provider);
  const asset = { address: await token.getAddress(), name: await token.name(), version: await token.version() };
  const agent = new Wallet(devnetWallet(2).privateKey, provider);
  const merchant = new Wallet(devnetWallet(3).privateKey, provider);
  const relayer = new Wallet(devnetWallet(10).privateKey, provider);
  const facilitator = new NetDollarFacilitator({ networks: [{ network: NETWORK, provider, relayer, assets: [asset] }] });
  const facilitatorServer = await listen(createFacilitatorApp(facilitator), 0);
  const servers: RunningServer[] = [facilitatorServer];
  return {
    node,
    deployment,
    provider,
    token,
    asset,
    agent,
    merchant,
    relayer,
    facilitator,
    facilitatorServer,
    servers,
    async paidApi(options = {}) {
      const app = createDemoApi({
        payTo: merchant.address,
        network: NETWORK,
        asset,
        facilitator: facilitatorByUrl(options.facilitatorUrl ?? facilitatorServer.url, 10_000),
        mode: options.mode,
        onServed: options.onServed,
        served: options.served,
      });
      app.get("/broken", (_req, res) => {
        res.status(500).json({ error: "boom" });
      });
      const server = await listen(app, 0);
      servers.push(server);
      return server;
    },
    async stop() {
      for (const s of servers) await s.close();
      provider.destroy();
      await node.stop();
    },
  };
}

/** The x402 reference facilitator (@x402/core + @x402/evm, viem signer) behind a small HTTP server. */
export async function startReferenceFacilitator(rpcUrl: string, relayerKey: string): Promise<RunningServer & { facilitator: x402Facilitator }> {
  // viem ships its types as ES modules: load it the way an ES module is loaded from CommonJS.
  const { createWalletClient, defineChain, http, publicActions } = await import("viem");
  const { privateKeyToAccount } = await import("viem/accounts");
  const chain = defineChain({
    id: 31337,
    name: "devnet",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const account = privateKeyToAccount(relayerKey as `0x${string}`);
  const client = createWalletClient({ account, chain, transport: http(rpcUrl) }).extend(publicActions);
  const signer = toFacilitatorEvmSigner(Object.assign(client, { address: account.address }) as unknown as Parameters<typeof toFacilitatorEvmSigner>[0]);
  const facilitator = new x402Facilitator();
  registerFacilitatorScheme(facilitator, { signer, networks: NETWORK });
  const app = express();
  app.use(express.json());
  app.post("/verify", async (req, res) => res.json(await facilitator.verify(req.body.paymentPayload, req.body.paymentRequirements)));
  app.post("/settle", async (req, res) => res.json(await facilitator.settle(req.body.paymentPayload, req.body.paymentRequirements)));
  app.get("/supported", (_req, res) => res.json(facilitator.getSupported()));
  const server = await listen(app, 0);
  return { ...server, facilitator };
}

/** A paid API built with the x402 reference server (@x402/express) over a facilitator URL. */
export async function startReferencePaywall(facilitatorUrl: string, asset: FacilitatorAsset, payTo: string, amount: string): Promise<RunningServer> {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(NETWORK, new ExactEvmServerScheme());
  const app = express();
  app.use(
    paymentMiddleware(
      {
        "GET /reference": {
          accepts: { scheme: "exact", price: { amount, asset: asset.address, extra: { name: asset.name, version: asset.version } }, network: NETWORK, payTo },
          description: "served by the x402 reference paywall",
        },
      },
      server,
    ),
  );
  app.get("/reference", (_req, res) => res.json({ served: "by the reference paywall" }));
  return listen(app, 0);
}

/** The paid API's requirements for a route, read from its 402 answer. */
export async function requirementsOf(url: string, init: RequestInit = {}): Promise<{ required: PaymentRequired; requirements: PaymentRequirements }> {
  const res = await fetch(url, init);
  if (res.status !== 402) throw new Error(`${url} answered ${res.status}, not 402`);
  const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED")!);
  return { required, requirements: required.accepts[0] };
}

export interface AuthorizationOverrides {
  from?: string;
  to?: string;
  value?: bigint;
  validAfter?: bigint;
  validBefore?: bigint;
  nonce?: string;
  chainId?: bigint;
  verifyingContract?: string;
  name?: string;
}

/** A payment (x402 v2 PaymentPayload) for `requirements`, signed by `signer`, with any field overridden. */
export async function signPayment(
  signer: Signer,
  requirements: PaymentRequirements,
  overrides: AuthorizationOverrides & { accepted?: Partial<PaymentRequirements>; x402Version?: number } = {},
): Promise<PaymentPayload> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const authorization = {
    from: overrides.from ?? (await signer.getAddress()),
    to: overrides.to ?? requirements.payTo,
    value: overrides.value ?? BigInt(requirements.amount),
    validAfter: overrides.validAfter ?? 0n,
    validBefore: overrides.validBefore ?? now + BigInt(requirements.maxTimeoutSeconds),
    nonce: overrides.nonce ?? randomNonce(),
  };
  const extra = requirements.extra as { name: string; version: string };
  const signature = await signer.signTypedData(
    {
      name: overrides.name ?? extra.name,
      version: extra.version,
      chainId: overrides.chainId ?? 31337n,
      verifyingContract: overrides.verifyingContract ?? requirements.asset,
    },
    TYPES.TransferWithAuthorization,
    authorization,
  );
  return {
    x402Version: overrides.x402Version ?? 2,
    accepted: { ...requirements, ...overrides.accepted },
    payload: {
      signature,
      authorization: {
        ...authorization,
        value: authorization.value.toString(),
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
      },
    },
  };
}

/** Sends `payment` (or a raw header value) to `url` and decodes what came back. */
export async function sendPayment(url: string, payment: PaymentPayload | string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("PAYMENT-SIGNATURE", typeof payment === "string" ? payment : encodePaymentSignatureHeader(payment));
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  const requiredHeader = res.headers.get("PAYMENT-REQUIRED");
  const responseHeader = res.headers.get("PAYMENT-RESPONSE");
  return {
    status: res.status,
    body,
    required: requiredHeader ? decodePaymentRequiredHeader(requiredHeader) : undefined,
    settlement: responseHeader ? decodePaymentResponseHeader(responseHeader) : undefined,
  };
}
