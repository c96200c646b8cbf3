// With no Temporal server reachable, every command refuses bad input with exit code 2 and one line naming the
// value: the input is checked before anything connects (a connection attempt would say "cannot reach Temporal").
import { describe, expect, it } from 'vitest';
import { CASES, closedPort, runCases } from './bad-input-cases.js';

describe('bad input with no server reachable', () => {
  it('refuses every case of every command with exit code 2 and one line naming the value', async () => {
    const results = await runCases(`127.0.0.1:${await closedPort()}`);
    const commands = new Set(CASES.map((c) => c.args.find((a) => !a.startsWith('-') && !a.startsWith('/'))));
    expect([...commands].sort()).toEqual(['approve', 'cancel', 'composes', 'demo', 'filelist', 'list', 'lists', 'reject', 'rollback', 'schedule', 'server', 'start', 'status', 'vault', 'worker']);
    for (const c of CASES) {
      const r = results.get(c.name)!;
      expect.soft(r.exitCode, `${c.name}: exit code (stderr: ${r.stderr.trim()})`).toBe(2);
      for (const s of c.says) expect.soft(r.stderr, `${c.name}: names ${JSON.stringify(s)}`).toContain(s);
      expect.soft(r.stderr, `${c.name}: never tried to connect`).not.toMatch(/cannot reach Temporal|connect/i);
      expect.soft(r.stderr, `${c.name}: no stack trace`).not.toMatch(/^\s+at /m);
    }
  }, 600_000);
});
