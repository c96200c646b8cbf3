// `sigrelease worker --metrics-address` at the edges, without a server: a bad address is bad input (exit 2, the
// value named) before anything connects, and a port in use is said in one line (exit 1), not a stack trace.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { localSiteRaw } from '../../src/config/local.js';
import { freePort } from '../../src/devserver.js';
import { BIN } from '../operations/cli.js';

async function worker(args: string[], siteExtra: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-metrics-cli-'));
  const file = path.join(dir, 'site.yaml');
  // Nothing listens on the Temporal address: whatever happens, happens before a connection.
  const temporal = `127.0.0.1:${await freePort()}`;
  fs.writeFileSync(file, YAML.stringify({ ...localSiteRaw(dir, { repoBaseUrl: 'http://127.0.0.1:1/v1/projects' }), temporal: { address: temporal }, ...siteExtra }));
  const r = await execa(BIN, ['worker', ...args], { env: { ...process.env, SIGRELEASE_SITE: file, TEMPORAL_ADDRESS: temporal }, reject: false, timeout: 180_000 });
  return { exitCode: r.exitCode, stderr: String(r.stderr) };
}

// A CLI start alone has taken 19 s on a loaded 2-core machine.
describe('sigrelease worker --metrics-address', { timeout: 240_000 }, () => {
  it('refuses an address the exporter cannot bind, naming it, with exit 2', async () => {
    const r = await worker(['--metrics-address', 'metrics.example.org:9464']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^sigrelease: --metrics-address: metrics address "metrics\.example\.org:9464" must be IP:PORT/);
    expect(r.stderr).not.toMatch(/cannot reach Temporal|\n\s+at /);
  });

  it('refuses a bad metrics.address in the site config the same way', async () => {
    const r = await worker([], { metrics: { address: '0.0.0.0:99999' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('metrics.address: metrics address "0.0.0.0:99999" must be IP:PORT');
  });

  it('says in one line that the port is taken, with exit 1', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await worker(['--metrics-address', `127.0.0.1:${port}`]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.trim()).toMatch(new RegExp(`^sigrelease: cannot export metrics on 127\\.0\\.0\\.1:${port}: .*Address already in use`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      taken.close();
    }
  });
});
