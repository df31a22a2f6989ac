/**
 * An x402 facilitator for NET Dollar in a dozen lines: verifies and settles `exact` payments, paying the gas with
 * RELAYER_KEY. Run it against a devnet (`npx netd devnet` in another terminal):
 *
 *   RELAYER_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d npx ts-node --transpile-only examples/x402-facilitator.ts
 */
import { JsonRpcProvider, Wallet } from "ethers";
import { NetDollarFacilitator, createFacilitatorApp, listen, readDeployment } from "../src";

async function main(): Promise<void> {
  const rpcUrl = process.env.NETD_RPC_URL ?? "http://127.0.0.1:8545";
  const deployment = readDeployment(process.env.NETD_DEPLOYMENT ?? "deployments/31337.json");
  if (!process.env.RELAYER_KEY) throw new Error("set RELAYER_KEY to the key that pays the settlements' gas");
  const provider = new JsonRpcProvider(rpcUrl);
  const facilitator = new NetDollarFacilitator({
    networks: [
      {
        network: `eip155:${deployment.chainId}`,
        provider,
        relayer: new Wallet(process.env.RELAYER_KEY, provider), // pays the gas of settlements
        assets: [{ address: deployment.contracts.NetDollar.address, name: "NET Dollar", version: "1" }], // the token's EIP-712 domain
      },
    ],
  });
  const server = await listen(createFacilitatorApp(facilitator), Number(process.env.PORT ?? 4020)); // 127.0.0.1 only
  console.log(`facilitator listening on ${server.url}`); // POST /verify, POST /settle, GET /supported, /health, /metrics
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
