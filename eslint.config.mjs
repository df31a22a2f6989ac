// ESLint for the TypeScript: the recommended rules of ESLint and typescript-eslint (syntax only, so it runs in
// seconds). Formatting is Prettier's (.prettierrc.json): eslint-config-prettier turns off the rules it decides.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "typechain-types/", "artifacts/", "cache/", "coverage/", "coverage.json", "bench/results/", ".netd/", "deployments/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // `_`-prefixed names are unused on purpose (a callback's position, a destructured field left out).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // The CLI's entry point, the coverage config and a bench helper are CommonJS run by Node directly.
    files: ["**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly", console: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
