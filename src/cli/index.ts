import { Command, CommanderError } from "commander";
import dotenv from "dotenv";
import { ChainRefusedError, ChainUnreachableError, ConfigurationError, InvalidInputError, NetDollarError } from "../errors";
import { PACKAGE_VERSION } from "../version";
import { collect } from "./parse";
import { registerAdminCommands } from "./commands/admin";
import { ExitWithCode } from "./action";
import { registerAttestationCommands } from "./commands/attest";
import { registerAuthorizationCommands } from "./commands/authorize";
import { registerChannelCommands } from "./commands/channel";
import { registerKeystoreCommands } from "./commands/keystore";
import { registerMandateCommands } from "./commands/mandate";
import { registerDeployCommands } from "./commands/deploy";
import { registerEscrowCommands } from "./commands/escrow";
import { registerEventCommands } from "./commands/events";
import { registerIssuanceCommands } from "./commands/issuance";
import { registerReserveCommands } from "./commands/reserve";
import { registerSplitCommands } from "./commands/split";
import { registerTokenCommands } from "./commands/token";
import { registerTransparencyCommands } from "./commands/transparency";
import { registerX402Commands } from "./commands/x402";
import { toJson } from "./output";

/** Exit codes: 0 success, 1 the chain refused or could not be reached, 2 bad input or usage. */
export const EXIT = { ok: 0, chain: 1, input: 2 } as const;

export function buildProgram(): Command {
  const program = new Command("netd")
    .description("NET Dollar operator CLI: deploy, mint, redeem, administer and pay")
    .version(PACKAGE_VERSION)
    .option(
      "--rpc-url <url>",
      "JSON-RPC endpoint (env NETD_RPC_URL; default http://127.0.0.1:8545); repeat for the multi-chain commands (attest create|check, transparency)",
      collect,
    )
    .option("--deployment <file>", "deployment file (env NETD_DEPLOYMENT; default deployments/<chainId>.json)")
    .option("--keystore <file>", "encrypted JSON keystore to sign with (env NETD_KEYSTORE; or NETD_PRIVATE_KEY)")
    .option("--json", "machine-readable output on stdout, nothing else there")
    .option("-y, --yes", "send transactions without asking for confirmation")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 the chain refused or could not be reached, 2 bad input or usage.\nKeys: NETD_PRIVATE_KEY, or NETD_KEYSTORE with NETD_KEYSTORE_PASSWORD (asked on a terminal when unset). See .env.example.",
    );
  registerDeployCommands(program);
  registerTokenCommands(program);
  registerIssuanceCommands(program);
  registerAdminCommands(program);
  registerEventCommands(program);
  registerAuthorizationCommands(program);
  registerEscrowCommands(program);
  registerAttestationCommands(program);
  registerReserveCommands(program);
  registerTransparencyCommands(program);
  registerX402Commands(program);
  registerChannelCommands(program);
  registerSplitCommands(program);
  registerMandateCommands(program);
  registerKeystoreCommands(program);
  const walk = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(walk);
  };
  walk(program);
  return program;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof InvalidInputError || error instanceof ConfigurationError) return EXIT.input;
  if (error instanceof ChainRefusedError || error instanceof ChainUnreachableError) return EXIT.chain;
  return EXIT.chain;
}

/** Runs the CLI; returns the exit code. One top-level handler prints every error without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  dotenv.config({ quiet: true });
  const program = buildProgram();
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ExitWithCode) return error.code; // the command printed its own result
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    const code = exitCodeOf(error);
    if (error instanceof NetDollarError) {
      if (json) {
        process.stdout.write(toJson({ ok: false, error: { kind: error.name, message: error.shortMessage, details: error.details } }) + "\n");
      }
      process.stderr.write(`error: ${error.shortMessage}\n${error.details ? `  ${error.details.replace(/\n/g, "\n  ")}\n` : ""}`);
    } else {
      // Not a mistake of the user's: say so, and keep the stack for a bug report.
      process.stderr.write(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.NETD_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ""}\n`);
      else process.stderr.write("  (set NETD_DEBUG=1 for the stack trace, and please report it)\n");
      if (json) process.stdout.write(toJson({ ok: false, error: { kind: "InternalError", message: String(error) } }) + "\n");
    }
    return code;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT.chain;
    },
  );
}
