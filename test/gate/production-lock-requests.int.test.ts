// A production lock that cannot be fooled or lost: requests name their run and acquisition, a grant that names
// no pending request is ignored, and a new run under a closed holder's workflow ID gets its turn. The compose is
// faked (no dnf); staging, preview, production sync, hardlink and file lists are real.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { execa } from 'execa';
import * as publish from '../../activities/publish.js';
import { startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { temporalCliPath } from '../../src/devserver.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, lockStatusQuery, statusQuery, type LockStatus } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import { serverAddress, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, testWorkflowId, untilStage, type ActivityOverrides } from './support.js';

/** Holds the production sync of runs under `heldId` until the test opens it (a minute at most). */
function heldPromotion(heldId: () => string | null) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
    setTimeout(resolve, 60_000).unref();
  });
  const overrides: ActivityOverrides = {
    ...composeWithoutDnf(),
    syncToProduction: async (input) => {
      if (activityInfo().workflowExecution?.runId === heldId()) await opened;
      return publish.syncToProduction(input);
    },
  };
  return { overrides, open };
}

const lockStatus = (client: Client, site: SiteConfig) => client.workflow.getHandle(lockWorkflowId(site.productionRoot)).query(lockStatusQuery);
const untilLock = (client: Client, site: SiteConfig, what: string, ok: (s: LockStatus) => boolean) =>
  waitFor(`the production lock: ${what}`, async () => {
    const s = await lockStatus(client, site);
    return ok(s) ? s : undefined;
  });

describe('production lock requests', () => {
  it('ignores a productionLockGranted signal sent by hand to a run waiting for the lock', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    let coreRun: string | null = null;
    const held = heldPromotion(() => coreRun);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      const ids = { core: testWorkflowId('core', 'forged-grant'), cloud: testWorkflowId('cloud', 'forged-grant') };
      try {
        const start = (sig: 'core' | 'cloud') => startRelease(client, site, testCatalogue(), smallRelease(sig), { taskQueue, workflowId: ids[sig], runtime: fastRuntime() });
        const [core, cloud] = await Promise.all([start('core'), start('cloud')]);
        coreRun = (await core.describe()).runId;
        await Promise.all([untilStage(core, 'awaiting-approval'), untilStage(cloud, 'awaiting-approval')]);
        await core.signal(approveSignal, { by: 'alice' });
        await untilStage(core, 'promoting');
        await cloud.signal(approveSignal, { by: 'bob' });
        await untilLock(client, site, 'core holds it, cloud waits', (s) => s.holder === ids.core && s.queue.join() === ids.cloud);

        // The grant the Web UI's signal list offers, sent by hand with the lock's own ID.
        const { address, namespace } = serverAddress();
        const forged = JSON.stringify({ lockWorkflowId: lockWorkflowId(site.productionRoot) });
        await execa(temporalCliPath(), ['workflow', 'signal', '--address', address, '--namespace', namespace, '--workflow-id', ids.cloud, '--name', 'productionLockGranted', '--input', forged]);
        // A query after the signal is answered after the signal was handled: the run still waits, nothing written.
        await waitFor('the forged grant to be in the history', async () => {
          const h = await cloud.fetchHistory();
          return h.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'productionLockGranted') ? true : undefined;
        });
        expect((await cloud.query(statusQuery)).stage).toBe('waiting-for-production-lock');
        expect(fs.existsSync(productionSigDir(site, '9', 'cloud'))).toBe(false);
        expect(await lockStatus(client, site)).toMatchObject({ holder: ids.core, queue: [ids.cloud] });

        // A request sent by hand to the lock with a run ID that is not one: granting it would be an invalid
        // signal command and fail every workflow task of the lock. It is ignored; the lock keeps answering.
        const malformed = JSON.stringify({ workflowId: ids.cloud, runId: 'no-run', requestId: 'no-request' });
        await execa(temporalCliPath(), ['workflow', 'signal', '--address', address, '--namespace', namespace, '--workflow-id', lockWorkflowId(site.productionRoot), '--name', 'requestLock', '--input', malformed]);
        expect(await lockStatus(client, site)).toMatchObject({ holder: ids.core, queue: [ids.cloud] });

        held.open();
        expect((await core.result()).outcome).toBe('promoted');
        expect((await cloud.result()).outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'cloud'))).toEqual(treeDigest(stagingSigDir(site, '9', 'cloud')));
      } finally {
        held.open();
        await cleanUp(client, site, Object.values(ids));
      }
    });
  });

  it('gives the lock to a new run started under the workflow ID of a holder that was terminated', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    let firstRun: string | null = null;
    const held = heldPromotion(() => firstRun);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'holder-terminated');
      try {
        const start = () => startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        const first = await start();
        firstRun = (await first.describe()).runId;
        await untilStage(first, 'awaiting-approval');
        await first.signal(approveSignal, { by: 'alice' });
        await untilStage(first, 'promoting');
        await untilLock(client, site, 'the first run holds it', (s) => s.holder === workflowId);
        await first.terminate('operator ended the run');

        const second = await start();
        expect((await second.describe()).runId).not.toBe(firstRun);
        await untilStage(second, 'awaiting-approval');
        await second.signal(approveSignal, { by: 'alice' });
        expect((await second.result()).outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
        expect(await lockStatus(client, site)).toMatchObject({ holder: null, queue: [] });
      } finally {
        held.open();
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
