#!/usr/bin/env node
// Entry point of `npx netd`: runs the TypeScript CLI through ts-node (type-checking is done by `npm test`,
// so here it only transpiles, which keeps start-up fast).
"use strict";
const path = require("node:path");
require("ts-node").register({
  transpileOnly: true,
  swc: true,
  project: path.join(__dirname, "..", "tsconfig.json"),
  compilerOptions: { module: "commonjs" },
});
const { main } = require("../src/cli/index.ts");
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
