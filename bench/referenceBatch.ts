/**
 * The x402 reference batch-settlement facilitator or server (unmodified @x402 packages 2.27) in a process of its own,
 * for bench/batch.bench.ts: `facilitator` (env NETD_RPC_URL, RELAYER_KEY) or `server` (env FACILITATOR_URL, ASSET as
 * JSON, PAY_TO, AMOUNT, AUTHORIZER_KEY, MIN_DEPOSIT). Prints `listening on <url>`.
 */
import { startReferenceBatchFacilitator, startReferenceBatchServer } from "../test/helpers/batch";

async function main(): Promise<void> {
  const env = process.env;
  const running =
    process.argv[2] === "facilitator"
      ? await startReferenceBatchFacilitator(env.NETD_RPC_URL!, env.RELAYER_KEY!)
      : await startReferenceBatchServer({
          facilitatorUrl: env.FACILITATOR_URL!,
          asset: JSON.parse(env.ASSET!),
          payTo: env.PAY_TO!,
          amount: env.AMOUNT!,
          authorizerKey: env.AUTHORIZER_KEY!,
          minDeposit: env.MIN_DEPOSIT,
        });
  console.log(`listening on ${running.url}`);
  process.once("SIGTERM", () => void running.close().then(() => process.exit(0)));
}

void main();
