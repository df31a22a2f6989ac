#!/usr/bin/env node
// Entry point of `npx netd`: runs the TypeScript CLI straight from src/. Type-checking is done by `npm test`
// (`tsc --noEmit`); here each .ts file is only transpiled, by swc, which keeps start-up well under a second
// (ts-node's register alone costs ~0.7 s, most of it loading the TypeScript compiler).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const swc = require("@swc/core");

const ROOT = path.join(__dirname, "..");
const NODE_MODULES = path.join(ROOT, "node_modules") + path.sep;
// The same output as ts-node with `swc: true` and this project's tsconfig (target es2022, CommonJS, ES2022 class
// fields), with source maps so that a stack trace points at the TypeScript line.
const SWC_OPTIONS = {
  swcrc: false,
  configFile: false,
  sourceMaps: "inline",
  module: { type: "commonjs" },
  jsc: { parser: { syntax: "typescript" }, target: "es2022", keepClassNames: true, transform: { useDefineForClassFields: true } },
};

process.setSourceMapsEnabled(true);
require.extensions[".ts"] = function compileTypeScript(module, filename) {
  if (filename.startsWith(NODE_MODULES)) throw new Error(`netd does not transpile dependencies: ${filename}`);
  const { code } = swc.transformSync(fs.readFileSync(filename, "utf8"), { ...SWC_OPTIONS, filename });
  module._compile(code, filename);
};

const { main } = require("../src/cli/index.ts");
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
