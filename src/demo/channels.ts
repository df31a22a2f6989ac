import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NetDollarV2 } from "../../typechain-types";
import { openDatabase, type Database } from "../db";
import { readTokenDomain } from "../eip712";
import {
  BatchSettlementServer,
  ChannelStore,
  NetDollarFacilitator,
  caip2,
  createFacilitatorApp,
  facilitatorByUrl,
  listen,
  type FacilitatorAsset,
  type FacilitatorLike,
  type RunningServer,
} from "../x402";
import type { Cast } from "./story";

/** What a demo chapter that takes payment channels runs on: a facilitator service, a channel store, a batch server. */
export interface DemoChannels {
  network: `eip155:${string}`;
  asset: FacilitatorAsset;
  db: Database;
  facilitator: FacilitatorLike;
  batch: BatchSettlementServer;
  close(): Promise<void>;
}

/**
 * A facilitator service relaying with the demo's relayer, an embedded PGlite channel store in a temporary directory,
 * and a batch-settlement server receiving for `payTo` (the merchant's key authorizes its claims and refunds).
 */
export async function startDemoChannels(cast: Cast, token: NetDollarV2, payTo: string, prefix: string): Promise<DemoChannels> {
  const provider = cast.issuer.provider!;
  const network = caip2((await provider.getNetwork()).chainId);
  const domain = await readTokenDomain(token);
  const asset = { address: await token.getAddress(), name: domain.name, version: domain.version };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = await openDatabase(dir);
  const facilitatorServer: RunningServer = await listen(
    createFacilitatorApp(new NetDollarFacilitator({ networks: [{ network, provider, relayer: cast.relayer, assets: [asset] }] })),
    0,
  );
  const facilitator = facilitatorByUrl(facilitatorServer.url);
  const batch = await BatchSettlementServer.create({
    store: new ChannelStore(db),
    facilitator,
    provider,
    network,
    asset,
    payTo,
    receiverAuthorizer: cast.merchant,
  });
  return {
    network,
    asset,
    db,
    facilitator,
    batch,
    close: async () => {
      await facilitatorServer.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
