import type fc from "fast-check";

/**
 * fast-check parameters for the property-based suites. `npm test` runs each suite's short budget with a fresh seed,
 * printed so that a failure can be replayed; `npm run test:invariants` raises the budget (FC_NUM_RUNS) for the long
 * run. To replay a failure exactly: FC_SEED=<seed> FC_PATH=<path> (both are in fast-check's failure report).
 */
export function fcParameters<T>(name: string, defaults: { numRuns: number }): fc.Parameters<T> {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
  const numRuns = process.env.FC_NUM_RUNS ? Number(process.env.FC_NUM_RUNS) : defaults.numRuns;
  console.log(`      [fast-check ${name}] seed=${seed} runs=${numRuns}${process.env.FC_PATH ? ` path=${process.env.FC_PATH}` : ""}`);
  return { seed, numRuns, path: process.env.FC_PATH, endOnFailure: true };
}
