import express from "express";
import { paywall, type FacilitatorLike, type PaidRoute, type PaywallMode } from "./paywall";
import type { FacilitatorAsset } from "./facilitator";
import type { BatchSettlementServer } from "./batch/server";
import type { ServedPayments } from "./served";
import type { CheckoutSale } from "./checkouts";
import { parsePrice } from "./money";
import { toMinorUnits } from "../ap2/mandates";
import { InvalidInputError } from "../errors";

/** The demo API's paid routes and prices. */
export const DEMO_ROUTES = {
  "GET /tick": { price: "$0.0001", description: "a timestamp, for a hundredth of a cent (pay it over a channel)" },
  "GET /joke": { price: "$0.001", description: "a joke, for a tenth of a cent" },
  "GET /weather": { price: "$0.01", description: "today's forecast, for a cent" },
  "POST /summarize": { price: "$0.05", description: "the first words of a text, for five cents" },
} as const;

export interface DemoApiOptions {
  payTo: string;
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  facilitator: FacilitatorLike;
  mode?: PaywallMode;
  /** Accept batch-settlement (payment channels) on every route, before exact. */
  batch?: BatchSettlementServer;
  /** Which exact payments were served (shared by a paywall's processes when on its database). */
  served?: ServedPayments;
  /** Sell the routes priced in whole cents (GET /weather, POST /summarize) by AP2 checkout (exact only, without `batch`). */
  checkout?: CheckoutSale;
  /** Called when a paid route is served (after its payment settled, in the default mode). */
  onServed?: (route: string) => void;
}

/**
 * A small paid API for trying x402 out: a free index at `/` listing the prices, and four paid routes
 * (exact; with `batch`, payment channels first).
 *
 * @example
 * const app = createDemoApi({ payTo, network: "eip155:31337", asset, facilitator: facilitatorByUrl("http://127.0.0.1:4020") });
 * await listen(app, 4021);
 */
export function createDemoApi(options: DemoApiOptions): express.Express {
  if (options.batch && options.checkout)
    throw new InvalidInputError("the demo API sells by checkout with exact payments only: give it checkout or batch, not both");
  const app = express();
  app.disable("x-powered-by");
  app.get("/", (_req, res) => {
    res.json({
      description: "NET Dollar x402 demo API: pay per call in NET Dollar",
      payTo: options.payTo,
      network: options.network,
      asset: options.asset.address,
      routes: Object.entries(DEMO_ROUTES).map(([route, r]) => ({ route, price: r.price, description: r.description })),
    });
  });
  const routes: Record<string, PaidRoute> = Object.fromEntries(
    Object.entries(DEMO_ROUTES).map(([key, r]) => [
      key,
      options.batch
        ? { ...r, schemes: ["batch-settlement", "exact"] }
        : { ...r, ...(options.checkout && toMinorUnits(parsePrice(r.price)) !== undefined ? { checkout: options.checkout } : {}) },
    ]),
  );
  app.use(
    paywall({
      routes,
      payTo: options.payTo,
      network: options.network,
      asset: options.asset,
      facilitator: options.facilitator,
      mode: options.mode,
      batch: options.batch,
      served: options.served,
    }),
  );
  app.use(express.json({ limit: "64kb" }));
  app.get("/tick", (_req, res) => {
    options.onServed?.("/tick");
    res.json({ now: new Date().toISOString() });
  });
  app.get("/joke", (_req, res) => {
    options.onServed?.("/joke");
    res.json({ joke: "Why did the agent pay a tenth of a cent? It only wanted a micro-laugh." });
  });
  app.get("/weather", (_req, res) => {
    options.onServed?.("/weather");
    res.json({ forecast: "sunny", high: 24, low: 15, unit: "C" });
  });
  app.post("/summarize", (req, res) => {
    options.onServed?.("/summarize");
    const text = String((req.body as { text?: unknown } | undefined)?.text ?? "");
    res.json({ summary: text.split(/\s+/).filter(Boolean).slice(0, 5).join(" ") });
  });
  return app;
}
