import type { Command } from "commander";
import { CliContext, type GlobalOptions } from "./context";

/** A command body: gets the context, then commander's positional arguments and options. */
export type CommandBody = (ctx: CliContext) => (...args: never[]) => Promise<void>;

/**
 * Adapts a command body to commander: builds the context from the global options (flags, then environment).
 * Errors propagate to the one top-level handler in cli/index.ts, which prints them and sets the exit code.
 */
export function action(body: CommandBody): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new CliContext(command.optsWithGlobals<GlobalOptions>());
    await (body(ctx) as (...a: unknown[]) => Promise<void>)(...args.slice(0, -1));
  };
}

/** Thrown by a command that printed its own result and ends with a chosen exit code (e.g. a check's verdict). */
export class ExitWithCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
