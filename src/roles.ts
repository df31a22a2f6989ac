import { ZeroHash, id } from "ethers";
import { InvalidInputError } from "./errors";

/**
 * The token's roles by their CLI names. `admin` (DEFAULT_ADMIN_ROLE) is listed for reading; it is transferred in
 * two steps with a delay, never granted.
 */
export const ROLES = {
  admin: { constant: "DEFAULT_ADMIN_ROLE", id: ZeroHash },
  "minter-admin": { constant: "MINTER_ADMIN_ROLE", id: id("MINTER_ADMIN_ROLE") },
  pauser: { constant: "PAUSER_ROLE", id: id("PAUSER_ROLE") },
  blocklister: { constant: "BLOCKLISTER_ROLE", id: id("BLOCKLISTER_ROLE") },
  seizer: { constant: "SEIZER_ROLE", id: id("SEIZER_ROLE") },
  rescuer: { constant: "RESCUER_ROLE", id: id("RESCUER_ROLE") },
  upgrader: { constant: "UPGRADER_ROLE", id: id("UPGRADER_ROLE") },
  redeemer: { constant: "REDEEMER_ROLE", id: id("REDEEMER_ROLE") },
} as const;

export type RoleName = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

/**
 * Parses a role name as the CLI takes it: "pauser", "minter-admin", or the Solidity constant "PAUSER_ROLE".
 *
 * @example
 * parseRole("PAUSER_ROLE") // "pauser"
 */
export function parseRole(input: string): RoleName {
  const text = input.trim();
  for (const name of ROLE_NAMES) {
    if (text.toLowerCase() === name || text.toUpperCase() === ROLES[name].constant) return name;
  }
  throw new InvalidInputError(`unknown role "${input}"`, { details: `roles: ${ROLE_NAMES.join(", ")}` });
}

/** The readable name of a role id, e.g. "PAUSER_ROLE", or the id itself when unknown. */
export function roleLabel(roleId: string): string {
  const entry = Object.values(ROLES).find((r) => r.id === roleId.toLowerCase() || r.id === roleId);
  return entry ? entry.constant : roleId;
}
