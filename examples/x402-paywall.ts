/**
 * An API that charges $0.01 per call in NET Dollar: the paywall answers 402 with the price, and serves once the
 * facilitator has settled the payment. Start examples/x402-facilitator.ts first, then:
 *
 *   npx ts-node --transpile-only examples/x402-paywall.ts
 */
import express from "express";
import { facilitatorByUrl, listen, paywall, readDeployment } from "../src";

async function main(): Promise<void> {
  const deployment = readDeployment(process.env.NETD_DEPLOYMENT ?? "deployments/31337.json");
  const app = express();
  app.use(
    paywall({
      routes: { "GET /weather": { price: "$0.01", description: "today's forecast" } }, // $0.01 = 10,000 base units
      payTo: process.env.PAY_TO ?? "0x90F79bf6EB2c4f870365E785982E1f101E93b906", // the devnet's merchant
      network: `eip155:${deployment.chainId}`,
      asset: { address: deployment.contracts.NetDollar.address, name: "NET Dollar", version: "1" },
      facilitator: facilitatorByUrl(process.env.FACILITATOR_URL ?? "http://127.0.0.1:4020"),
    }),
  );
  app.get("/weather", (_req, res) => res.json({ forecast: "sunny" }));
  const server = await listen(app, Number(process.env.PORT ?? 4021));
  console.log(`paid API listening on ${server.url}/weather`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
