// Bad input for every command, run twice side by side: with nothing listening, and with the dev server up.
// With nothing listening every case is refused with exit code 2 and one line naming the value, without trying to
// connect; with the server up the answer is the same, word for word: the CLI decides on its input before it
// connects, so a server being up cannot change the answer. (One file runs both: each case is a Node start, and
// running the offline half again in a second file cost half a minute of CPU on a 2-core machine.)
import { beforeAll, describe, expect, it } from 'vitest';
import { serverAddress } from '../helpers/temporal.js';
import { CASES, closedPort, runCases, type Outcome } from './bad-input-cases.js';

let online: Map<string, Outcome>;
let offline: Map<string, Outcome>;
beforeAll(async () => {
  const { address, namespace } = serverAddress();
  const closed = `127.0.0.1:${await closedPort()}`;
  [online, offline] = await Promise.all([runCases(address, namespace), runCases(closed, namespace)]);
}, 900_000);

describe('bad input with no server reachable', () => {
  it('refuses every case of every command with exit code 2 and one line naming the value', () => {
    const commands = new Set(CASES.map((c) => c.args.find((a) => !a.startsWith('-') && !a.startsWith('/'))));
    expect([...commands].sort()).toEqual(['approve', 'cancel', 'composes', 'demo', 'filelist', 'list', 'lists', 'reject', 'rollback', 'schedule', 'server', 'start', 'status', 'vault', 'worker']);
    expect(offline.size).toBe(CASES.length);
    for (const c of CASES) {
      const r = offline.get(c.name)!;
      expect.soft(r.exitCode, `${c.name}: exit code (stderr: ${r.stderr.trim()})`).toBe(2);
      for (const s of c.says) expect.soft(r.stderr, `${c.name}: names ${JSON.stringify(s)}`).toContain(s);
      expect.soft(r.stderr, `${c.name}: never tried to connect`).not.toMatch(/cannot reach Temporal|connect/i);
      expect.soft(r.stderr, `${c.name}: no stack trace`).not.toMatch(/^\s+at /m);
    }
  });
});

describe('bad input with the server up', () => {
  it('is refused with the same exit code and message as with no server reachable', () => {
    expect(online.size).toBe(CASES.length);
    for (const c of CASES) {
      const [on, off] = [online.get(c.name)!, offline.get(c.name)!];
      expect.soft(on.exitCode, `${c.name}: exit code with the server up (stderr: ${on.stderr.trim()})`).toBe(2);
      // The messages name the case folder's files, which differ between the two runs only by the folder's name.
      const norm = (s: string) => s.replace(/sigrelease-bad-input-[A-Za-z0-9]+/g, 'CASEDIR').replace(/127\.0\.0\.1:\d+/g, 'ADDRESS');
      expect.soft(norm(on.stderr), `${c.name}: same message`).toBe(norm(off.stderr));
    }
  });
});
