// `sigrelease schedule ...` refuses bad input before it loads the Temporal SDK (README "CLI start-up": a refusal
// costs what the config check costs). Every schedule case of bad-input-cases.ts runs with a module hook that makes
// any import of a @temporalio package fail with a marker; a refusal must still be exit code 2 naming the value.
// The control: a good `schedule list` gets past the checks, so it does import the SDK, and the hook catches it.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CASES, caseFolder, closedPort, runCli, type BadInputCase } from './bad-input-cases.js';

const TRIPWIRE = fileURLToPath(new URL('./sdk-tripwire.mjs', import.meta.url));

const SCHEDULE_CASES: BadInputCase[] = [
  ...CASES.filter((c) => c.args[0] === 'schedule'),
  { name: 'schedule create: --days that is no day', args: ['schedule', 'create', '--release', '9', '--sig', 'core', '--days', 'someday'], says: ['--days', 'someday'] },
  { name: 'schedule create: --timezone that is no zone', args: ['schedule', 'create', '--release', '9', '--sig', 'core', '--timezone', 'Mars/Base'], says: ['Mars/Base'] },
  { name: 'schedule prune: unknown SIG', args: ['schedule', 'prune', '9', 'cor'], says: ['cor'] },
  { name: 'schedule prune: --at 24:00', args: ['schedule', 'prune', '--at', '24:00'], says: ['--at', '24:00'] },
  { name: 'schedule prune: --timezone that is no zone', args: ['schedule', 'prune', '--timezone', 'Mars/Base'], says: ['Mars/Base'] },
];

describe('schedule refusals without the Temporal SDK', () => {
  it('refuses every bad schedule input with exit code 2 before any @temporalio package is imported', async () => {
    const { dir, env } = caseFolder(`127.0.0.1:${await closedPort()}`);
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const tripwired = { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${TRIPWIRE}`.trim() };
    expect(SCHEDULE_CASES.length).toBeGreaterThanOrEqual(13);
    for (let i = 0; i < SCHEDULE_CASES.length; i += 2) {
      const batch = SCHEDULE_CASES.slice(i, i + 2);
      const results = await Promise.all(batch.map((c) => runCli(c.args, tripwired)));
      batch.forEach((c, j) => {
        const r = results[j]!;
        expect.soft(r.stderr, `${c.name}: imported the SDK before refusing`).not.toContain('SDK-TRIPWIRE');
        expect.soft(r.exitCode, `${c.name}: exit code (stderr: ${r.stderr.trim()})`).toBe(2);
        for (const s of c.says) expect.soft(r.stderr, `${c.name}: names ${JSON.stringify(s)}`).toContain(s);
      });
    }
  }, 600_000);

  it('the hook does catch the SDK: a good schedule list gets past the checks and imports it', async () => {
    const { dir, env } = caseFolder(`127.0.0.1:${await closedPort()}`);
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const r = await runCli(['schedule', 'list', '--sig', 'core'], { ...env, NODE_OPTIONS: `--import=${TRIPWIRE}` });
    expect(r.stderr).toContain('SDK-TRIPWIRE: @temporalio/');
    expect(r.exitCode).not.toBe(0);
  }, 120_000);
});
