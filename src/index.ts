/**
 * The NET Dollar library: everything the CLI, the demo and the servers use, for programs of your own. Import from
 * here (`import { PayingClient, parseAmount } from "<path to this repository>/src"`); modules not re-exported here
 * are internal and may change. See README.md, "Layout", for where each rule lives.
 */
export * from "./amounts";
export * from "./addresses";
export * from "./errors";
export { toNetDollarError, decodeRevert, walkError, DESCRIBED_ERRORS, type DecodeContext } from "./decode";
export * from "./roles";
export * from "./provider";
export * from "./tx";
export * from "./deployments";
export * from "./eip712";
export * from "./token/status";
export * from "./token/events";
export * from "./token/authorizations";
export * from "./token/authorizationDocument";
export * from "./escrow/payment";
export * from "./escrow/actions";
export * from "./attestation";
export * from "./transparency";
export * from "./x402";
export * from "./splits";
export * from "./ap2";
export { openDatabase, DEFAULT_DATABASE_DIR, type Database } from "./db";
export { NetDollar__factory, NetDollarV2__factory, ConditionalEscrow__factory, ReserveOracle__factory, BatchSettlement__factory } from "../typechain-types";
export type { NetDollar, NetDollarV2, ConditionalEscrow, ReserveOracle, BatchSettlement } from "../typechain-types";
