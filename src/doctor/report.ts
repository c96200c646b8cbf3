// What `sigrelease doctor` found: one line per check, in plain words. Pure.

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
export type CheckArea = 'tools' | 'config' | 'roots' | 'temporal';

export interface Check {
  area: CheckArea;
  /** What was checked, e.g. `rsync`, `staging root`, `search attribute SigName`. */
  what: string;
  status: CheckStatus;
  /** What was found, and for a problem what to do about it. */
  detail: string;
}

export const check = (area: CheckArea, what: string, status: CheckStatus, detail: string): Check => ({ area, what, status, detail });

/** All is well when nothing failed; warnings are worth reading but do not stop a release. */
export const allWell = (checks: readonly Check[]) => checks.every((c) => c.status !== 'fail');

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };
const AREAS: CheckArea[] = ['tools', 'config', 'roots', 'temporal'];

export function formatReport(checks: readonly Check[]): string {
  const lines: string[] = [];
  for (const area of AREAS) {
    const mine = checks.filter((c) => c.area === area);
    if (mine.length === 0) continue;
    lines.push(area);
    for (const c of mine) lines.push(`  ${LABEL[c.status]}  ${c.what}: ${c.detail}`);
  }
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  lines.push(
    fails === 0
      ? `all is well${warns ? ` (${plural(warns, 'warning')})` : ''}`
      : `${plural(fails, 'problem')}${warns ? `, ${plural(warns, 'warning')}` : ''}: this host is not ready to run releases`,
  );
  return lines.join('\n');
}
