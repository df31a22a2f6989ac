import type { Command } from "commander";
import { Wallet } from "ethers";
import { formatAmount, formatDollars, parseAmount } from "../../amounts";
import { parseAddress } from "../parse";
import { SplitDistributor, ensureSplit, splitDefinition } from "../../splits";
import { InvalidInputError, NetDollarError } from "../../errors";
import { NetDollar__factory } from "../../../typechain-types";
import { readTokenDomain } from "../../eip712";
import type { BatchSettlementServer, FacilitatorAsset, FacilitatorLike, PaymentRecord, PaywallMode, PaywallScheme, RunningServer } from "../../x402";

/**
 * The x402 library (Express, the x402 reference packages) is loaded only by the commands that use it, so that every
 * other command starts faster.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require("../../x402") as typeof import("../../x402");
import type { CliContext } from "../context";
import { action } from "../action";
import { table } from "../output";
import { ExitWithCode } from "../action";
import { addMandateOptions, ap2, readPrivateJwkFile } from "./mandate";
import { registerMcpClientCommands } from "./mcpClient";
import { mandateRows, payingClientOf, receiptRows } from "../paying";
import { collect, parseCount, parsePort, parseSplitShares, parseUrl } from "../parse";
import { openDatabase, type Database } from "../../db";
import { parseHost, runUntilStopped } from "../serve";
import {
  addPayingSchemeOptions,
  addSchemeOptions,
  parseSchemeOptions,
  type PayingSchemeOptions,
  startChannelServer,
  type ChannelServer,
  type SchemeOptions,
} from "../channels";

/** NET Dollar of the deployment, plus any --asset, with the EIP-712 domain read from each token. */
async function resolveAssets(ctx: CliContext, extra: string[]): Promise<FacilitatorAsset[]> {
  const provider = await ctx.provider();
  const addresses = extra.map((a) => parseAddress(a, "--asset"));
  if (addresses.length === 0) addresses.push((await ctx.deployment()).contracts.NetDollar.address);
  return Promise.all(
    addresses.map(async (address) => {
      const token = NetDollar__factory.connect(address, provider);
      const [{ name, version }, code] = await Promise.all([readTokenDomain(token).catch(() => ({ name: "", version: "" })), provider.getCode(address)]);
      if (code === "0x" || !name) throw new InvalidInputError(`${address} is not an EIP-3009 token with an EIP-712 domain on this chain`);
      return { address, name, version };
    }),
  );
}

/** NETD_RECEIVER_AUTHORIZER_KEY and NETD_FACILITATOR_API_KEYS: both or neither. */
function receiverAuthorizerOf(ctx: CliContext): { receiverAuthorizer?: Wallet; apiKeys: string[] } {
  const key = ctx.env.NETD_RECEIVER_AUTHORIZER_KEY?.trim() || undefined;
  const apiKeys = (ctx.env.NETD_FACILITATOR_API_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (!key) return { apiKeys };
  if (apiKeys.length === 0) {
    throw new InvalidInputError("NETD_RECEIVER_AUTHORIZER_KEY is set but NETD_FACILITATOR_API_KEYS is not", {
      details:
        "the facilitator signs claims and refunds as receiver authorizer only for servers that authenticate: set NETD_FACILITATOR_API_KEYS=<key>[,<key>...]",
    });
  }
  if (apiKeys.some((k) => k.length < 16)) throw new InvalidInputError("every NETD_FACILITATOR_API_KEYS key must be at least 16 characters");
  try {
    return { receiverAuthorizer: new Wallet(key), apiKeys };
  } catch {
    throw new InvalidInputError("NETD_RECEIVER_AUTHORIZER_KEY is not a 32-byte hex private key");
  }
}

/** The facilitator a server uses: the one at --facilitator-url, else one in this process relaying with the configured key. */
async function facilitatorFor(
  ctx: CliContext,
  url: URL | undefined,
  network: `eip155:${string}`,
  asset: FacilitatorAsset,
  channels?: { address: string; collector: string },
): Promise<FacilitatorLike> {
  if (url) return lib().facilitatorByUrl(url.toString().replace(/\/$/, ""));
  return new (lib().NetDollarFacilitator)({ networks: [{ network, provider: await ctx.provider(), relayer: await ctx.signer(), assets: [asset], channels }] });
}

/**
 * A paid server's database and payment channels. The database (--database, else NETD_DATABASE_URL, else .netd/db) is
 * opened for batch-settlement (the channel store) or when one is named; with batch-settlement the channel server and
 * its claimer run on it. Returns what the offers need, the database, and how to start and stop.
 */
async function channelsFor(
  ctx: CliContext,
  scheme: "exact" | "batch-settlement",
  database: string | undefined,
  o: Omit<Parameters<typeof startChannelServer>[2], "channels"> & { channels?: { address: string; collector: string } },
): Promise<{
  server?: ChannelServer;
  db?: Database;
  pricing: { schemes: PaywallScheme[]; batch?: BatchSettlementServer };
  /** Runs `listen`; claiming starts once it is listening, and a server that cannot start closes the database. */
  serving<T>(listen: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}> {
  const batch = scheme === "batch-settlement" && o.channels !== undefined;
  const db = batch || database?.trim() || ctx.env.NETD_DATABASE_URL?.trim() ? await openDatabase(ctx.databaseLocation(database)) : undefined;
  let server: ChannelServer | undefined;
  try {
    if (batch) server = await startChannelServer(ctx, db!, { ...o, channels: o.channels! });
  } catch (error) {
    await db?.close();
    throw error;
  }
  const stop = async () => {
    await server?.stop();
    await db?.close();
  };
  const serving = async <T>(listen: () => Promise<T>) => {
    let listening: T;
    try {
      listening = await listen();
    } catch (error) {
      await stop();
      throw error;
    }
    server?.claimer.start();
    return listening;
  };
  return { server, db, pricing: server ? { schemes: ["batch-settlement", "exact"], batch: server.batch } : { schemes: ["exact"] }, serving, stop };
}

/**
 * What serve-mcp and serve-a2a are paid with: the payee (--pay-to, else the configured key), the network and asset of
 * the deployment, the facilitator (--facilitator-url, else one in process) and, with --scheme batch-settlement, the
 * payment channels.
 */
async function paidServerOf(ctx: CliContext, options: { payTo?: string; facilitatorUrl?: string } & SchemeOptions) {
  const { scheme, claimInterval, claimThreshold } = parseSchemeOptions(options);
  const facilitatorUrl = options.facilitatorUrl === undefined ? undefined : parseUrl(options.facilitatorUrl, "--facilitator-url");
  const payTo = options.payTo !== undefined ? parseAddress(options.payTo, "--pay-to") : (await ctx.signer()).address;
  const network = lib().caip2(await ctx.chainId());
  const [asset] = await resolveAssets(ctx, []);
  const channels = scheme === "batch-settlement" ? await ctx.channels() : undefined;
  const facilitator = await facilitatorFor(ctx, facilitatorUrl, network, asset, channels);
  const paid = await channelsFor(ctx, scheme, options.database, { facilitator, network, asset, payTo, channels, claimInterval, claimThreshold });
  return { scheme, facilitatorUrl, payTo, network, asset, facilitator, paid };
}

/** The MCP SDK's stdio transport, loaded only for `serve-mcp --stdio`: the other commands never need it. */
function loadStdio(): typeof import("@modelcontextprotocol/sdk/server/stdio.js") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("@modelcontextprotocol/sdk/server/stdio.js") as typeof import("@modelcontextprotocol/sdk/server/stdio.js");
}

/** The options of a server that can sell by AP2 checkout (`what` it sells that way). */
function addCheckoutOptions(command: Command, what: string, merchantName: string): Command {
  return command
    .option("--checkout-key <file>", `sell ${what} by AP2 checkout: sign each checkout with this private key (JWK, from \`netd mandate key\`)`)
    .option("--merchant-name <name>", "with --checkout-key: the merchant's name in its checkouts", merchantName);
}

/** What `--checkout-key` and `--merchant-name` sell with, if given; a checkout is paid by one exact payment. */
function checkoutSaleOf(options: { checkoutKey?: string; merchantName: string; scheme?: string }, item?: { id: string; title: string }) {
  if (options.checkoutKey === undefined) return undefined;
  const key = readPrivateJwkFile(options.checkoutKey, "--checkout-key", "signing checkouts needs the private key");
  if (options.scheme !== undefined && options.scheme !== "exact")
    throw new InvalidInputError("--checkout-key sells by exact payments only (a mandate closes one payment): leave out --scheme batch-settlement");
  return { key, merchant: { name: options.merchantName }, ...(item ? { item } : {}) };
}

export function registerX402Commands(program: Command): void {
  const x402 = program.command("x402").description("agent payments over HTTP 402 (x402 v2): the facilitator and a demo paid API");

  x402
    .command("facilitator")
    .description("run an x402 facilitator (POST /verify, POST /settle, GET /supported, /health, /metrics) settling with the configured key")
    .option("--port <port>", "port to listen on", "4020")
    .option("--host <host>", "interface to listen on (loopback unless you mean it)", "127.0.0.1")
    .option("--asset <address>", "an EIP-3009 token to settle (repeatable; default the deployment's NetDollar)", collect, [])
    .option("--receipt-timeout <seconds>", "seconds to wait for a settlement's receipt", "120")
    .addHelpText(
      "after",
      "\nThe relayer is the configured key (NETD_PRIVATE_KEY or --keystore): it pays the gas of every settlement.\n" +
        "It serves the schemes exact and batch-settlement (channels at the deployment's BatchSettlement, by default the canonical address).\n" +
        "With NETD_RECEIVER_AUTHORIZER_KEY set, it advertises that key as a batch-settlement receiver authorizer and signs claims and\n" +
        "refunds for servers that present one of NETD_FACILITATOR_API_KEYS (comma-separated) as `Authorization: Bearer <key>`.\n\n" +
        "Example (with NETD_PRIVATE_KEY set to the relayer's key):\n  $ netd x402 facilitator --port 4020 --rpc-url http://127.0.0.1:8545",
    )
    .action(
      action((ctx) => async (options: { port: string; host: string; asset: string[]; receiptTimeout: string }) => {
        const port = parsePort(options.port);
        const host = parseHost(ctx, options.host);
        const timeout = Number(options.receiptTimeout);
        if (!Number.isFinite(timeout) || timeout <= 0)
          throw new InvalidInputError(`--receipt-timeout "${options.receiptTimeout}" is not a positive number of seconds`);
        const provider = await ctx.provider();
        const relayer = await ctx.signer();
        const network = lib().caip2(await ctx.chainId());
        const assets = await resolveAssets(ctx, options.asset);
        const channels = await ctx.channels();
        const { receiverAuthorizer, apiKeys } = receiverAuthorizerOf(ctx);
        const facilitator = new (lib().NetDollarFacilitator)({
          networks: [{ network, provider, relayer, assets, channels }],
          receiptTimeoutMs: timeout * 1000,
          receiverAuthorizer,
        });
        const server = await lib().listen(lib().createFacilitatorApp(facilitator, { apiKeys }), port, host);
        const gas = await provider.getBalance(relayer.address);
        ctx.out.result(
          [
            `x402 facilitator listening on ${server.url} (Ctrl-C to stop)`,
            ...table([
              ["network", network],
              ["relayer", `${relayer.address} (${formatAmount(gas, 18)} ETH for gas)`],
              ...assets.map((a): [string, string] => ["asset", `${a.address} (${a.name}, version ${a.version})`]),
              ["schemes", "exact, batch-settlement"],
              ["channels", `${channels.address} (collector ${channels.collector})`],
              [
                "receiver authorizer",
                receiverAuthorizer
                  ? `${receiverAuthorizer.address} (signs for ${apiKeys.length} API key${apiKeys.length === 1 ? "" : "s"})`
                  : "none (servers sign their own claims and refunds)",
              ],
              ["endpoints", "POST /verify, POST /settle, GET /supported, GET /health, GET /metrics"],
            ]),
          ],
          {
            command: "x402 facilitator",
            url: server.url,
            network,
            relayer: relayer.address,
            assets,
            channels,
            receiverAuthorizer: receiverAuthorizer?.address ?? null,
          },
        );
        await runUntilStopped([server]);
      }),
    );

  addCheckoutOptions(
    addSchemeOptions(
      x402.command("serve-demo"),
      "where the paywall keeps state (the channel store; which exact payments were served): a postgres:// URL, shared by several processes, or a directory (env NETD_DATABASE_URL; default .netd/db with batch-settlement)",
    ),
    "the routes priced in whole cents (GET /weather, POST /summarize)",
    "NET Dollar demo API",
  )
    .description("run a small paid API (GET /tick $0.0001, GET /joke $0.001, GET /weather $0.01, POST /summarize $0.05) taking NET Dollar over x402")
    .option("--port <port>", "port to listen on", "4021")
    .option("--host <host>", "interface to listen on (loopback unless you mean it)", "127.0.0.1")
    .option("--pay-to <address>", "who is paid (default: the configured key's address)")
    .option("--facilitator-url <url>", "an x402 facilitator to verify and settle with (default: one in process, relaying with the configured key)")
    .option("--mode <mode>", "settle-before-serve (default: nothing is served before the money moved) or verify-then-settle", "settle-before-serve")
    .option(
      "--split <address:bps>",
      "share the revenue: pay a revenue split of these recipients (repeat; created if needed; distributed on the claim interval and after each settle)",
      collect,
      [],
    )
    .addHelpText(
      "after",
      "\nWith --scheme batch-settlement the receiver authorizer (it signs claims and refunds) is NETD_RECEIVER_AUTHORIZER_KEY, else the configured key.\n" +
        "Claims run on their own: on the interval, on the threshold, and at once when a payer starts a timed withdrawal; a last one on Ctrl-C.\n\n" +
        "Examples (with NETD_PRIVATE_KEY set to the merchant's key, which also relays when the facilitator is in process):\n  $ netd x402 serve-demo --port 4021\n  $ netd x402 serve-demo --port 4021 --pay-to 0x90F79bf6EB2c4f870365E785982E1f101E93b906 --facilitator-url http://127.0.0.1:4020\n" +
        "  $ netd x402 serve-demo --port 4021 --scheme batch-settlement --claim-interval 30s --database .netd/db\n" +
        "  $ netd x402 serve-demo --port 4061 --split 0x90F79bf6EB2c4f870365E785982E1f101E93b906:7000 --split 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc:3000\n" +
        "  $ netd x402 serve-demo --port 4022 --checkout-key shop.jwk      # /weather and /summarize sold by AP2 checkout",
    )
    .action(
      action(
        (ctx) =>
          async (options: {
            port: string;
            host: string;
            payTo?: string;
            facilitatorUrl?: string;
            mode: string;
            scheme: string;
            database?: string;
            claimInterval: string;
            claimThreshold?: string;
            split: string[];
            checkoutKey?: string;
            merchantName: string;
          }) => {
            const port = parsePort(options.port);
            const host = parseHost(ctx, options.host);
            const { scheme, claimInterval, claimThreshold } = parseSchemeOptions(options);
            const checkout = checkoutSaleOf(options);
            if (options.mode !== "settle-before-serve" && options.mode !== "verify-then-settle") {
              throw new InvalidInputError(`--mode "${options.mode}" is not settle-before-serve or verify-then-settle`);
            }
            const facilitatorUrl = options.facilitatorUrl === undefined ? undefined : parseUrl(options.facilitatorUrl, "--facilitator-url");
            let payTo = options.payTo !== undefined ? parseAddress(options.payTo, "--pay-to") : (await ctx.signer()).address;
            let distributor: SplitDistributor | undefined;
            if (options.split.length) {
              if (options.payTo !== undefined) throw new InvalidInputError("give --pay-to or --split, not both: with --split the split is paid");
              const definition = splitDefinition(parseSplitShares(options.split, "--split"));
              const made = await ensureSplit(await ctx.splitFactory(), await ctx.signer(), definition);
              payTo = made.address;
              ctx.out.note(made.created ? `created the revenue split ${payTo} (${made.transaction})` : `paying the revenue split ${payTo}`);
              distributor = new SplitDistributor({
                signer: await ctx.signer(),
                token: (await ctx.deployment()).contracts.NetDollar.address,
                splits: [payTo],
                intervalMs: claimInterval * 1000,
                onEvent: (e) =>
                  ctx.out.note(
                    e.kind === "distributed"
                      ? `distributed ${formatDollars(e.amount)} from the split (${e.transaction})`
                      : `warning: distributing the split failed: ${e.message}`,
                  ),
              });
            }
            const network = lib().caip2(await ctx.chainId());
            const [asset] = await resolveAssets(ctx, []);
            const channels = await ctx.channels();
            const facilitator = await facilitatorFor(ctx, facilitatorUrl, network, asset, channels);
            let channelServer: ChannelServer | undefined;
            let db: Database | undefined;
            // The database: the channel store, and which exact payments were served (shared by processes, kept across
            // restarts). Without batch-settlement it is opened only when one is named.
            if (scheme === "batch-settlement" || options.database?.trim() || ctx.env.NETD_DATABASE_URL?.trim())
              db = await openDatabase(ctx.databaseLocation(options.database));
            if (scheme === "batch-settlement" && db)
              channelServer = await startChannelServer(ctx, db, {
                facilitator,
                network,
                asset,
                payTo,
                channels,
                claimInterval,
                claimThreshold,
                onSettled: () => void distributor?.distributeNow(),
              });
            const batch = channelServer?.batch;
            const app = lib().createDemoApi({
              payTo,
              network,
              asset,
              facilitator,
              mode: options.mode,
              batch,
              checkout,
              served: new (lib().ServedPayments)(db),
            });
            let server: RunningServer;
            try {
              server = await lib().listen(app, port, host);
            } catch (error) {
              await db?.close();
              throw error;
            }
            channelServer?.claimer.start();
            distributor?.start();
            ctx.out.result(
              [
                `x402 demo API listening on ${server.url} (Ctrl-C to stop)`,
                ...table([
                  ["pays to", distributor ? `${payTo} (a revenue split: ${options.split.join(", ")})` : payTo],
                  ["network", network],
                  ["asset", `${asset.address} (${asset.name})`],
                  ["facilitator", facilitatorUrl ? facilitatorUrl.toString() : "in process (relaying with the configured key)"],
                  ["mode", options.mode],
                  ["schemes", batch ? "batch-settlement, exact" : "exact"],
                  [
                    checkout ? "exact payments served, checkouts paid" : "exact payments served",
                    db
                      ? `recorded in ${db.kind} ${db.location}`
                      : "remembered in memory (give --database to share it between processes and keep it across restarts)",
                  ],
                  ...(channelServer?.rows ?? []),
                  ["GET /tick", "$0.0001"],
                  ["GET /joke", "$0.001"],
                  ["GET /weather", checkout ? "$0.01, by AP2 checkout signed by --checkout-key" : "$0.01"],
                  ["POST /summarize", checkout ? "$0.05, by AP2 checkout signed by --checkout-key" : "$0.05"],
                ]),
                "",
                batch ? `Try: netd pay ${server.url}/tick --scheme batch-settlement --deposit 0.01 --count 100` : `Try: netd pay ${server.url}/joke --max 0.01`,
              ],
              {
                command: "x402 serve-demo",
                url: server.url,
                payTo,
                network,
                asset: asset.address,
                mode: options.mode as PaywallMode,
                scheme,
                database: db ? { kind: db.kind, location: db.location } : null,
              },
            );
            await runUntilStopped([server], async () => {
              await channelServer?.stop();
              if (distributor) {
                await distributor.stop();
                await distributor.distributeNow();
              }
              await db?.close();
            });
          },
      ),
    );

  addCheckoutOptions(
    addSchemeOptions(
      x402.command("serve-mcp"),
      "where the exact payments served and (batch-settlement) the channel store are kept, a postgres:// URL or a directory (env NETD_DATABASE_URL; default .netd/db, opened for batch-settlement or when named)",
    ),
    "the forecast tool (whole cents; the joke, a tenth of a cent, is not)",
    "NET Dollar demo tools",
  )
    .description("run a demo MCP server whose tools cost NET Dollar over x402 (hello free, joke $0.001, forecast $0.01): streamable HTTP on loopback, or stdio")
    .option("--port <port>", "port of the streamable HTTP endpoint (POST /mcp)", "4071")
    .option("--host <host>", "interface to listen on (loopback unless you mean it)", "127.0.0.1")
    .option("--stdio", "speak MCP on stdin/stdout instead (for an MCP client that starts this command); notes go to stderr")
    .option("--pay-to <address>", "who is paid (default: the configured key's address)")
    .option("--facilitator-url <url>", "an x402 facilitator to verify and settle with (default: one in process, relaying with the configured key)")
    .addHelpText(
      "after",
      "\nWith --scheme batch-settlement every paid tool also takes a channel: a deposit once, then a voucher in each tools/call, claimed on\n" +
        "the interval (the receiver authorizer is NETD_RECEIVER_AUTHORIZER_KEY, else the configured key).\n\n" +
        "Examples (with NETD_PRIVATE_KEY set to the merchant's key):\n  $ netd x402 serve-mcp --port 4071\n" +
        "  $ netd x402 serve-mcp --port 4071 --scheme batch-settlement --claim-interval 30s\n" +
        "  $ netd x402 serve-mcp --stdio      # e.g. as the command of an MCP client's server entry\n" +
        "  $ netd x402 serve-mcp --port 4072 --checkout-key shop.jwk      # forecast sold by AP2 checkout: buyers need a checkout mandate",
    )
    .action(
      action(
        (ctx) =>
          async (
            options: {
              port: string;
              host: string;
              stdio?: boolean;
              payTo?: string;
              facilitatorUrl?: string;
              checkoutKey?: string;
              merchantName: string;
            } & SchemeOptions,
          ) => {
            const port = parsePort(options.port);
            const host = parseHost(ctx, options.host);
            const checkout = checkoutSaleOf(options);
            const { scheme, facilitatorUrl, payTo, network, asset, facilitator, paid } = await paidServerOf(ctx, options);
            const pricing = { payTo, network, asset, facilitator, served: new (lib().ServedPayments)(paid.db), ...paid.pricing, checkout };
            if (options.stdio) {
              const { StdioServerTransport } = loadStdio();
              const server = lib().createDemoMcpServer(pricing);
              const transport = new StdioServerTransport();
              ctx.out.note(`MCP server on stdio: tools hello (free), joke ($0.001), forecast ($0.01), paid to ${payTo} on ${network}`);
              await paid.serving(() => server.connect(transport));
              await new Promise<void>((resolve) => {
                transport.onclose = resolve;
                process.stdin.once("end", resolve);
                process.once("SIGINT", resolve);
                process.once("SIGTERM", resolve);
              });
              await server.close();
              await paid.stop();
              throw new ExitWithCode(0);
            }
            const server = await paid.serving(() =>
              lib().listen(
                lib().mcpHttpApp(() => lib().createDemoMcpServer(pricing)),
                port,
                host,
              ),
            );
            ctx.out.result(
              [
                `MCP server listening on ${server.url}/mcp (streamable HTTP; Ctrl-C to stop)`,
                ...table([
                  ["pays to", payTo],
                  ["network", network],
                  ["facilitator", facilitatorUrl ? facilitatorUrl.toString() : "in process (relaying with the configured key)"],
                  ["schemes", paid.server ? "batch-settlement, exact" : "exact"],
                  ...(paid.server?.rows ?? []),
                  ["served", paid.db ? `${paid.db.kind} ${paid.db.location} (exact payments, kept across restarts)` : "in memory (--database keeps them)"],
                  ["hello", "free"],
                  ["joke", "$0.001"],
                  ["forecast", checkout ? "$0.01 (argument: city), by AP2 checkout signed by --checkout-key" : "$0.01 (argument: city)"],
                ]),
              ],
              { command: "x402 serve-mcp", url: `${server.url}/mcp`, payTo, network, asset: asset.address, scheme },
            );
            await runUntilStopped([server], paid.stop);
          },
      ),
    );

  addCheckoutOptions(
    addSchemeOptions(
      x402.command("serve-a2a"),
      "where the tasks, the exact payments taken and (batch-settlement) the channel store are kept, a postgres:// URL or a directory (env NETD_DATABASE_URL; default .netd/db, opened for batch-settlement or when named)",
    ),
    "each report",
    "NET Dollar demo reports",
  )
    .description("run a demo merchant agent over A2A (JSON-RPC, a2a-x402 v0.2): it sells a market report for $0.01, paid in the task before it is written")
    .option("--port <port>", "port (the agent card is at /.well-known/agent-card.json)", "4081")
    .option("--host <host>", "interface to listen on (loopback unless you mean it)", "127.0.0.1")
    .option("--price <dollars>", "the price of a report", "0.01")
    .option("--pay-to <address>", "who is paid (default: the configured key's address)")
    .option("--require-mandate", "refuse payments that carry no AP2 mandate (the terms say so; exact payments only)")
    .option("--facilitator-url <url>", "an x402 facilitator to verify and settle with (default: one in process, relaying with the configured key)")
    .addHelpText(
      "after",
      "\nWith --scheme batch-settlement a report can also be paid by a voucher in the task (a channel deposit the first time), claimed on the interval.\n\n" +
        "Examples (with NETD_PRIVATE_KEY set to the merchant's key):\n  $ netd x402 serve-a2a --port 4081\n" +
        "  $ netd x402 serve-a2a --port 4081 --price 0.001 --scheme batch-settlement\n" +
        "  $ netd x402 serve-a2a --port 4081 --checkout-key shop.jwk      # sells by AP2 checkout: buyers need a checkout mandate",
    )
    .action(
      action(
        (ctx) =>
          async (
            options: {
              port: string;
              host: string;
              price: string;
              payTo?: string;
              requireMandate?: boolean;
              checkoutKey?: string;
              merchantName: string;
              facilitatorUrl?: string;
            } & SchemeOptions,
          ) => {
            const port = parsePort(options.port);
            const host = parseHost(ctx, options.host);
            const price = parseAmount(options.price, "--price");
            const checkout = checkoutSaleOf(options, { id: "report", title: "a market report" });
            if (checkout && ap2().toMinorUnits(price) === undefined)
              throw new InvalidInputError(`--price ${options.price} is not whole cents, which a checkout prices in`);
            // A mandate closes one exact payment: a merchant that requires one cannot also take vouchers.
            if (options.requireMandate && options.scheme !== "exact")
              throw new InvalidInputError("--require-mandate sells by exact payments only (a mandate closes one payment): leave out --scheme batch-settlement");
            const { scheme, facilitatorUrl, payTo, network, asset, facilitator, paid } = await paidServerOf(ctx, options);
            const server = await paid.serving(() =>
              lib().serveA2AMerchant(
                { name: "netd-demo-reports", description: "sells market reports for NET Dollar" },
                {
                  resource: "a2a://netd-demo-reports/report",
                  description: "a market report",
                  price: `$${formatAmount(price)}`,
                  payTo,
                  network,
                  asset,
                  facilitator,
                  ...paid.pricing,
                  mandates: { required: options.requireMandate ?? false },
                  checkout,
                  served: new (lib().ServedPayments)(paid.db),
                  run: async (topic) => `Market report on ${topic || "stablecoins"}: volumes up 12% this quarter, fees down 3%.`,
                },
                port,
                host,
                { tasks: paid.db ? new (lib().DatabaseTaskStore)(paid.db) : undefined },
              ),
            );
            ctx.out.result(
              [
                `A2A merchant agent listening on ${server.url} (agent card at /.well-known/agent-card.json; Ctrl-C to stop)`,
                ...table([
                  ["sells", `a market report for ${formatDollars(price)}, paid over x402 in the task`],
                  ["pays to", payTo],
                  ["network", network],
                  [
                    "mandates",
                    checkout
                      ? "required: by checkout (each task's checkout signed by --checkout-key)"
                      : options.requireMandate
                        ? "required"
                        : "checked when a payment carries one",
                  ],
                  ["facilitator", facilitatorUrl ? facilitatorUrl.toString() : "in process (relaying with the configured key)"],
                  ["schemes", paid.server ? "batch-settlement, exact" : "exact"],
                  ...(paid.server?.rows ?? []),
                  [
                    "tasks",
                    paid.db
                      ? `${paid.db.kind} ${paid.db.location} (kept across restarts)`
                      : "in memory (a restart forgets tasks waiting for payment; --database keeps them)",
                  ],
                ]),
                paid.server
                  ? `Try: netd x402 buy ${server.url} "stablecoins" --max ${formatAmount(price)} --scheme batch-settlement --deposit ${formatAmount(price * 20n)}`
                  : checkout
                    ? `Try: netd x402 buy ${server.url} "stablecoins" --mandate mandate.sdjwt --checkout-mandate checkout.sdjwt --agent-key agent.jwk`
                    : `Try: netd x402 buy ${server.url} "stablecoins" --max 0.05`,
              ],
              { command: "x402 serve-a2a", url: server.url, payTo, network, asset: asset.address, price, scheme },
            );
            await runUntilStopped([server], paid.stop);
          },
      ),
    );

  addPayingSchemeOptions(addMandateOptions(x402.command("buy")))
    .description("buy a task from a merchant agent over A2A (a2a-x402): ask, pay the x402 payment it asks for with the configured key, print the result")
    .argument("<agent-url>", "the merchant agent (its agent card is at <agent-url>/.well-known/agent-card.json)")
    .argument("<request>", "what to ask for")
    .option("--max <dollars>", "the most to pay (refuses anything dearer without signing)", "0.10")
    .addHelpText(
      "after",
      "\nExit codes: 0 bought, 1 the agent refused or failed, 2 bad input, or the price is above --max or outside the mandate.\n\nExamples:\n" +
        '  $ netd x402 buy http://127.0.0.1:4081 "stablecoins" --max 0.05\n' +
        '  $ netd x402 buy http://127.0.0.1:4081 "stablecoins" --mandate mandate.sdjwt --agent-key agent.jwk\n' +
        '  $ netd x402 buy http://127.0.0.1:4081 "stablecoins" --mandate mandate.sdjwt --checkout-mandate checkout.sdjwt --agent-key agent.jwk\n' +
        '  $ netd x402 buy http://127.0.0.1:4081 "stablecoins" --max 0.01 --scheme batch-settlement --deposit 0.05',
    )
    .action(
      action(
        (ctx) =>
          async (agentUrl: string, request: string, options: { max: string; mandate?: string; agentKey?: string; ledger?: string } & PayingSchemeOptions) => {
            const url = parseUrl(agentUrl, "<agent-url>");
            const { client: paying, mandate } = await payingClientOf(ctx, options);
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { ClientFactory } = require("@a2a-js/sdk/client") as typeof import("@a2a-js/sdk/client", { with: { "resolution-mode": "import" } });
            let client;
            try {
              client = await new ClientFactory().createFromUrl(url.toString().replace(/\/$/, ""));
            } catch (error) {
              throw new NetDollarError(`could not reach a merchant agent at ${url}: ${(error as Error).message}`, { details: "nothing was paid" });
            }
            let purchase;
            try {
              purchase = await new (lib().PayingA2AClient)(client, paying).buy(request, url.host);
            } catch (error) {
              if (error instanceof NetDollarError) throw new InvalidInputError(error.shortMessage, { details: "nothing was signed or paid" });
              throw error;
            }
            const meta = (purchase.task.status?.message?.metadata ?? {}) as Record<string, unknown>;
            const p = purchase.payment;
            ctx.out.result(
              [
                ...(purchase.result ? [purchase.result, ""] : []),
                ...table([["payment", String(meta["x402.payment.status"] ?? "(none asked)")], ...(p ? receiptRows(p) : []), ...mandateRows(mandate)]),
              ],
              {
                command: "x402 buy",
                result: purchase.result ?? null,
                paymentStatus: meta["x402.payment.status"] ?? null,
                payment: p ?? null,
                taskId: purchase.task.id,
              },
            );
            if (!purchase.result || p?.status !== "settled") throw new ExitWithCode(1);
          },
      ),
    );

  registerMcpClientCommands(x402);

  addPayingSchemeOptions(addMandateOptions(program.command("pay")))
    .description("fetch a URL, paying its HTTP 402 (x402) in NET Dollar with the configured key; prints the response and the receipt")
    .argument("<url>", "the paid resource")
    .option("--max <amount>", "the most to pay per call, in dollars (refuses anything dearer without signing)", "0.10")
    .option("--method <method>", "HTTP method", "GET")
    .option("--data <body>", "request body (sent as JSON when it parses as JSON)")
    .option("--asset <address>", "a token it may pay with (repeatable; default the deployment's NetDollar)", collect, [])
    .option("--count <n>", "call the URL n times (over one channel, with batch-settlement)", "1")
    .option("--parallel <n>", "with --count: this many calls in flight at once", "1")
    .addHelpText(
      "after",
      "\nExit codes: 0 paid and served (2xx, every call), 1 the server refused or failed, 2 bad input, or the price is above --max or outside the mandate.\n\nExamples:\n" +
        "  $ netd pay http://127.0.0.1:4021/joke --max 0.01\n" +
        '  $ netd pay http://127.0.0.1:4021/summarize --method POST --data \'{"text":"pay per call"}\' --json\n' +
        "  $ netd pay http://127.0.0.1:4021/tick --scheme batch-settlement --deposit 0.02 --max 0.01 --count 100 --parallel 10\n" +
        "  $ netd pay http://127.0.0.1:4021/weather --mandate mandate.sdjwt --agent-key agent.jwk",
    )
    .action(
      action(
        (ctx) =>
          async (
            url: string,
            options: {
              max: string;
              method: string;
              data?: string;
              asset: string[];
              scheme: string;
              deposit?: string;
              state: string;
              count: string;
              parallel: string;
              mandate?: string;
              agentKey?: string;
              ledger?: string;
            },
          ) => {
            let target: URL;
            try {
              target = new URL(url);
            } catch {
              throw new InvalidInputError(`"${url}" is not a URL`);
            }
            if (target.protocol !== "http:" && target.protocol !== "https:") throw new InvalidInputError(`"${url}" is not an http(s) URL`);
            const method = options.method.toUpperCase();
            if (!/^[A-Z]+$/.test(method)) throw new InvalidInputError(`--method "${options.method}" is not an HTTP method`);
            const count = parseCount(options.count, "--count", 1_000_000);
            const parallel = parseCount(options.parallel, "--parallel", 1_000);
            const { client, mandate, scheme } = await payingClientOf(ctx, options);
            const headers: Record<string, string> = {};
            let body: string | undefined;
            if (options.data !== undefined) {
              body = options.data;
              try {
                JSON.parse(options.data);
                headers["content-type"] = "application/json";
              } catch {
                headers["content-type"] = "text/plain";
              }
            }
            const call = async (): Promise<Response> => {
              try {
                return await client.fetch(target, { method, headers, body });
              } catch (error) {
                if (error instanceof NetDollarError)
                  throw new InvalidInputError(error.shortMessage, {
                    details: client.payments.length ? "the calls before it were paid" : "nothing was signed or paid",
                  });
                const why = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
                throw new NetDollarError(`could not fetch ${target}: ${why}`, {
                  details: client.payments.length ? "the calls before it were paid" : "nothing was paid",
                });
              }
            };
            if (count > 1) {
              const started = Date.now();
              const statuses = new Map<number, number>();
              let next = 0;
              await Promise.all(
                Array.from({ length: Math.min(parallel, count) }, async () => {
                  while (next < count) {
                    next++;
                    const res = await call();
                    await res.arrayBuffer();
                    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
                  }
                }),
              );
              const seconds = (Date.now() - started) / 1000;
              const settled = client.payments.filter((p) => p.status === "settled");
              const paid = settled.reduce((sum, p) => sum + p.amount, 0n);
              const deposited = client.payments.reduce((sum, p) => sum + (p.deposit ?? 0n), 0n);
              const served = statuses.get(200) ?? 0;
              ctx.out.result(
                [
                  `${count} call${count === 1 ? "" : "s"} to ${method} ${target}: ${served} served in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)}/s)`,
                  ...table([
                    ["paid", `${formatDollars(paid)} in ${settled.length} payment${settled.length === 1 ? "" : "s"} (${scheme})`],
                    ...(scheme === "batch-settlement"
                      ? ([["deposited", `${formatDollars(deposited)} into channel ${settled[0]?.nonce ?? client.payments[0]?.nonce ?? "(none)"}`]] as [
                          string,
                          string,
                        ][])
                      : []),
                    ["answers", [...statuses.entries()].map(([status, n]) => `${n} × HTTP ${status}`).join(", ")],
                    ["payer", await (await ctx.signer()).getAddress()],
                  ]),
                ],
                {
                  command: "pay",
                  url: target.toString(),
                  count,
                  served,
                  statuses: Object.fromEntries(statuses),
                  paid,
                  deposited,
                  seconds,
                  payments: settled.length,
                },
              );
              if (served !== count) throw new ExitWithCode(1);
              return;
            }
            const res = await call();
            const text = await res.text();
            const payment: PaymentRecord | undefined = client.payments.at(-1);
            const receipt: [string, string][] = payment
              ? [...receiptRows(payment), ["payer", payment.payer], ["network", payment.network], ...mandateRows(mandate, payment)]
              : [["paid", "nothing (the resource did not ask for payment)"]];
            if (ctx.out.json) {
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
              ctx.out.result([], { command: "pay", url: target.toString(), httpStatus: res.status, body: parsed, payment: payment ?? null });
            } else if (res.status === 402 && payment) {
              // Refused: the reason in words, not the 402's JSON.
              let why = text;
              try {
                const body = JSON.parse(text) as { error?: string; message?: string };
                why = body.message ? `${body.error}: ${body.message}` : (body.error ?? text);
              } catch {
                // not JSON: print it as it came
              }
              ctx.out.note([`the server refused the payment: ${why}`, "", `HTTP ${res.status}`, ...table(receipt)].join("\n"));
            } else {
              process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
              ctx.out.note(["", `HTTP ${res.status}`, ...table(receipt)].join("\n"));
            }
            if (!res.ok) throw new ExitWithCode(1);
          },
      ),
    );
}
