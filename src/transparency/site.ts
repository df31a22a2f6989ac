import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { listen, type RunningServer } from "../x402/facilitatorServer";
import type { TransparencyData } from "./data";
import { CHART_JS_FILE, CHART_JS_NAME, renderTransparencyPage } from "./page";

/** The page's figures as JSON (amounts as decimal strings of base units), for machines: `data.json` beside the page. */
export function transparencyJson(data: TransparencyData): string {
  return JSON.stringify(data, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
}

/**
 * Writes the static site: `index.html`, `data.json` and the chart library. Anyone can host the directory; it reads
 * nothing at view time but the files beside it.
 *
 * @example
 * buildTransparencySite("site", await readTransparency({ document, providers, trustedAttestors }));
 */
export function buildTransparencySite(dir: string, data: TransparencyData): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, "index.html"), path.join(dir, "data.json"), path.join(dir, CHART_JS_NAME)];
  writeFileSync(files[0], renderTransparencyPage(data));
  writeFileSync(files[1], transparencyJson(data));
  copyFileSync(CHART_JS_FILE, files[2]);
  return files;
}

/**
 * Serves the page on `host` (loopback by default), read afresh from the chains at most every `refreshSeconds`
 * (default 15): `/` (the page), `/data.json`, and the chart library. A read that fails answers 503 with the reason;
 * the next request tries again.
 */
export function serveTransparency(params: {
  load: () => Promise<TransparencyData>;
  port?: number;
  host?: string;
  refreshSeconds?: number;
}): Promise<RunningServer> {
  const chartJs = readFileSync(CHART_JS_FILE);
  let cached: { at: number; data: Promise<TransparencyData> } | undefined;
  const current = () => {
    const now = Date.now();
    if (!cached || now - cached.at > (params.refreshSeconds ?? 15) * 1000) {
      const data = params.load();
      cached = { at: now, data };
      data.catch(() => (cached = undefined));
    }
    return cached.data;
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain; charset=utf-8", "only GET\n");
    if (url.pathname === `/${CHART_JS_NAME}`) return send(200, "text/javascript; charset=utf-8", chartJs);
    if (url.pathname !== "/" && url.pathname !== "/index.html" && url.pathname !== "/data.json") return send(404, "text/plain; charset=utf-8", "not found\n");
    current().then(
      (data) =>
        url.pathname === "/data.json"
          ? send(200, "application/json", transparencyJson(data))
          : send(200, "text/html; charset=utf-8", renderTransparencyPage(data)),
      (error: unknown) => send(503, "text/plain; charset=utf-8", `the figures could not be read: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  };
  return listen(handler, params.port ?? 0, params.host ?? "127.0.0.1");
}
