// The same bad input with the dev server up gives the same answer, word for word, as with nothing listening:
// the CLI decides on its input before it connects, so a server being up cannot change the answer.
import { describe, expect, it } from 'vitest';
import { serverAddress } from '../helpers/temporal.js';
import { CASES, closedPort, runCases } from './bad-input-cases.js';

describe('bad input with the server up', () => {
  it('is refused with the same exit code and message as with no server reachable', async () => {
    const { address, namespace } = serverAddress();
    const closed = `127.0.0.1:${await closedPort()}`;
    const [online, offline] = await Promise.all([runCases(address, namespace), runCases(closed, namespace)]);
    for (const c of CASES) {
      const [on, off] = [online.get(c.name)!, offline.get(c.name)!];
      expect.soft(on.exitCode, `${c.name}: exit code with the server up (stderr: ${on.stderr.trim()})`).toBe(2);
      // The messages name the case folder's files, which differ between the two runs only by the folder's name.
      const norm = (s: string) => s.replace(/sigrelease-bad-input-[A-Za-z0-9]+/g, 'CASEDIR').replace(/127\.0\.0\.1:\d+/g, 'ADDRESS');
      expect.soft(norm(on.stderr), `${c.name}: same message`).toBe(norm(off.stderr));
    }
  }, 900_000);
});
