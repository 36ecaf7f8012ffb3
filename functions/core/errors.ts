/**
 * Named errors. The command line maps them to exit codes: bad usage or bad input is 2,
 * anything else is 1.
 */

/** The caller asked for something malformed: unknown command, bad flag, bad date. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A configuration file or value failed validation; the message names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An input file could not be read as a whole (missing, unreadable, unknown format). */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

/** A query failed in the engine; carries the step it belonged to when there is one. */
export class QueryFailedError extends Error {
  override readonly name = 'QueryFailedError';
  constructor(
    message: string,
    readonly step?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A table a step wrote breaks its definition in the table dictionary (a null where none is
 * allowed, a duplicate key, a rate outside [0, 1]...): the run stops before anything is published.
 */
export class DataTestFailedError extends Error {
  override readonly name = 'DataTestFailedError';
  constructor(
    message: string,
    /** One line per failing test: table.column test, how many rows, and examples. */
    readonly failures: readonly string[],
  ) {
    super(message);
  }
}

/** True for errors that mean "the caller got it wrong" rather than "the system failed". */
export function isUserError(error: unknown): boolean {
  return error instanceof UsageError || error instanceof ConfigError || error instanceof InputFileError;
}
