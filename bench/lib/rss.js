// Preloaded into a child process by the benchmarks (node --require): reports its peak resident memory on exit.
"use strict";
process.on("exit", () => {
  process.stderr.write(`\n[bench] maxRSS_kB=${process.resourceUsage().maxRSS}\n`);
});
