// Durations as people type them ("90s", "10 minutes", "3d", "2 hours"), in milliseconds: the one duration
// grammar of the site config, the runtime options, the CLI and the workflows. Pure, for workflow code.
const UNITS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

export function durationMs(value: string | number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(String(value));
  const unit = (m?.[2] ?? 'ms').toLowerCase();
  const factor = UNITS[unit];
  if (!m || factor === undefined) throw new Error(`not a duration: ${JSON.stringify(value)} (use e.g. "30s", "10 minutes", "3d")`);
  return Number(m[1]) * factor;
}

/** True when `value` is a duration in this grammar (with `positive`: longer than zero). */
export function isDuration(value: unknown, opts: { positive?: boolean } = {}): boolean {
  if (typeof value !== 'string') return false;
  try {
    const ms = durationMs(value);
    return opts.positive ? ms > 0 : true;
  } catch {
    return false;
  }
}
