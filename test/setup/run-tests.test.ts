import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module of the CI script, without type declarations
import { summarize, summaryLine } from '../../scripts/test-summary.mjs';

type Summary = { passed: number; failed: number; skipped: number; notes: string[] };
const sum = summarize as (report: unknown, vitestStatus: number, typecheckStatus: number) => Summary;

const report = (over: Record<string, unknown> = {}) => ({
  numPassedTests: 3,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }],
  ...over,
});

describe('the line CI reads agrees with the exit status', () => {
  it('counts a failed test, a file that broke without one, a failed type check and a missing report', () => {
    expect(sum(report(), 0, 0)).toMatchObject({ passed: 3, failed: 0 });
    expect(sum(report({ numFailedTests: 2, testResults: [{ status: 'failed', assertionResults: [{ status: 'failed' }] }] }), 1, 0).failed).toBe(2);
    expect(sum(report({ testResults: [{ status: 'failed', assertionResults: [] }] }), 1, 0).failed).toBe(1);
    expect(sum(report(), 0, 2)).toMatchObject({ failed: 1, notes: ['the type check (tsc --noEmit) failed'] });
    expect(sum(undefined, 1, 0)).toMatchObject({ passed: 0, failed: 1 });
    expect(summaryLine(sum(report({ numPendingTests: 1, numTodoTests: 1 }), 0, 0))).toBe('3 passed, 0 failed, 2 skipped');
  });

  it('counts vitest exiting non-zero with every test passed as a failure, and says why', () => {
    const s = sum(report(), 1, 0);
    expect(summaryLine(s)).toBe('3 passed, 1 failed');
    expect(s.notes[0]).toMatch(/vitest exited 1 without a failed test/);
  });
});

describe('scripts/run-tests.sh (the body of ./dev test), with its two commands replaced', () => {
  let results: string;
  beforeEach(() => {
    results = mkdtempSync(join(tmpdir(), 'run-tests-'));
  });
  afterEach(() => rmSync(results, { recursive: true, force: true }));

  // The stand-in for vitest writes the report a run would and records the TMPDIR the script gave it.
  const vitest = (json: object, status = 0) =>
    `echo "$TMPDIR" > "${results}/tmpdir"; echo '${JSON.stringify(json)}' > "${results}/vitest.json"; exit ${status}`;
  const run = (vitestCmd: string, tscCmd: string) =>
    execa('bash', ['scripts/run-tests.sh'], {
      reject: false,
      env: { SIGRELEASE_TEST_RESULTS: results, SIGRELEASE_TEST_VITEST_CMD: vitestCmd, SIGRELEASE_TEST_TSC_CMD: tscCmd },
    });
  const lastLine = (out: string) => out.trim().split('\n').at(-1);

  it('exits 0 when all passed, whether the type check ends before or after the tests, and removes its TMPDIR', async () => {
    for (const tsc of ['true', 'sleep 0.5']) {
      const r = await run(vitest(report()), tsc);
      expect(lastLine(r.stdout), r.stderr).toBe('3 passed, 0 failed');
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      const tmp = readFileSync(join(results, 'tmpdir'), 'utf8').trim();
      expect(tmp).toMatch(/sigrelease-test\./);
      expect(existsSync(tmp)).toBe(false);
    }
  });

  it('exits 1 and counts one failure when vitest fails without a failed test', async () => {
    const r = await run(vitest(report(), 1), 'true');
    expect(lastLine(r.stdout)).toBe('3 passed, 1 failed');
    expect(r.exitCode).toBe(1);
  });

  it('exits 1 and prints the type errors when the type check fails', async () => {
    const r = await run(vitest(report()), 'echo "src/x.ts(1,1): error TS2322: nope"; exit 2');
    expect(r.stdout).toContain('error TS2322: nope');
    expect(lastLine(r.stdout)).toBe('3 passed, 1 failed');
    expect(r.exitCode).toBe(1);
  });

  it('exits 1 when a test failed, and when no report was written', async () => {
    const failed = await run(vitest(report({ numFailedTests: 1, testResults: [{ status: 'failed', assertionResults: [{ status: 'failed' }] }] }), 1), 'true');
    expect(lastLine(failed.stdout)).toBe('3 passed, 1 failed');
    expect(failed.exitCode).toBe(1);
    const none = await run('exit 1', 'true');
    expect(lastLine(none.stdout)).toBe('0 passed, 1 failed');
    expect(none.exitCode).toBe(1);
  });
});
