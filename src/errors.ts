/**
 * One error tree for the whole library. Every error a user can cause is a {@link NetDollarError} with a short
 * message, optional details (what was given, what was expected) and an optional cause. The CLI prints the message
 * and details, never a stack trace, and maps the class to an exit code.
 */
export interface NetDollarErrorOptions {
  /** More about the problem: the input that was rejected, the figures involved, what to do. */
  details?: string;
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

export class NetDollarError extends Error {
  override name = "NetDollarError";
  readonly shortMessage: string;
  readonly details?: string;

  constructor(shortMessage: string, options: NetDollarErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n${options.details}` : shortMessage, { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
  }
}

/** The user's input is malformed or not allowed (CLI exit code 2). */
export class InvalidInputError extends NetDollarError {
  override name = "InvalidInputError";
}

/** The configuration (key, endpoint, deployment file) is missing or inconsistent (CLI exit code 2). */
export class ConfigurationError extends NetDollarError {
  override name = "ConfigurationError";
}

/** The chain refused the operation: a revert, decoded into plain words where possible (CLI exit code 1). */
export class ChainRefusedError extends NetDollarError {
  override name = "ChainRefusedError";
  /** The custom error's name, e.g. `NetDollarMinterAllowanceExceeded`, when it could be decoded. */
  readonly errorName?: string;
  /** The custom error's arguments, when it could be decoded. */
  readonly errorArgs?: readonly unknown[];

  constructor(shortMessage: string, options: NetDollarErrorOptions & { errorName?: string; errorArgs?: readonly unknown[] } = {}) {
    super(shortMessage, options);
    this.errorName = options.errorName;
    this.errorArgs = options.errorArgs;
  }
}

/** The endpoint could not be reached or answered nonsense (CLI exit code 1). */
export class ChainUnreachableError extends NetDollarError {
  override name = "ChainUnreachableError";
}

/**
 * A schema's refusal in one line, naming each wrong field by its path (`root` names the value itself), e.g.
 * "payload.authorization.to: not an address; amount: Required".
 */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, root = "(root)"): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || root}: ${i.message}`).join("; ");
}
