// Reading failures for people. No Node built-ins: workflow code uses this too.

/**
 * The innermost cause's message: for an activity failure, the activity's own words (task name, last log lines)
 * rather than the wrappers' ("Activity task failed", "Child Workflow execution failed").
 */
export function innermostMessage(e: unknown): string {
  let err = e as { cause?: unknown; message?: string } | undefined;
  for (let depth = 0; err?.cause && depth < 20; depth++) err = err.cause as typeof err;
  return err?.message ?? String(e);
}
