import { describe, expect, it } from 'vitest';
import { dnfRunsInLog, peakConcurrency } from '../../src/compose/taskLog.js';

const log = [
  '==== 2026-12-01T03:00:00.000Z core-common-x86_64: seeded from /x: 3 files linked, 1 left to dnf (changed upstream or not wanted)',
  '==== 2026-12-01T03:00:00.100Z core-common-x86_64 attempt 1: dnf reposync --repoid core-common',
  'Downloading Packages:',
  '==== 2026-12-01T03:00:02.000Z core-common-x86_64 attempt 1: killed by SIGKILL',
  '==== 2026-12-01T03:00:03.000Z core-common-x86_64 attempt 2: dnf reposync --repoid core-common',
  '==== 2026-12-01T03:00:04.500Z core-common-x86_64 attempt 2: exit 0',
].join('\n');

describe('dnfRunsInLog', () => {
  it('pairs each dnf start with its end line and ignores the other log lines', () => {
    expect(dnfRunsInLog(log)).toEqual([
      { label: 'core-common-x86_64 attempt 1', startMs: Date.parse('2026-12-01T03:00:00.100Z'), endMs: Date.parse('2026-12-01T03:00:02.000Z') },
      { label: 'core-common-x86_64 attempt 2', startMs: Date.parse('2026-12-01T03:00:03.000Z'), endMs: Date.parse('2026-12-01T03:00:04.500Z') },
    ]);
  });

  it('leaves a run without an end line open', () => {
    expect(dnfRunsInLog('==== 2026-12-01T03:00:00.000Z t attempt 1: dnf reposync')[0]!.endMs).toBeNull();
  });
});

describe('peakConcurrency', () => {
  const run = (startMs: number, endMs: number | null) => ({ label: 'x', startMs, endMs });
  it('counts the runs in progress at once; touching ends and starts do not overlap', () => {
    expect(peakConcurrency([run(0, 10), run(10, 20), run(20, 30)])).toBe(1);
    expect(peakConcurrency([run(0, 10), run(5, 20), run(6, 7), run(15, 30)])).toBe(3);
    expect(peakConcurrency([run(0, null), run(100, 200)])).toBe(2);
    expect(peakConcurrency([])).toBe(0);
  });
});
