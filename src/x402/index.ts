export * from "./reasons";
export * from "./money";
export * from "./facilitator";
export * from "./facilitatorServer";
export * from "./paywall";
export * from "./client";
export * from "./demoApi";
