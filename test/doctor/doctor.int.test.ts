// `sigrelease doctor` as an operator runs it (the CLI, a process of its own) against the test dev server: all is
// well with a worker polling, and each thing it can find wrong is found, said in words, and exits 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
// Not re-exported by the package index; turns '1 day' into the proto Duration the API wants.
import { msToTs } from '@temporalio/common/lib/time.js';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/devserver.js';
import type { Check } from '../../src/doctor/report.js';
import { ROOT_MARKER } from '../../src/doctor/roots.js';
import { findOnPath, TOOLS } from '../../src/doctor/tools.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { serverAddress, testClient, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { BIN } from '../operations/cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

interface Doctor {
  exitCode: number;
  ok: boolean;
  checks: Check[];
  stderr: string;
}
const byWhat = (d: Doctor, what: string) => {
  const c = d.checks.find((x) => x.what === what);
  if (!c) throw new Error(`doctor reported no check "${what}": ${JSON.stringify(d.checks, null, 1)}`);
  return c;
};
const failures = (d: Doctor) => d.checks.filter((c) => c.status === 'fail').map((c) => c.what);

/** A site file for this test: roots made and marked (unless told otherwise), the test server and a queue of its own. */
function siteFile(o: { taskQueue: string; mutate?: (raw: Record<string, unknown>, site: SiteConfig) => void }): { file: string; site: SiteConfig } {
  const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:1/v1/projects' });
  for (const role of ['compose', 'staging', 'production'] as const) fs.writeFileSync(path.join(site[`${role}Root`], ROOT_MARKER), `${role}\n`);
  const { address, namespace } = serverAddress();
  const raw: Record<string, unknown> = { ...site, temporal: { ...site.temporal, address, namespace, taskQueue: o.taskQueue } };
  o.mutate?.(raw, site);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-doctor-site-')), 'site.yaml');
  fs.writeFileSync(file, YAML.stringify(raw));
  return { file, site };
}

/** Runs `sigrelease --json doctor`; `env` replaces variables of the test's environment. */
async function doctor(file: string, env: NodeJS.ProcessEnv = {}, via: 'bin' | 'node' = 'bin'): Promise<Doctor> {
  const full = { ...process.env, SIGRELEASE_SITE: file, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined, ...env };
  // `node` runs the CLI without the bin script, so that PATH may hold only the tools under test.
  const [cmd, args] = via === 'bin' ? [BIN, ['--json', 'doctor']] : [process.execPath, ['--import', TSX, MAIN, '--json', 'doctor']];
  const r = await execa(cmd, args, { env: full, extendEnv: false, reject: false, timeout: 120_000 });
  let data: { ok: boolean; checks: Check[] };
  try {
    data = JSON.parse(String(r.stdout));
  } catch {
    throw new Error(`doctor (exit ${r.exitCode}) did not print JSON:\n${r.stdout}\n${r.stderr}`);
  }
  return { exitCode: r.exitCode ?? -1, ...data, stderr: String(r.stderr) };
}

// Each case starts the CLI once or twice; on a loaded 2-core machine a CLI start alone has taken 19 s.
describe('sigrelease doctor', { timeout: 300_000 }, () => {
  it('says all is well, and exits 0, on a host with its tools, marked roots, the server and a worker polling', async () => {
    const taskQueue = uniqueQueue('doctor-ok');
    const { file, site } = siteFile({ taskQueue });
    await withWorkers({ site, taskQueue }, async ({ client }) => {
      // The server lists a poller once its first poll arrived.
      await waitFor('the worker to poll', async () => {
        const res = await client.connection.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue, kind: 1 }, taskQueueType: 2 });
        return (res.pollers ?? []).length > 0 ? true : undefined;
      });
      const d = await doctor(file);
      expect(failures(d)).toEqual([]);
      expect(d.checks.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(d.exitCode).toBe(0);
      expect(d.ok).toBe(true);
      for (const key of Object.values(SEARCH_ATTRIBUTES)) expect(byWhat(d, `search attribute ${key.name}`).status).toBe('ok');
      expect(byWhat(d, `workflow worker on ${taskQueue}`).detail).toMatch(/^polled by /);
    });
  });

  it('finds a missing root and a queue nobody polls', async () => {
    const taskQueue = uniqueQueue('doctor-nopoller');
    const { file, site } = siteFile({ taskQueue });
    fs.rmSync(site.productionRoot, { recursive: true });
    const d = await doctor(file);
    expect(d.exitCode).toBe(1);
    expect(failures(d).sort()).toEqual([`activity worker on ${taskQueue}`, 'production root', `workflow worker on ${taskQueue}`].sort());
    expect(byWhat(d, 'production root').detail).toBe(`${site.productionRoot} does not exist: mount the share, or fix productionRoot in the site config`);
    expect(byWhat(d, `workflow worker on ${taskQueue}`).detail).toContain(`nobody polls the control queue "${taskQueue}" for workflow tasks`);
  });

  it('finds a root marked as another root', async () => {
    const { file, site } = siteFile({ taskQueue: uniqueQueue('doctor-marker') });
    fs.writeFileSync(path.join(site.productionRoot, ROOT_MARKER), 'staging\n');
    const d = await doctor(file);
    expect(byWhat(d, 'production root')).toMatchObject({ status: 'fail', detail: expect.stringContaining('marked as the staging root') });
    expect(d.exitCode).toBe(1);
  });

  it('finds a broken site config, names the field and the value, and checks nothing that needs it', async () => {
    const { file } = siteFile({ taskQueue: uniqueQueue('doctor-badconfig'), mutate: (raw) => (raw.publish = { maxDeleteShare: 2 }) });
    const d = await doctor(file);
    expect(d.exitCode).toBe(1);
    expect(byWhat(d, 'site config').status).toBe('fail');
    expect(byWhat(d, 'site config').detail).toMatch(/publish\.maxDeleteShare: .*\(got 2\)/);
    expect(byWhat(d, 'roots').status).toBe('skip');
    expect(byWhat(d, 'server').status).toBe('skip');
    expect(d.stderr).toBe('');
  });

  it('finds a server that does not answer', async () => {
    const { file } = siteFile({ taskQueue: uniqueQueue('doctor-down') });
    const port = await freePort();
    const d = await doctor(file, { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(d.exitCode).toBe(1);
    expect(failures(d)).toEqual(['server']);
    expect(byWhat(d, 'server').detail).toMatch(new RegExp(`^cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(`));
  });

  it('finds a namespace without our search attributes', async () => {
    const namespace = `doctor-${uniqueQueue('ns')}`;
    const client = await testClient();
    await client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await waitFor('the new namespace', async () => ((await client.connection.workflowService.describeNamespace({ namespace })) ? true : undefined), 60_000, 500);
    const { file } = siteFile({ taskQueue: uniqueQueue('doctor-sa') });
    const d = await doctor(file, { TEMPORAL_NAMESPACE: namespace });
    expect(d.exitCode).toBe(1);
    for (const key of Object.values(SEARCH_ATTRIBUTES)) {
      expect(byWhat(d, `search attribute ${key.name}`)).toMatchObject({
        status: 'fail',
        detail: `not registered in "${namespace}", so runs cannot be listed by it: temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type Keyword`,
      });
    }
  });

  it('finds a tool missing from PATH', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-doctor-path-'));
    for (const program of new Set(TOOLS.flatMap((t) => [t.program, ...(t.versionFrom ? [t.versionFrom.program] : [])]))) {
      const real = findOnPath(program, process.env.PATH);
      if (program !== 'hardlink' && real) fs.symlinkSync(real, path.join(bin, program));
    }
    const { file } = siteFile({ taskQueue: uniqueQueue('doctor-path') });
    const d = await doctor(file, { PATH: bin }, 'node');
    expect(byWhat(d, 'hardlink')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^hardlink is not on PATH .*apt-get install util-linux$/) });
    expect(byWhat(d, 'rsync').status).toBe('ok');
    expect(d.exitCode).toBe(1);
  });
});
