import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isHexString } from "ethers";
import { z } from "zod";
import { ConfigurationError, describeIssues } from "./errors";

const address = z
  .string()
  .refine((v): boolean => isHexString(v, 20), "not an address")
  .transform((v) => getAddress(v.toLowerCase()));
const txHash = z.string().refine((v): boolean => isHexString(v, 32), "not a transaction hash");

/**
 * One deployed contract; `implementation` is set for contracts behind a proxy. `txHash` is absent for a contract
 * this deployment uses but did not deploy (the reference batch-settlement contracts at their canonical addresses),
 * and then `blockNumber` is the block at which it was found.
 */
export const ContractRecordSchema = z.object({
  address,
  implementation: address.optional(),
  blockNumber: z.number().int().nonnegative(),
  txHash: txHash.optional(),
});

/** `deployments/<chainId>.json`, written by `netd deploy`. */
export const DeploymentSchema = z.object({
  chainId: z.number().int().positive(),
  deployer: address,
  /** Version of this package that deployed it. */
  version: z.string(),
  contracts: z.object({ NetDollar: ContractRecordSchema }).catchall(ContractRecordSchema),
  /** Role name → holder at deployment, e.g. { "admin": "0x…", "pauser": "0x…" }. */
  roles: z.record(z.string(), address),
});

export type ContractRecord = z.infer<typeof ContractRecordSchema>;
export type Deployment = z.infer<typeof DeploymentSchema>;

/** Where a chain's deployment is kept unless --deployment / NETD_DEPLOYMENT says otherwise. */
export function defaultDeploymentPath(chainId: bigint | number, root = process.cwd()): string {
  return path.join(root, "deployments", `${chainId}.json`);
}

/** Reads and validates a deployment file. */
export function readDeployment(file: string): Deployment {
  if (!existsSync(file)) {
    throw new ConfigurationError(`no deployment file at ${file}`, {
      details: "run `netd deploy` first, or point --deployment (NETD_DEPLOYMENT) at the right file",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ConfigurationError(`deployment file ${file} is not valid JSON`, { cause });
  }
  const parsed = DeploymentSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new ConfigurationError(`deployment file ${file} is malformed`, { details: issues });
  }
  return parsed.data;
}

/** Reads a deployment file and checks that it belongs to the chain the endpoint serves. */
export function readDeploymentFor(file: string, chainId: bigint): Deployment {
  const deployment = readDeployment(file);
  if (BigInt(deployment.chainId) !== chainId) {
    throw new ConfigurationError(`deployment file ${file} is for chain ${deployment.chainId}, but the endpoint serves chain ${chainId}`, {
      details: "use the deployment file of this chain, or the endpoint of that chain",
    });
  }
  return deployment;
}

/** Reads a deployment file if it exists (for re-runs of `netd deploy`). */
export function tryReadDeployment(file: string): Deployment | undefined {
  return existsSync(file) ? readDeployment(file) : undefined;
}

export function writeDeployment(file: string, deployment: Deployment): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
}
