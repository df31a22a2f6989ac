import express from "express";
import type { Wallet } from "ethers";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { toClientEvmSigner, toFacilitatorEvmSigner } from "@x402/evm";
import { BatchSettlementEvmScheme as ReferenceFacilitatorScheme } from "@x402/evm/batch-settlement/facilitator";
import { BatchSettlementEvmScheme as ReferenceServerScheme } from "@x402/evm/batch-settlement/server";
import { BatchSettlementEvmScheme as ReferenceClientScheme } from "@x402/evm/batch-settlement/client";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { listen, type FacilitatorAsset, type RunningServer } from "../../src/x402";
import { NETWORK } from "./x402";

/** viem, loaded the way an ES module is loaded from CommonJS. */
async function viem() {
  const { createPublicClient, createWalletClient, defineChain, http, publicActions } = await import("viem");
  const { privateKeyToAccount } = await import("viem/accounts");
  return { createPublicClient, createWalletClient, defineChain, http, publicActions, privateKeyToAccount };
}

async function devnetChain(rpcUrl: string) {
  const v = await viem();
  return v.defineChain({ id: 31337, name: "devnet", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
}

/** The reference batch-settlement facilitator (@x402/evm, viem signer, unmodified) behind a small HTTP server. */
export async function startReferenceBatchFacilitator(rpcUrl: string, relayerKey: string): Promise<RunningServer> {
  const v = await viem();
  const chain = await devnetChain(rpcUrl);
  const account = v.privateKeyToAccount(relayerKey as `0x${string}`);
  const client = v.createWalletClient({ account, chain, transport: v.http(rpcUrl) }).extend(v.publicActions);
  const signer = toFacilitatorEvmSigner(Object.assign(client, { address: account.address }) as unknown as Parameters<typeof toFacilitatorEvmSigner>[0]);
  const facilitator = new x402Facilitator().register(NETWORK, new ReferenceFacilitatorScheme(signer));
  const app = express();
  app.use(express.json({ limit: "1mb" }));
  app.post("/verify", async (req, res) => res.json(await facilitator.verify(req.body.paymentPayload, req.body.paymentRequirements)));
  app.post("/settle", async (req, res) => res.json(await facilitator.settle(req.body.paymentPayload, req.body.paymentRequirements)));
  app.get("/supported", (_req, res) => res.json(facilitator.getSupported()));
  return listen(app, 0);
}

export interface ReferenceBatchServer extends RunningServer {
  /** Claims every voucher served and settles the receiver, through the reference channel manager. */
  claimAndSettle(): Promise<{ claims: { vouchers: number; transaction: string }[]; settle?: { transaction: string } }>;
  served: number;
}

/**
 * A paid API built with the reference batch-settlement server (@x402/express, the batch-settlement server scheme with
 * its own receiver-authorizer key, the in-memory channel store and the channel manager) over a facilitator URL.
 */
export async function startReferenceBatchServer(params: {
  facilitatorUrl: string;
  asset: FacilitatorAsset;
  payTo: string;
  amount: string;
  authorizerKey: string;
  minDeposit?: string;
}): Promise<ReferenceBatchServer> {
  const v = await viem();
  const facilitator = new HTTPFacilitatorClient({ url: params.facilitatorUrl });
  const scheme = new ReferenceServerScheme(params.payTo as `0x${string}`, {
    receiverAuthorizerSigner: v.privateKeyToAccount(params.authorizerKey as `0x${string}`),
    withdrawDelay: 900,
  });
  const server = new x402ResourceServer(facilitator).register(NETWORK, scheme);
  const manager = scheme.createChannelManager(facilitator, NETWORK, params.asset.address as `0x${string}`);
  const app = express();
  const state = { served: 0 };
  app.use(
    paymentMiddleware(
      {
        "GET /micro": {
          accepts: {
            scheme: "batch-settlement",
            price: {
              amount: params.amount,
              asset: params.asset.address,
              extra: { name: params.asset.name, version: params.asset.version, ...(params.minDeposit ? { minDeposit: params.minDeposit } : {}) },
            },
            network: NETWORK,
            payTo: params.payTo,
          },
          description: "served by the x402 reference batch-settlement server",
        },
      },
      server,
    ),
  );
  app.get("/micro", (_req, res) => {
    state.served++;
    res.json({ served: "by the reference batch-settlement server" });
  });
  const running = await listen(app, 0);
  return {
    ...running,
    get served() {
      return state.served;
    },
    claimAndSettle: () => manager.claimAndSettle(),
  };
}

/** A paying fetch of the reference batch-settlement client (@x402/fetch + @x402/evm), for a devnet key. */
export async function referenceBatchFetch(
  rpcUrl: string,
  payer: Wallet,
  asset: string,
  options: { depositMultiplier?: number; maxAmountPerPayment?: string } = {},
) {
  const v = await viem();
  const chain = await devnetChain(rpcUrl);
  const account = v.privateKeyToAccount(payer.privateKey as `0x${string}`);
  const signer = toClientEvmSigner(account, v.createPublicClient({ chain, transport: v.http(rpcUrl) }) as unknown as Parameters<typeof toClientEvmSigner>[1]);
  const scheme = new ReferenceClientScheme(signer, { depositPolicy: { depositMultiplier: options.depositMultiplier ?? 5 } });
  const client = new x402Client().register(NETWORK, scheme);
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset, maxAmountPerPayment: options.maxAmountPerPayment ?? "1000000" }] });
  return { fetch: wrapFetchWithPayment(fetch, client), scheme, client };
}
