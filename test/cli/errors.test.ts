// Unexpected errors reach a person as one line; the stack only with --debug or SIGRELEASE_DEBUG=1.
import { describe, expect, it } from 'vitest';
import { parseProcStat, descendantsOf } from '../../src/cli/processes.js';
import { closedPort, runCli } from './bad-input-cases.js';

describe('errors for people', () => {
  it('says in one line that the dev server could not start, and why', async () => {
    const db = `/tmp/sigrelease-errors-${process.pid}/a/b/temporal.db`;
    const args = ['server', '--port', String(await closedPort()), '--ui-port', String(await closedPort()), '--db', db];
    const r = await runCli(args, { SIGRELEASE_TEMPORAL_CLI: '/nonexistent/temporal', SIGRELEASE_DEBUG: '' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/dev server did not start: .*\/nonexistent\/temporal/);
    const debug = await runCli([...args, '--debug'], { SIGRELEASE_TEMPORAL_CLI: '/bin/false', SIGRELEASE_DEBUG: '' });
    expect(debug.exitCode).toBe(1);
    expect(debug.stderr).toMatch(/exited with 1 before it was ready/);
    expect(debug.stderr).toMatch(/^\s+at /m);
  }, 120_000);
});

describe('the /proc walk', () => {
  it('reads a stat line whose command name holds spaces and parentheses', () => {
    expect(parseProcStat('4242 (tmux: server) (x)) S 1 4242 4242 0 -1 4194560 ...')).toEqual({ pid: 4242, comm: 'tmux: server) (x)', state: 'S', ppid: 1, pgid: 4242 });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('finds grandchildren and leaves zombies out', () => {
    const table = [
      { pid: 10, ppid: 1, pgid: 10, state: 'S', comm: 'node' },
      { pid: 11, ppid: 10, pgid: 11, state: 'S', comm: 'rsync' },
      { pid: 12, ppid: 11, pgid: 11, state: 'S', comm: 'rsync' },
      { pid: 13, ppid: 10, pgid: 10, state: 'Z', comm: 'dnf' },
      { pid: 14, ppid: 1, pgid: 14, state: 'S', comm: 'other' },
    ];
    expect(descendantsOf(10, table).map((p) => p.pid)).toEqual([11, 12]);
  });
});
