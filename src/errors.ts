// The CLI's error type and exit codes, in a module that loads nothing else: every command refuses bad input
// with these before any heavy module (the Temporal SDK) is loaded or any server is contacted.

export class CliError extends Error {
  /** `cause`: the error behind this one, whose stack `--debug` shows. */
  constructor(message: string, readonly exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const EXIT = { ok: 0, failed: 1, badInput: 2, notFound: 3, conflict: 4, notPromoted: 5 } as const;
