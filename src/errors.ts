// The CLI's error type and exit codes, in a module that loads nothing else: every command refuses bad input
// with these before any heavy module (the Temporal SDK) is loaded or any server is contacted.

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export const EXIT = { ok: 0, failed: 1, badInput: 2, notFound: 3, conflict: 4, notPromoted: 5 } as const;
