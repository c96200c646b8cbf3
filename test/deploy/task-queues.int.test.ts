// Task queues by host: workflows and light activities on the control queue; reposync, rsync, hardlink and
// file lists only on the compose-host queue, served by the worker that has the mounts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { createWorkers } from '../../src/worker.js';
import { productionSigDir } from '../../src/paths.js';
import { statusQuery } from '../../workflows/messages.js';
import { CORE9_KEY_GIT_PATH, CORE9_PROJECT_ID, buildYumrepofs, fixtureSpecForSig, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { serverAddress, testCatalogue, testClient, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';

let yum: YumrepofsServer;
beforeAll(async () => {
  const tree = await buildYumrepofs(
    fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-queues-yum-')),
    fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH }),
  );
  yum = await startYumrepofs({ root: tree.root });
});
afterAll(async () => {
  await yum?.close();
});

const HEAVY = ['prepareCompose', 'runReposyncTask', 'verifyCompose', 'flipLatestSymlink', 'syncToStaging', 'previewProduction', 'syncToProduction', 'hardlinkRelease', 'publishFileLists'] as const;

describe('task queues by host', () => {
  it('runs every heavy activity on the compose-host queue and none on the control queue', async () => {
    const taskQueue = uniqueQueue('control');
    const hostTaskQueue = `${taskQueue}-host`;
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { temporal: { taskQueue, hostTaskQueue } } });
    const { address, namespace } = serverAddress();
    const ranOnControl: string[] = [];
    // The control worker's heavy activities would betray themselves if the server ever gave it one.
    const trap = Object.fromEntries(
      HEAVY.map((name) => [
        name,
        async () => {
          ranOnControl.push(name);
          throw new Error(`${name} ran on the control queue`);
        },
      ]),
    );
    const control = await createWorkers({ address, namespace, site, catalogue: testCatalogue(), queues: ['control'], activityOverrides: trap });
    const host = await createWorkers({ address, namespace, site, catalogue: testCatalogue(), queues: ['host'] });
    expect(control.workers.map((w) => w.options.taskQueue)).toEqual([taskQueue]);
    expect(host.workers.map((w) => w.options.taskQueue)).toEqual([hostTaskQueue]);
    const runs = [...control.workers, ...host.workers].map((w) => w.run());
    try {
      const client = await testClient();
      const handle = await startRelease(client, site, testCatalogue(), { release: '9', sig: 'core', hashed: true, fullRun: true, arches: ['x86_64'], ignoreDebug: true }, { workflowId: uniqueQueue('queues') });
      await waitFor('the gate', async () => ((await handle.query(statusQuery)).stage === 'awaiting-approval' ? true : undefined), 120_000);
      await handle.executeUpdate('approve', { args: [{ by: 'tester' }] });
      const result = await handle.result();
      expect(result.outcome).toBe('promoted');
      expect(ranOnControl).toEqual([]);
      expect(fs.readdirSync(productionSigDir(site, '9', 'core')).sort()).toEqual(['metadata', 'source', 'x86_64']);
    } finally {
      [...control.workers, ...host.workers].forEach((w) => w.shutdown());
      await Promise.allSettled(runs);
      await control.close();
      await host.close();
    }
  });
});
