// Bad input at the real command line: `bin/sigrelease` as a subprocess, as an operator types it. Each case is
// refused with the documented exit code (2 bad input, 3 not found) and a message naming the field and the value;
// nothing is started on the server and nothing is written under the site's roots. The shell never sees these
// values as commands: execa passes arguments as an array, and a marker file proves `$(...)` did not run.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { releaseWorkflowId } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { serverAddress, testClient, testSite, uniqueQueue } from '../helpers/temporal.js';
import { BIN, tempDir, writeSiteYaml } from './support.js';
import { ROOT_MARKER_FILE } from '../../src/config/roots.js';

const { address, namespace } = serverAddress();
let client: Client;
let site: SiteConfig;
let siteFile: string;
let taskQueue: string;
const dir = tempDir('cli');
const marker = path.join(dir, 'pwned');

async function sigrelease(args: string[], env: Record<string, string> = {}) {
  const r = await execa(BIN, args, {
    env: { ...process.env, SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, ...env },
    reject: false,
    timeout: 60_000,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr), stdout: String(r.stdout) };
}

/** Runs on the server on this file's task queue (none may exist: every case is refused before starting one). */
async function runsOnMyQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) ids.push(w.workflowId);
  return ids;
}

beforeAll(async () => {
  client = await testClient();
  site = testSite({ repoBaseUrl: 'http://127.0.0.1:9/v1/projects' }).site;
  taskQueue = uniqueQueue('bad-input-cli');
  siteFile = writeSiteYaml(site, { address, namespace, taskQueue });
});
afterAll(async () => {
  // Safety net: a case the CLI wrongly accepted must not leave a run behind on the shared server.
  if (client) for (const id of await runsOnMyQueue()) await client.workflow.getHandle(id).terminate('refused input was accepted').catch(() => undefined);
});

interface CliCase {
  name: string;
  args: string[];
  env?: () => Record<string, string>;
  exit: number;
  /** Each must appear in stderr. */
  says: Array<string | RegExp>;
}

const CASES: CliCase[] = [
  { name: 'start: SIG with path traversal', args: ['start', '--no-wait', '--release', '9', '--sig', '../etc'], exit: 2, says: ['sig', '../etc'] },
  { name: 'start: release that is a word', args: ['start', '--no-wait', '--release', 'nine', '--sig', 'core'], exit: 2, says: ['release', 'nine'] },
  { name: 'start: unknown SIG', args: ['start', '--no-wait', '--release', '9', '--sig', 'nosuchsig'], exit: 2, says: ['unknown SIG "nosuchsig"'] },
  { name: 'start: --full-run with --dry-run', args: ['start', '--no-wait', '--release', '9', '--sig', 'core', '--full-run', '--dry-run'], exit: 2, says: ['--full-run', '--dry-run'] },
  { name: 'start: arch with a command after ;', args: ['start', '--no-wait', '--release', '9', '--sig', 'core', '--arch', `x86_64;touch ${marker}`], exit: 2, says: ['arch', `x86_64;touch ${marker}`] },
  { name: 'start: repo with $(...)', args: ['start', '--no-wait', '--release', '9', '--sig', 'core', '--repo', `$(touch ${marker})`], exit: 2, says: ['repo', `$(touch ${marker})`] },
  { name: 'start: SIG with backticks and a newline', args: ['start', '--no-wait', '--release', '9', '--sig', '`id`\nreboot'], exit: 2, says: ['sig', /`id`(\n|\\n)reboot/] },
  { name: 'start: an arch core 9 does not build', args: ['start', '--no-wait', '--release', '9', '--sig', 'core', '--arch', 'i686'], exit: 2, says: ['arch', 'i686'] },
  {
    name: 'start: site YAML that is not YAML',
    args: ['start', '--no-wait', '--release', '9', '--sig', 'core'],
    env: () => ({ SIGRELEASE_SITE: write('broken.yaml', 'composeRoot: [unclosed\n') }),
    exit: 2,
    says: [/broken\.yaml/, /not valid YAML/],
  },
  {
    name: 'start: site YAML with a relative root',
    args: ['start', '--no-wait', '--release', '9', '--sig', 'core'],
    env: () => ({ SIGRELEASE_SITE: write('relative.yaml', fs.readFileSync(siteFile, 'utf8').replace(/^composeRoot: .*$/m, 'composeRoot: mnt/compose')) }),
    exit: 2,
    says: [/relative\.yaml/, 'composeRoot', 'mnt/compose'],
  },
  { name: 'start: site file that does not exist', args: ['start', '--no-wait', '--release', '9', '--sig', 'core'], env: () => ({ SIGRELEASE_SITE: path.join(dir, 'nope.yaml') }), exit: 2, says: ['nope.yaml', 'does not exist'] },
  { name: 'approve: SIG with path traversal', args: ['approve', '9', '../etc', '--by', 'tester'], exit: 2, says: ['sig', '../etc'] },
  { name: 'worker: unknown queue', args: ['worker', '--queues', 'control,gpu'], exit: 2, says: ['unknown queue "gpu"'] },
  { name: 'schedule create: --at 25:00', args: ['schedule', 'create', '--release', '9', '--sig', 'core', '--at', '25:00'], exit: 2, says: ['--at', '25:00'] },
];

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('bad input at the sigrelease command line', () => {
  it('refuses every case with exit code 2 and a message naming the field and the value, touching nothing', async () => {
    const results: Array<{ c: CliCase; r: Awaited<ReturnType<typeof sigrelease>> }> = [];
    // Two at a time: each is a Node process start on a 2-core machine.
    for (let i = 0; i < CASES.length; i += 2) {
      const batch = CASES.slice(i, i + 2);
      results.push(...(await Promise.all(batch.map(async (c) => ({ c, r: await sigrelease(c.args, c.env?.() ?? {}) })))));
    }
    // Runs that were wrongly started are listed by the assertion below, then ended at once (the shared server).
    const started = await runsOnMyQueue();
    for (const id of started) await client.workflow.getHandle(id).terminate('refused input was accepted').catch(() => undefined);
    for (const { c, r } of results) {
      expect.soft(r.exitCode, `${c.name}: exit code (stderr: ${r.stderr.trim()})`).toBe(c.exit);
      for (const s of c.says) {
        if (typeof s === 'string') expect.soft(r.stderr, `${c.name}: says ${JSON.stringify(s)}`).toContain(s);
        else expect.soft(r.stderr, `${c.name}: says ${s}`).toMatch(s);
      }
    }
    // Nothing was started, nothing written, no command ran.
    expect(started).toEqual([]);
    expect(fs.readdirSync(site.composeRoot)).toEqual([ROOT_MARKER_FILE]); // nothing but the root's marker
    expect(fs.existsSync(marker)).toBe(false);
  }, 300_000);

  it('answers an approval, a rejection or a status for a run that does not exist with exit code 3, naming the run', async () => {
    const [sig, release] = ['hpc', '10'];
    const id = releaseWorkflowId(sig, release);
    // The case is only meaningful while no such run exists on the shared server.
    await expect(client.workflow.getHandle(id).describe()).rejects.toThrow();
    const [approve, reject, status] = await Promise.all([
      sigrelease(['approve', release, sig, '--by', 'tester', '--comment', 'looks good']),
      sigrelease(['reject', release, sig, '--by', 'tester', '--signal']),
      sigrelease(['status', release, sig]),
    ]);
    for (const [what, r] of [['approve', approve], ['reject --signal', reject], ['status', status]] as const) {
      expect.soft(r.exitCode, `${what}: exit code (stderr: ${r.stderr.trim()})`).toBe(3);
      expect.soft(r.stderr, what).toContain(`${sig} ${release}`);
      expect.soft(r.stderr, what).toContain(id);
    }
    // A signal to a run that does not exist must not create one.
    await expect(client.workflow.getHandle(id).describe()).rejects.toThrow();
  }, 120_000);
});
