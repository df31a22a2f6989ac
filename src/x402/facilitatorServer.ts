import { timingSafeEqual } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { REASON } from "./reasons";
import { NetDollarError } from "../errors";
import type { NetDollarFacilitator } from "./facilitator";

/** Below this gas balance a relayer is reported as degraded by /health (0.01 ETH). */
const LOW_BALANCE_WEI = 10n ** 16n;

export interface FacilitatorAppOptions {
  /**
   * Bearer tokens of the servers allowed to have this facilitator sign as their `batch-settlement` receiver
   * authorizer (claims and refunds): `Authorization: Bearer <key>` on POST /settle.
   */
  apiKeys?: string[];
}

/**
 * The facilitator's HTTP API: POST /verify, POST /settle, GET /supported (x402 v2), plus GET /health and
 * GET /metrics (Prometheus text). Malformed requests get HTTP 400 with the protocol's reason string; verification and
 * settlement outcomes, valid or not, get HTTP 200, as the reference facilitator client expects.
 */
export function createFacilitatorApp(facilitator: NetDollarFacilitator, options: FacilitatorAppOptions = {}): express.Express {
  const app = express();
  const started = Date.now();
  const keys = (options.apiKeys ?? []).filter((k) => k.length > 0).map((k) => Buffer.from(k));
  const authenticated = (req: Request): boolean => {
    const header = req.get("authorization");
    const presented = header?.startsWith("Bearer ") ? Buffer.from(header.slice(7).trim()) : undefined;
    return presented !== undefined && keys.some((k) => k.length === presented.length && timingSafeEqual(k, presented));
  };
  app.disable("x-powered-by");
  // A batch-settlement claim of a hundred channels is about 70 kB of JSON.
  app.use(express.json({ limit: "1mb" }));

  const body = (req: Request) => (req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : undefined);

  app.post("/verify", async (req, res) => {
    const b = body(req);
    if (!b?.paymentPayload || !b.paymentRequirements) {
      res.status(400).json({
        isValid: false,
        invalidReason: REASON.invalidPayload,
        invalidMessage: "the body must be { x402Version, paymentPayload, paymentRequirements }",
      });
      return;
    }
    res.json(await facilitator.verify(b.paymentPayload, b.paymentRequirements));
  });

  app.post("/settle", async (req, res) => {
    const b = body(req);
    if (!b?.paymentPayload || !b.paymentRequirements) {
      res.status(400).json({
        success: false,
        errorReason: REASON.invalidPayload,
        errorMessage: "the body must be { x402Version, paymentPayload, paymentRequirements }",
        transaction: "",
        network: "",
      });
      return;
    }
    res.json(await facilitator.settle(b.paymentPayload, b.paymentRequirements, { authenticated: authenticated(req) }));
  });

  app.get("/supported", async (_req, res) => {
    res.json(await facilitator.supported());
  });

  app.get("/health", async (_req, res) => {
    try {
      const relayers = await facilitator.relayers();
      const degraded = relayers.some((r) => r.balance < LOW_BALANCE_WEI);
      res.status(degraded ? 503 : 200).json({
        status: degraded ? "degraded" : "ok",
        uptimeSeconds: Math.floor((Date.now() - started) / 1000),
        relayers: relayers.map((r) => ({ ...r, balance: r.balance.toString(), lowBalance: r.balance < LOW_BALANCE_WEI })),
      });
    } catch (error) {
      res.status(503).json({ status: "unavailable", error: error instanceof Error ? error.message.split("\n")[0] : String(error) });
    }
  });

  app.get("/metrics", async (_req, res) => {
    const relayers = await facilitator.relayers().catch(() => []);
    res.type(facilitator.metrics.contentType).send(await facilitator.metrics.render(relayers));
  });

  // Malformed JSON and oversized bodies: a protocol answer, not an HTML error page.
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    res
      .status(error.status && error.status < 500 ? error.status : 400)
      .json({ isValid: false, invalidReason: REASON.invalidPayload, invalidMessage: `the request body is not valid JSON: ${error.message}` });
  });
  return app;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on `host` (loopback unless told otherwise) and `port` (0: any free port). */
export function listen(app: express.Express | RequestListener, port: number, host = "127.0.0.1"): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer(app);
    const failed = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      // Not bad input: the machine refused (exit 1).
      if (error.code === "EADDRINUSE")
        reject(new NetDollarError(`port ${port} on ${host} is in use (is another server running there?); choose another with --port`));
      else if (error.code === "EACCES") reject(new NetDollarError(`not allowed to listen on ${where}`));
      else if (error.code === "EADDRNOTAVAIL") reject(new NetDollarError(`cannot listen on ${where}: no such address on this machine`));
      else reject(new NetDollarError(`cannot listen on ${where}: ${error.message}`));
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      const address = server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
