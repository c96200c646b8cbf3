// Reads back when each dnf run of a compose began and ended, from the task logs runReposyncTask writes
// (`==== <ISO time> <task> attempt <n>: dnf <args>` before dnf starts, `==== <ISO time> <task> attempt <n>: exit 0`,
// `killed by …`, `could not start: …` or `cancelled` after it). Pure text: the bench and the tests read the logs.

export interface DnfRun {
  /** `<task> attempt <n>`. */
  label: string;
  startMs: number;
  /** Null when the log has no end line (dnf still running, or the worker died). */
  endMs: number | null;
}

const LINE = /^==== (\d{4}-\d\d-\d\dT[0-9:.]+Z) (.+?): (dnf |exit |killed by |could not start|cancelled)/;

/** Every dnf run the log text records, in the order they began. */
export function dnfRunsInLog(text: string): DnfRun[] {
  const runs: DnfRun[] = [];
  const open = new Map<string, DnfRun>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]!);
    const label = m[2]!;
    if (m[3] === 'dnf ') {
      const run = { label, startMs: at, endMs: null };
      runs.push(run);
      open.set(label, run);
    } else {
      const run = open.get(label);
      if (run) {
        run.endMs = at;
        open.delete(label);
      }
    }
  }
  return runs;
}

/** The largest number of runs in progress at one instant (a run ending at t and another starting at t do not overlap). */
export function peakConcurrency(runs: readonly DnfRun[]): number {
  const points: Array<[number, number]> = [];
  for (const r of runs) {
    points.push([r.startMs, 1]);
    points.push([r.endMs ?? Number.POSITIVE_INFINITY, -1]);
  }
  // Ends before starts at the same instant.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of points) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}
