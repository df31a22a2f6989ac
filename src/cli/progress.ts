/** Where a block scan is. */
export interface ScanProgress {
  fromBlock: number;
  toBlock: number;
  scannedTo: number;
  /** Events found so far, when counted. */
  events?: number;
  /** What is being scanned, e.g. "deployment 1/2". */
  label?: string;
}

/** A progress bar on stderr for a block scan, redrawn at most ten times a second; `done()` ends its line. */
export function progressBar(): { update(p: ScanProgress): void; done(): void } {
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const nowMs = Date.now();
      if (nowMs - last < 100 && p.scannedTo < p.toBlock) return;
      last = nowMs;
      drawn = true;
      const span = Math.max(1, p.toBlock - p.fromBlock + 1);
      const fraction = Math.min(1, Math.max(0, (p.scannedTo - p.fromBlock + 1) / span));
      const width = 30;
      const filled = Math.round(fraction * width);
      const parts = [
        `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`,
        ...(p.label ? [p.label] : []),
        `block ${p.scannedTo}/${p.toBlock}`,
        ...(p.events !== undefined ? [`${p.events.toLocaleString("en-US")} events`] : []),
      ];
      process.stderr.write(`\r${parts.join("  ")}`);
    },
    done() {
      if (drawn) process.stderr.write("\n");
    },
  };
}
