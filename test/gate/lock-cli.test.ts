// `sigrelease lock`: bad input is refused with exit code 2 and the value named, before anything connects (no
// server listens here, so a connection attempt would fail differently).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { closedPort, runCli } from '../cli/bad-input-cases.js';
import { localSiteRaw } from '../../src/config/local.js';

describe('sigrelease lock, bad input', () => {
  it('refuses a missing or empty reason, a --by that is no principal name, and unknown subcommands, with exit 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-lock-cli-'));
    const siteFile = path.join(dir, 'site.yaml');
    fs.writeFileSync(siteFile, YAML.stringify(localSiteRaw(dir, { repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { temporal: { address: `127.0.0.1:${await closedPort()}` } } })));
    const env = { SIGRELEASE_SITE: siteFile };
    const cases: Array<{ args: string[]; says: string[] }> = [
      { args: ['lock', 'force-release', '--by', 'olivia'], says: ['--reason'] },
      { args: ['lock', 'force-release', '--by', 'olivia', '--reason', '  '], says: ['--reason must say why'] },
      { args: ['lock', 'force-release', '--by', 'o livia', '--reason', 'stuck'], says: ['--by must be a principal name', '"o livia"'] },
      { args: ['lock', 'force-release', '--by', 'olivia', '--reason', 'x'.repeat(2001)], says: ['2001 characters'] },
      { args: ['lock', 'steal'], says: ['steal'] },
    ];
    try {
      for (const c of cases) {
        const r = await runCli(c.args, env);
        expect.soft(r.exitCode, `${c.args.join(' ')}: ${r.stderr}`).toBe(2);
        for (const s of c.says) expect.soft(r.stderr, c.args.join(' ')).toContain(s);
        expect.soft(r.stderr).not.toMatch(/cannot reach Temporal|connect/i);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
