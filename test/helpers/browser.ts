import { existsSync } from "node:fs";
import type { Browser } from "puppeteer-core";

/**
 * Headless Chromium for the suites a person would look at: Debian's `chromium` (or NETD_CHROMIUM), driven by
 * puppeteer-core, which downloads nothing. Without a browser the suite says it is skipped; with
 * `NETD_REQUIRE_CHROMIUM=1` (CI) a skip is a failure, so CI cannot pass without having run it.
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.NETD_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Call in a `before` hook: launches the browser, or skips the suite (saying why) when there is none. */
export async function launchBrowserOrSkip(ctx: Mocha.Context): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    if (process.env.NETD_REQUIRE_CHROMIUM === "1") throw new Error("NETD_REQUIRE_CHROMIUM=1 but no Chromium was found: the browser suites must run here");
    console.log("      [chromium] skipped: install Debian's chromium (apt-get install chromium) or set NETD_CHROMIUM to run the browser test (CI does)");
    ctx.skip();
  }
  const puppeteer = await import("puppeteer-core");
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start. The page is our own, served on loopback.
  return puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
