// The worker process exports Prometheus metrics: `sigrelease worker --metrics-address` (the CLI, a process of its
// own) runs real releases against the test dev server and fixture repositories, and its /metrics then holds the
// SDK's metrics and the pipeline's own, labelled with the SIG and release and with the values of what happened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { freePort } from '../../src/devserver.js';
import { PIPELINE_METRICS as M } from '../../src/metrics/names.js';
import { productionSigDir } from '../../src/paths.js';
import { approveUpdate, rejectUpdate, statusQuery, type ReleaseStatus } from '../../workflows/messages.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { serverAddress, testCatalogue, testClient, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { fastRuntime, smallRequest, startWorkerProcess, writeSiteYaml, type WorkerProcess } from '../reliability/support.js';
import { parsePrometheusText, samplesOf, total, type Sample } from './prom-text.js';

let yum: YumrepofsServer;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  const fixture = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-yum-')), defaultCoreFixture());
  yum = await startYumrepofs({ root: fixture.root });
});
afterAll(async () => {
  await worker?.stop();
  await yum?.close();
});

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

type Handle = { query: (q: typeof statusQuery) => Promise<ReleaseStatus> };
const atGate = (handle: Handle) =>
  waitFor(
    'the run to wait at the approval gate',
    async () => {
      const st = await handle.query(statusQuery);
      if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
      return st.stage === 'awaiting-approval' ? st : undefined;
    },
    180_000,
  );

describe('sigrelease worker --metrics-address', () => {
  it('exports the SDK metrics and the pipeline metrics of a promoted release and of a guard trip at the gate', async () => {
    const { address, namespace } = serverAddress();
    const taskQueue = uniqueQueue('metrics');
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    const siteFile = writeSiteYaml(site, { address, namespace, taskQueue });
    const port = await freePort();
    worker = await startWorkerProcess({ siteFile, address, namespace, extraArgs: ['--metrics-address', `127.0.0.1:${port}`] });
    expect(worker.output()).toContain(`metrics at http://127.0.0.1:${port}/metrics`);
    const client = await testClient();
    const labels = { sig: 'core', release: '9', taskQueue };

    // 1. A release that goes all the way: downloads, both syncs, the gate, the lock, the file lists.
    const first = await startRelease(client, site, testCatalogue(), { ...smallRequest }, { taskQueue, workflowId: `sigrelease-core-9-${uniqueQueue('m1')}`, runtime: fastRuntime() });
    await atGate(first);
    await new Promise((r) => setTimeout(r, 1100)); // a gate wait of at least a second on the workflow clock
    await first.executeUpdate(approveUpdate, { args: [{ by: 'tester' }] });
    expect((await first.result()).outcome).toBe('promoted');

    const s = await scrape(port);
    const packages = samplesOf(s, M.packagesDownloaded, labels);
    // Sixteen packages in the small request: binary and source repos, each its own series.
    expect(packages.map((p) => p.labels.kind).sort()).toEqual(['binary', 'source']);
    expect(total(s, M.packagesDownloaded, labels)).toBe(16);
    for (const p of packages) expect(p.labels.activityType).toBe('runReposyncTask');
    expect(total(s, M.downloadedBytes, labels)).toBeGreaterThan(0);
    for (const stage of ['staging', 'production']) {
      expect(total(s, `${M.syncDuration}_count`, { ...labels, stage }), stage).toBe(1);
      expect(total(s, `${M.syncDuration}_sum`, { ...labels, stage }), stage).toBeGreaterThan(0);
      expect(total(s, M.syncBytes, { ...labels, stage }), stage).toBeGreaterThan(0);
      expect(total(s, M.syncFiles, { ...labels, stage }), stage).toBeGreaterThan(0);
    }
    expect(total(s, `${M.gateWait}_count`, { ...labels, decision: 'approved' })).toBe(1);
    expect(total(s, `${M.gateWait}_sum`, { ...labels, decision: 'approved' })).toBeGreaterThanOrEqual(1);
    expect(samplesOf(s, `${M.gateWait}_count`, labels)[0]?.labels.workflowType).toBe('sigRelease');
    expect(total(s, `${M.lockWait}_count`, labels)).toBe(1);
    expect(total(s, `${M.lockWait}_sum`, labels)).toBeGreaterThan(0);
    // The lists are walked by the level's writer (workflows/fileListWriter.ts), which serves every release: its
    // walks carry the module, not one release's labels.
    expect(total(s, `${M.fileListWalk}_count`, { module: 'sig' })).toBe(1);
    expect(total(s, M.fileListEntries, { module: 'sig' })).toBeGreaterThan(16);
    // Seconds histograms get buckets for seconds, not the exporter's millisecond defaults.
    const buckets = samplesOf(s, `${M.syncDuration}_bucket`, { ...labels, stage: 'staging' }).map((b) => b.labels.le);
    expect(buckets).toContain('1');
    expect(buckets).toContain('43200');
    // The SDK's own metrics are on the same endpoint.
    expect(total(s, 'temporal_activity_execution_latency_count', { task_queue: taskQueue })).toBeGreaterThan(0);
    expect(total(s, 'temporal_workflow_completed', { task_queue: taskQueue })).toBeGreaterThan(0);
    expect(samplesOf(s, M.guardTrips, labels)).toEqual([]);

    // 2. Production holds files staging does not (someone copied them in by hand): the next release's
    //    production preview would delete them all, so the gate shows a tripped guard; the approver rejects.
    const stray = path.join(productionSigDir(site, '9', 'core'), 'x86_64', 'core-common', 'Packages', 'z');
    fs.mkdirSync(stray, { recursive: true });
    for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(stray, `zz-stray-${i}.rpm`), 'x');
    const second = await startRelease(client, site, testCatalogue(), { ...smallRequest }, { taskQueue, workflowId: `sigrelease-core-9-${uniqueQueue('m2')}`, runtime: fastRuntime() });
    const gate = await atGate(second);
    expect(gate.productionPreview?.guard.ok).toBe(false);
    await second.executeUpdate(rejectUpdate, { args: [{ by: 'tester', comment: 'stray files in production' }] });
    expect((await second.result()).outcome).toBe('rejected');

    const after = await scrape(port);
    expect(total(after, M.guardTrips, { ...labels, stage: 'gate' })).toBe(1);
    expect(total(after, `${M.gateWait}_count`, { ...labels, decision: 'rejected' })).toBe(1);
  }, 600_000); // two composes and a promotion on a shared 2-core machine
});
