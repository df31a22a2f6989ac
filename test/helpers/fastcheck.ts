import type fc from "fast-check";

/**
 * fast-check parameters for the property-based suites. `npm test` runs each suite's short budget with a fresh seed,
 * printed so that a failure can be replayed; `npm run test:invariants` raises the budget (FC_NUM_RUNS) for the long
 * run (FC_NUM_RUNS, or FC_NUM_RUNS_<NAME> for one suite). To replay a failure exactly: FC_SEED=<seed> FC_PATH=<path> (both are in fast-check's failure report).
 */
export function fcParameters<T>(name: string, defaults: { numRuns: number }): fc.Parameters<T> {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
  // FC_NUM_RUNS_<NAME> (e.g. FC_NUM_RUNS_TOKEN) sets one suite's budget; FC_NUM_RUNS every suite's.
  const perSuite = process.env[`FC_NUM_RUNS_${name.toUpperCase()}`];
  const numRuns = perSuite ? Number(perSuite) : process.env.FC_NUM_RUNS ? Number(process.env.FC_NUM_RUNS) : defaults.numRuns;
  console.log(`      [fast-check ${name}] seed=${seed} runs=${numRuns}${process.env.FC_PATH ? ` path=${process.env.FC_PATH}` : ""}`);
  return { seed, numRuns, path: process.env.FC_PATH, endOnFailure: true };
}
