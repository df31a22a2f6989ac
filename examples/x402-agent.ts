/**
 * An agent that pays per call, within its spend controls. With examples/x402-facilitator.ts and x402-paywall.ts
 * running (the devnet's agent holds $10,000):
 *
 *   AGENT_KEY=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a npx ts-node --transpile-only examples/x402-agent.ts
 */
import { Wallet } from "ethers";
import { PayingClient, formatDollars, readDeployment } from "../src";

async function main(): Promise<void> {
  const deployment = readDeployment(process.env.NETD_DEPLOYMENT ?? "deployments/31337.json");
  if (!process.env.AGENT_KEY) throw new Error("set AGENT_KEY to the paying agent's key");
  const client = new PayingClient({
    signer: new Wallet(process.env.AGENT_KEY),
    controls: {
      maxPerPayment: 10_000n, // $0.01, in base units: a dearer price is refused before signing
      maxPerHost: 1_000_000n, // $1 per host
      maxTotal: 5_000_000n, // $5 in all
      allowedAssets: [{ network: `eip155:${deployment.chainId}`, asset: deployment.contracts.NetDollar.address }],
    },
  });
  const res = await client.fetch(process.env.API_URL ?? "http://127.0.0.1:4021/weather");
  const payment = client.payments.at(-1);
  console.log(JSON.stringify(await res.json()));
  console.log(`paid ${formatDollars(payment?.amount ?? 0n)} to ${payment?.payTo}: ${payment?.status}, transaction ${payment?.transaction}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
