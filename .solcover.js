// solidity-coverage: `npm run coverage`. Thresholds are enforced by scripts/check-coverage.ts.
module.exports = {
  // Test-only contracts (mocks and benchmark baselines) are not part of the product.
  skipFiles: ["mocks/"],
  // ConditionalEscrow compiles with viaIR; instrumented, it needs the Yul optimizer's stack handling.
  configureYulOptimizer: true,
  istanbulReporter: ["text-summary", "json-summary", "lcov", "text"],
};
