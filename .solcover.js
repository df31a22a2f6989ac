// solidity-coverage: `npm run coverage`. Thresholds are enforced by scripts/check-coverage.ts.
module.exports = {
  // Test-only contracts (mocks and benchmark baselines) are not part of the product; imports/ only compiles OpenZeppelin files for their typed factories.
  skipFiles: ["mocks/", "imports/"],
  // ConditionalEscrow compiles with viaIR; instrumented, it needs the Yul optimizer's stack handling.
  configureYulOptimizer: true,
  istanbulReporter: ["text-summary", "json-summary", "lcov", "text"],
};
