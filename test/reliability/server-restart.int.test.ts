// The Temporal server goes away and comes back (same port, same SQLite file): runs waiting at the approval gate
// and activities running at that moment both carry on. This file starts its OWN dev server; the shared one of
// the integration suite is never stopped.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { startDevServer, type DevServer } from '../../src/devserver.js';
import { latestLink, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { createWorkers } from '../../src/worker.js';
import type { ComposeResult } from '../../workflows/compose.js';
import { approveUpdate, statusQuery } from '../../workflows/messages.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { temporal } from '@temporalio/proto';
import { treeDigest } from '../helpers/trees.js';
import { untilStage } from '../gate/support.js';
import { fastRuntime, packageGets, pendingActivities, seconds, smallRequest, tempDir, terminateAll } from './support.js';

const HEARTBEAT = '6s';
let dir: string;
let dbFile: string;
let server: DevServer;
let port: number;
let yum: YumrepofsServer;
let client: Client;
let connection: Connection;
let workers: Worker[] = [];
let runs: Promise<void>[] = [];
let closeWorkers: () => Promise<void> = async () => undefined;
let theSite: SiteConfig;
let taskQueue: string;
const workflowIds: string[] = [];

/** Stops the server, waits for `whileDown` (if any), and starts it again on the same port with the same database. */
async function restartServer(whileDown?: () => Promise<unknown>): Promise<{ stopMs: number; downMs: number; startMs: number }> {
  const t0 = Date.now();
  await server.stop();
  const t1 = Date.now();
  await whileDown?.();
  const t2 = Date.now();
  server = await startDevServer({ dbFile, port, headless: true, logFile: path.join(dir, 'server.log') });
  return { stopMs: t1 - t0, downMs: t2 - t0, startMs: Date.now() - t2 };
}

/** Lines of every reposync log under the compose root that say a task attempt finished its work. */
function finishedTaskLogs(composeRoot: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes('/work/logs/') && e.name.endsWith('.log')) n += (fs.readFileSync(p, 'utf8').match(/^==== remote mtimes restored/gm) ?? []).length;
    }
  };
  walk(composeRoot);
  return n;
}

beforeAll(async () => {
  dir = tempDir('server');
  dbFile = path.join(dir, 'temporal.db');
  server = await startDevServer({ dbFile, headless: true, logFile: path.join(dir, 'server.log') });
  port = server.port;
  const tree = await buildYumrepofs(tempDir('yum'), defaultCoreFixture());
  yum = await startYumrepofs({ root: tree.root });
  theSite = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl }).site;
  taskQueue = uniqueQueue('restart');
  const w = await createWorkers({ address: server.address, namespace: server.namespace, site: theSite, catalogue: testCatalogue(), queues: ['control', 'host'], taskQueue });
  workers = w.workers;
  closeWorkers = w.close;
  runs = workers.map((x) => x.run());
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
});

afterAll(async () => {
  if (client && server) await terminateAll(client, workflowIds, theSite ? [theSite.productionRoot] : []);
  for (const w of workers) w.shutdown();
  await Promise.allSettled(runs);
  await closeWorkers().catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await server?.stop();
  await yum?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a Temporal server restart (same port, same database file)', () => {
  it('keeps a release waiting at the approval gate: after the restart it is still there, takes the approval and promotes', async () => {
    const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue('restart-gate')}`;
    workflowIds.push(workflowId);
    const handle = await startRelease(client, theSite, testCatalogue(), { ...smallRequest, fullRun: true }, { taskQueue, workflowId, runtime: fastRuntime({ heartbeat: HEARTBEAT }) });
    const before = await untilStage(handle, 'awaiting-approval');

    const restart = await restartServer();
    const tUp = Date.now();
    const after = await waitFor('the status query to answer after the restart', () => handle.query(statusQuery), 60_000, 200);
    const queryAfter = Date.now() - tUp;
    // The update needs a worker: it is accepted once the worker has reconnected by itself.
    const ack = await waitFor('the approval to be accepted', () => handle.executeUpdate(approveUpdate, { args: [{ by: 'reliability', comment: 'after restart' }] }), 60_000, 500);
    const approvedAfter = Date.now() - tUp;
    const result = await handle.result();
    console.log(
      `[server-restart] at the gate: server stop ${seconds(restart.stopMs)}, down ${seconds(restart.downMs)}, start ${seconds(restart.startMs)}; status query answered ` +
        `${seconds(queryAfter)} after it was up; approval accepted ${seconds(approvedAfter)} after it was up; run ${result.outcome} ${seconds(Date.now() - tUp)} after it was up`,
    );

    expect(after.stage).toBe('awaiting-approval');
    expect(after.approvalDeadline).toBe(before.approvalDeadline);
    expect(after.composeWorkflowId).toBe(before.composeWorkflowId);
    expect(ack.accepted).toBe(true);
    expect(result.outcome).toBe('promoted');
    expect(result.decision).toMatchObject({ by: 'reliability', approved: true, via: 'update' });
    expect(treeDigest(productionSigDir(theSite, '9', 'core'))).toEqual(treeDigest(stagingSigDir(theSite, '9', 'core')));
  });

  it('completes the compose when its reposync tasks finish while the server is down: a lost result is retried and downloads nothing twice', async () => {
    const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue('restart-activity')}`;
    workflowIds.push(workflowId);
    const logsBefore = finishedTaskLogs(theSite.composeRoot);
    // Nothing to seed from: without `latest` every package crosses the network, so the tasks are busy downloading
    // when the server goes down (a compose seeded from the earlier test's would link them all and download none).
    fs.rmSync(latestLink(theSite, '9', 'core'), { force: true });
    yum.resetCounters();
    yum.setFaults({ slowPaths: /\/Packages\/.*\.rpm$/, slowMs: 1500 });
    const handle = await startRelease(client, theSite, testCatalogue(), { ...smallRequest, composeOnly: true }, { taskQueue, workflowId, runtime: fastRuntime({ heartbeat: HEARTBEAT }) });
    const composing = await untilStage(handle, 'composing');
    workflowIds.push(composing.composeWorkflowId!);
    // Every task must be at the worker before the server goes: one still in the server's queue cannot start (and
    // so cannot finish) while the server is down. Waiting for one running task only left that to chance.
    await waitFor(
      'all four reposync activities to be started by the worker and downloading',
      async () => {
        const started = (await pendingActivities(client, composing.composeWorkflowId!)).filter(
          (a) => a.type === 'runReposyncTask' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        );
        return started.length === 4 && packageGets(yum.log).size >= 2 ? true : undefined;
      },
      120_000,
      100,
    );
    const running = (await pendingActivities(client, composing.composeWorkflowId!)).filter((a) => a.type === 'runReposyncTask').length;
    const gotBefore = packageGets(yum.log).size;

    // Down while the four tasks download the rest and finish: no heartbeat and no completion can reach the server.
    const restart = await restartServer(() =>
      waitFor('the four reposync tasks to finish while the server is down', async () => (finishedTaskLogs(theSite.composeRoot) - logsBefore >= 4 ? true : undefined), 120_000, 100),
    );
    const tUp = Date.now();
    yum.setFaults(null);
    const result = await handle.result();
    const doneAfter = Date.now() - tUp;
    const compose = (await client.workflow.getHandle(composing.composeWorkflowId!).result()) as ComposeResult;
    const twice = [...packageGets(yum.log)].filter(([, n]) => n > 1).length;
    console.log(
      `[server-restart] during reposync (${running} tasks running, ${gotBefore} packages answered): server stop ${seconds(restart.stopMs)}, ` +
        `down ${seconds(restart.downMs)} (until every task had finished), start ${seconds(restart.startMs)}; compose done ${seconds(doneAfter)} after the server was up; ` +
        `reposync attempts ${compose.tasks.map((t) => `${t.name}#${t.attempt}`).join(', ')}; packages fetched twice: ${twice}`,
    );

    expect(result.outcome).toBe('composed');
    expect(compose.tasks).toHaveLength(4);
    expect(compose.verify?.ok).toBe(true);
    expect(twice).toBe(0);
    // Its own waits allow 120 s each (tasks running, tasks finishing while the server is down) besides the
    // restart and the compose: the default 120 s test timeout cut it short on a loaded machine.
  }, 420_000);
});
