// One real release through a production-shaped Temporal: temporal-server 1.29.1 on PostgreSQL (default
// and visibility stores), set up by the same scripts as docker-compose.yml's one-shot jobs, with the
// control and compose-host queues served by separate workers as in deploy/site.yaml. Then the run's
// history is replayed against the prebuilt workflow bundle (deploy/bundle-workflows.ts), as a deployed
// worker would load it.
//
// Needs scripts/build-temporal-server.sh (temporal-server, temporal-sql-tool) and Debian's postgresql;
// skipped, saying what is missing, without them. Ignores the shared dev server of the integration setup.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, startRelease } from '../../src/client.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { createWorkers } from '../../src/worker.js';
import { SEARCH_ATTRIBUTES, statusQuery } from '../../workflows/messages.js';
import { writeWorkflowBundle } from '../../deploy/bundle-workflows.js';
import { replayOpenRuns } from '../../deploy/replay-open-runs.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { missingPrerequisites, startPostgresTemporal, type PostgresTemporal } from './postgres-server.js';

const missing = missingPrerequisites();
if (missing.length) console.warn(`postgres-release: skipped; missing:\n  ${missing.join('\n  ')}`);

describe.skipIf(missing.length > 0)('a release on Temporal 1.29.1 backed by PostgreSQL', () => {
  let server: PostgresTemporal;
  let yum: YumrepofsServer;
  let client: Client;
  let connection: Connection;
  let bundleDir = '';
  let bundleFile = '';

  beforeAll(async () => {
    const t0 = Date.now();
    const fixtureRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-yum-'));
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bundle-'));
    bundleFile = path.join(bundleDir, 'workflow-bundle.js');
    [server] = await Promise.all([
      startPostgresTemporal({ namespace: 'sigrelease' }),
      // The prebuilt bundle a deployed worker loads (Dockerfile: deploy/bundle-workflows.ts).
      writeWorkflowBundle(bundleFile),
      (async () => {
        const fixture = await buildYumrepofs(fixtureRoot, defaultCoreFixture());
        yum = await startYumrepofs({ root: fixture.root });
      })(),
    ]);
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    console.info(`postgres-release: server + fixture ready in ${Date.now() - t0} ms (${JSON.stringify(server.timings)})`);
  }, 300_000);

  afterAll(async () => {
    await connection?.close();
    await yum?.close();
    await server?.stop();
    if (bundleDir) fs.rmSync(bundleDir, { recursive: true, force: true });
  }, 120_000);

  it('composes, stages, waits at the gate, is approved with the update, and promotes', async () => {
    const t0 = Date.now();
    const taskQueue = uniqueQueue('pg-control');
    const hostTaskQueue = uniqueQueue('pg-host');
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { temporal: { namespace: server.namespace, taskQueue, hostTaskQueue } } });
    const { workers, close } = await createWorkers({
      address: server.address,
      namespace: server.namespace,
      site,
      catalogue: testCatalogue(),
      queues: ['control', 'host'],
      taskQueue,
      hostTaskQueue,
    });
    expect(workers.map((w) => w.options.taskQueue).sort()).toEqual([taskQueue, hostTaskQueue].sort());
    const runs = workers.map((w) => w.run());
    let workflowId = '';
    try {
      const request = { release: '9', sig: 'core', hashed: true, fullRun: true, ignoreDebug: true, arches: ['x86_64'], requestedBy: 'tester' };
      const handle = await startRelease(client, site, testCatalogue(), request, { taskQueue });
      workflowId = handle.workflowId;

      const gate = await waitFor(
        'the run to wait at the approval gate',
        async () => {
          const st = await handle.query(statusQuery);
          if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
          return st.stage === 'awaiting-approval' ? st : undefined;
        },
        240_000,
        500,
      );
      expect(gate.productionPreview).not.toBeNull();
      expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);

      // Advanced visibility on PostgreSQL: the run is listed by our search attributes.
      const listed = await waitFor(
        'the run to be listed as awaiting approval',
        async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query: `SigName = "core" AND SigRelease = "9" AND SigStage = "awaiting-approval"` })) ids.push(wf.workflowId);
          return ids.includes(workflowId) ? ids : undefined;
        },
        30_000,
        500,
      );
      expect(listed).toContain(workflowId);

      // The pre-deploy check (deploy/replay-open-runs.ts): the run waiting at the gate replays on the prebuilt bundle.
      const check = await replayOpenRuns(client, { bundlePath: bundleFile });
      expect(check).toEqual({ replayed: 1, failures: [] });

      const ack = await decide(client, '9', 'core', true, { by: 'tester', comment: 'checked staging' });
      expect(ack).toMatchObject({ accepted: true, decision: { approved: true, by: 'tester', via: 'update' } });
      const result = await handle.result();
      expect(result.outcome).toBe('promoted');

      const production = treeDigest(productionSigDir(site, '9', 'core'));
      const rpms = [...production.keys()].filter((f) => f.endsWith('.rpm'));
      expect(rpms.length).toBeGreaterThan(0);
      expect(rpms.some((f) => /^x86_64\/core-common\/Packages\/.+\.rpm$/.test(f))).toBe(true);
      expect(production).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));

      const described = await handle.describe();
      expect(described.status.name).toBe('COMPLETED');
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('promoted');
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBe('tester');
      console.info(`postgres-release: release ${workflowId} promoted in ${Date.now() - t0} ms`);
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
      await close();
    }

    // A deployed worker loads the prebuilt bundle: it must replay the whole run recorded by the bundle built at start.
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: bundleFile } }, history, workflowId);
  }, 420_000);

  it('survives the one-shot jobs running again, as on every `docker compose up`', () => {
    const out = server.rerunSetupJobs();
    expect(out.schema).toMatch(/setup-schema: done/);
    expect(out.namespace).toMatch(/sigrelease exists; setting retention 30d/);
    const described = JSON.parse(server.cli(['operator', 'namespace', 'describe', '--namespace', server.namespace, '--output', 'json'])) as {
      config: { workflowExecutionRetentionTtl: string };
    };
    expect(described.config.workflowExecutionRetentionTtl).toBe(`${30 * 24 * 3600}s`);
  });
});
