import path from "node:path";
import { subtask, type HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import "@openzeppelin/hardhat-upgrades";
import dotenv from "dotenv";

dotenv.config({ quiet: true });

/**
 * Compilers cannot be downloaded on our machines (nor on many CI runners): compile with the solc-js build that
 * ships in the pinned npm package `solc`. Bump the package version and SOLC_VERSION together.
 */
const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version(),
  };
});

/** Mocha workers for `hardhat test --parallel`: MOCHA_JOBS, default 2 (the CI machine's cores). */
function mochaJobs(): number {
  const raw = process.env.MOCHA_JOBS?.trim();
  if (!raw) return 2;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new Error(`MOCHA_JOBS must be a whole number of workers, at least 1; got "${raw}"`);
  return Number(raw);
}

/** The devnet's chain id: NETD_DEVNET_CHAIN_ID (set by `netd devnet --chains 2` for its second node), default 31337. */
function devnetChainId(): number {
  const raw = process.env.NETD_DEVNET_CHAIN_ID?.trim();
  if (!raw) return 31337;
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new Error(`NETD_DEVNET_CHAIN_ID must be a chain id (a whole number); got "${raw}"`);
  return Number(raw);
}

/**
 * The task on the command line (`hardhat [global options] <task> ...`): the first word that is neither a global
 * option nor the value of one.
 */
function taskName(argv: string[]): string | undefined {
  const withValue = new Set(["--network", "--config", "--max-memory", "--tsconfig"]);
  for (let i = 0; i < argv.length; i++) {
    if (withValue.has(argv[i])) i++;
    else if (!argv[i].startsWith("-")) return argv[i];
  }
  return undefined;
}

/**
 * `hardhat coverage` compiles instrumented contracts. They get their own artifacts and cache, and no typechain
 * output, so the real build (artifacts/, cache/, typechain-types/) survives a coverage run untouched and nothing needs
 * recompiling after it. The coverage suites deploy from the artifacts (`ethers.getContractFactory`), never from the
 * typechain factories' bytecode.
 */
const COVERAGE = taskName(process.argv.slice(2)) === "coverage";

const config: HardhatUserConfig = {
  ...(COVERAGE ? { paths: { artifacts: "coverage-artifacts", cache: "coverage-cache" } } : {}),
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 10_000 } } }],
    overrides: {
      "contracts/escrow/ConditionalEscrow.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 10_000 } },
      },
      "contracts/channels/BatchSettlement.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 10_000 } },
      },
      "contracts/channels/ERC3009DepositCollector.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 10_000 } },
      },
      "contracts/splits/RevenueSplit.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 10_000 } },
      },
      "contracts/splits/RevenueSplitFactory.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 10_000 } },
      },
    },
  },
  networks: {
    hardhat: {
      hardfork: "cancun",
      chainId: devnetChainId(),
      // Keep the devnet's clock on the wall clock, as a real chain's is: otherwise every block in the same second
      // pushes the chain a second ahead, and after a burst of transactions (a load test, a demo) payment
      // authorizations signed for "now + 60 s" are already expired on chain.
      allowBlocksWithSameTimestamp: true,
    },
    localhost: {
      url: "http://127.0.0.1:8545",
    },
    // Any EVM chain, for scripts that need Hardhat plugins (the upgrade script): NETD_RPC_URL and NETD_PRIVATE_KEY.
    target: {
      url: process.env.NETD_RPC_URL ?? "http://127.0.0.1:8545",
      accounts: process.env.NETD_PRIVATE_KEY ? [process.env.NETD_PRIVATE_KEY] : [],
    },
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
    dontOverrideCompile: COVERAGE,
  },
  mocha: {
    timeout: 120_000,
    // Used by `hardhat test --parallel` (npm test): one worker per core, each with its own in-process network.
    jobs: mochaJobs(),
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "1",
  },
};

export default config;
