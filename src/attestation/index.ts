export * from "./typedData";
export * from "./document";
export * from "./chain";
export * from "./create";
export * from "./check";
export * from "./render";
