// `npm run demo` compiles first: the compiler's output (OpenZeppelin's note on transient storage, which its
// ReentrancyGuardTransient uses as intended) is shown only when compiling fails, so the story starts the screen.
const { spawnSync } = require("node:child_process");

const run = spawnSync(process.execPath, [require.resolve("hardhat/internal/cli/bootstrap"), "compile", "--quiet"], { encoding: "utf8" });
if (run.status !== 0) {
  process.stdout.write(run.stdout ?? "");
  process.stderr.write(run.stderr ?? "");
  process.exit(run.status ?? 1);
}
