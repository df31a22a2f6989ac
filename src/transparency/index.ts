export * from "./data";
export * from "./page";
export * from "./site";
