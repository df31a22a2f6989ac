export * from "./types";
export * from "./sign";
