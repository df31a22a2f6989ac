import type { Command } from "commander";
import { ConfigurationError } from "../../errors";
import { createKeystore, promptHidden } from "../../keys";
import { action } from "../action";
import type { CliContext } from "../context";

/** The new keystore's password: NETD_KEYSTORE_PASSWORD, or asked twice on the terminal. */
async function newPassword(ctx: CliContext): Promise<string> {
  const given = ctx.env.NETD_KEYSTORE_PASSWORD;
  if (given !== undefined) return given;
  if (!process.stdin.isTTY)
    throw new ConfigurationError("the keystore needs a password", { details: "set NETD_KEYSTORE_PASSWORD, or run on a terminal to be asked for it" });
  const first = await promptHidden("New keystore password: ");
  const again = await promptHidden("Once more: ");
  if (first !== again) throw new ConfigurationError("the two passwords differ; nothing was written");
  return first;
}

/** keystore create and import: encrypted JSON keystores for NETD_KEYSTORE / --keystore. */
export function registerKeystoreCommands(program: Command): void {
  const keystore = program.command("keystore").description("encrypted JSON keystores (for NETD_KEYSTORE or --keystore): create a new key, or import one");

  keystore
    .command("create")
    .description("create a new random key in an encrypted keystore file (password: NETD_KEYSTORE_PASSWORD or asked)")
    .argument("<file>", "where to write it (never overwritten; readable by you only)")
    .addHelpText("after", "\nExample:\n  $ netd keystore create keys/minter.json\n  (then: NETD_KEYSTORE=keys/minter.json npx netd status)")
    .action(
      action((ctx) => async (file: string) => {
        const { address } = await createKeystore({ file, password: await newPassword(ctx) });
        ctx.out.result([`Created ${file} for ${address}`, "Keep the password and a copy of the file: without them the key is lost."], {
          command: "keystore create",
          file,
          address,
        });
      }),
    );

  keystore
    .command("import")
    .description("encrypt the key in NETD_PRIVATE_KEY into a keystore file, so that it need not stay in the environment")
    .argument("<file>", "where to write it (never overwritten; readable by you only)")
    .addHelpText("after", "\nExample (with NETD_PRIVATE_KEY set to the key to import):\n  $ netd keystore import keys/minter.json")
    .action(
      action((ctx) => async (file: string) => {
        const privateKey = ctx.env.NETD_PRIVATE_KEY;
        if (!privateKey) throw new ConfigurationError("set NETD_PRIVATE_KEY to the key to import");
        const { address } = await createKeystore({ file, password: await newPassword(ctx), privateKey });
        ctx.out.result([`Imported the key of ${address} into ${file}`, "You can now unset NETD_PRIVATE_KEY and use NETD_KEYSTORE."], {
          command: "keystore import",
          file,
          address,
        });
      }),
    );
}
