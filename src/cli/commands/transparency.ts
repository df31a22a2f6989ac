import type { Command } from "commander";
import { readAttestationDocument } from "../../attestation";
import { connectEach } from "../../provider";
import { buildTransparencySite, readTransparency, serveTransparency, type TransparencyData } from "../../transparency";
import { action } from "../action";
import type { CliContext } from "../context";
import { table } from "../output";
import { collect, parseAddress, parseCount, parseDuration, parsePort } from "../parse";
import { parseHost, runUntilStopped } from "../serve";

interface SourceOptions {
  rpcUrl: string[];
  trustedAttestor: string[];
  maxAge: string;
}

/** What both commands read from: the attestation, an endpoint per chain, the attestors to trust, the maximum age. */
function addSourceOptions(command: Command): Command {
  return command
    .argument("<attestation>", "the latest signed attestation")
    .option("--rpc-url <url>", "an endpoint per chain the attestation covers (repeat); default: the global endpoint", collect, [])
    .requiredOption("--trusted-attestor <address>", "an attestor to trust (repeat)", collect, [])
    .option("--max-age <duration>", "show the attestation as stale when older than this", "35d");
}

/** Reads the page's figures through the library (the checker's code), with a progress bar on a terminal. */
function loader(ctx: CliContext, file: string, o: SourceOptions): () => Promise<TransparencyData> {
  const trustedAttestors = o.trustedAttestor.map((a) => parseAddress(a, "--trusted-attestor"));
  const maxAgeSeconds = parseDuration(o.maxAge, "--max-age", { requireUnit: true });
  const urls = ctx.rpcUrls(o.rpcUrl);
  readAttestationDocument(file); // bad input fails before anything listens
  return async () => {
    const document = readAttestationDocument(file);
    const { providers, unreachable } = await connectEach(urls);
    const progress = ctx.progress();
    try {
      return await readTransparency({ document, providers, unreachable, trustedAttestors, maxAgeSeconds, onProgress: (p) => progress?.update(p) });
    } finally {
      progress?.done();
      providers.forEach((p) => p.destroy());
    }
  };
}

function summary(data: TransparencyData): [string, string][] {
  return [
    ["verdict", data.check.verdict + (data.check.stale ? " (stale attestation)" : "")],
    ["as of", data.check.asOf],
    ["chains", data.chains.map((c) => `${c.chainId}${c.unreadable ? " (could not be read)" : ""}`).join(", ")],
    ["rounds charted", String(data.history.length)],
  ];
}

/** `netd transparency build|serve`: the reserves page for holders and auditors. */
export function registerTransparencyCommands(program: Command): void {
  const transparency = program.command("transparency").description("the reserves transparency page: build a static site, or serve it live");

  addSourceOptions(
    transparency
      .command("build")
      .description("write the page as a static site (index.html, data.json, the chart library) that anyone can host")
      .requiredOption("--out <dir>", "directory to write"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ netd transparency build attestation.signed.json --rpc-url http://127.0.0.1:8545 --rpc-url http://127.0.0.1:8546 \\\n" +
        "      --trusted-attestor 0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f --out site",
    )
    .action(
      action((ctx) => async (file: string, o: SourceOptions & { out: string }) => {
        const data = await loader(ctx, file, o)();
        const files = buildTransparencySite(o.out, data);
        ctx.out.result([`Transparency page written to ${files[0]}`, ...table(summary(data))], {
          command: "transparency build",
          files,
          verdict: data.check.verdict,
          stale: data.check.stale,
          unreadable: data.chains.filter((c) => c.unreadable).map((c) => c.chainId),
        });
      }),
    );

  addSourceOptions(
    transparency
      .command("serve")
      .description("serve the page on loopback, read afresh from the chains at most every --refresh")
      .option("--port <port>", "port to listen on", "4080")
      .option("--host <host>", "interface to listen on (loopback unless you mean it)", "127.0.0.1")
      .option("--refresh <seconds>", "read the chains again at most this often", "15"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ netd transparency serve attestation.signed.json --trusted-attestor 0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f --port 4080",
    )
    .action(
      action((ctx) => async (file: string, o: SourceOptions & { port: string; host: string; refresh: string }) => {
        const port = parsePort(o.port);
        const host = parseHost(ctx, o.host);
        const refreshSeconds = parseCount(o.refresh, "--refresh", 86_400);
        const load = loader(ctx, file, o);
        const server = await serveTransparency({ load, port, host, refreshSeconds });
        ctx.out.result([`Transparency page listening on ${server.url} (Ctrl-C to stop)`], { command: "transparency serve", url: server.url });
        await runUntilStopped([server]);
      }),
    );
}
