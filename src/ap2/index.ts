export * from "./schemas";
export * from "./sdjwt";
export * from "./mandates";
export * from "./wallet";
export * from "./audit";
export * from "./checkout";
