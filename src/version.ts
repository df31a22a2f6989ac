/** This package's version, recorded in every deployment file. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const PACKAGE_VERSION: string = (require("../package.json") as { version: string }).version;
