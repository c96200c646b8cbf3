// Reading failures for people, and the CLI's error type and exit codes. No Node built-ins and no imports:
// workflow code uses innermostMessage, and every command refuses bad input with CliError before any heavy
// module (the Temporal SDK) is loaded or any server is contacted.

/**
 * The innermost cause's message: for an activity failure, the activity's own words (task name, last log lines)
 * rather than the wrappers' ("Activity task failed", "Child Workflow execution failed").
 */
export function innermostMessage(e: unknown): string {
  let err = e as { cause?: unknown; message?: string } | undefined;
  for (let depth = 0; err?.cause && depth < 20; depth++) err = err.cause as typeof err;
  return err?.message ?? String(e);
}

export class CliError extends Error {
  /** `cause`: the error behind this one, whose stack `--debug` shows. */
  constructor(message: string, readonly exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const EXIT = { ok: 0, failed: 1, badInput: 2, notFound: 3, conflict: 4, notPromoted: 5 } as const;
