// A run holding the production lock while it waits for the file-list writer's answer keeps its turn, however long
// the writer takes (up to the run's bound, twice runtime.timeouts.longSync), even when that outlasts the lock's
// lease and another run is waiting: the waiting holder renews its lease. Without renewals the lock would grant the
// waiting run its turn mid-wait, and its production writes would run beside this run's walk of the lists.
// Real dev server, real publisher on a real tree; only the first walk is held open.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { publishFileLists, type PublishFileListsInput } from '../../activities/filelists.js';
import { startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { productionCategory } from '../../src/paths.js';
import { durationMs } from '../../workflows/duration.js';
import { fileListWriterId } from '../../workflows/fileListWriter.js';
import { fileListsRequestedSignal, lockStatusQuery, type LockStatus } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import type { ReleaseResult } from '../../workflows/releaseRun.js';
import { testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { Hold } from '../operations/fakes.js';

const LEASE = '6s';

const lockStatus = (client: Client, site: SiteConfig): Promise<LockStatus> => client.workflow.getHandle(lockWorkflowId(site.productionRoot)).query(lockStatusQuery);

async function signalsReceived(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}

describe('the production lock lease while the holder waits for the file lists', () => {
  it('a holder waiting for the writer past its lease keeps its turn while another run waits, and the other runs after it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { lock: { lease: LEASE } } });
    const category = productionCategory(site);
    fs.mkdirSync(path.join(category, '9', 'core', 'x86_64'), { recursive: true });
    fs.writeFileSync(path.join(category, '9', 'core', 'x86_64', 'a.rpm'), 'a');
    const hold = new Hold();
    let walks = 0;
    const walk = async (input: PublishFileListsInput) => {
      if (++walks === 1) await hold.wait();
      return publishFileLists(input);
    };
    const taskQueue = uniqueQueue('lease-lists');
    await withWorkers({ site, taskQueue, activityOverrides: { publishFileLists: walk } }, async ({ client }) => {
      const writerId = fileListWriterId('sig', site.productionRoot);
      // A walk already running (someone else's request), held open: the holder's request waits behind it.
      await client.workflow.signalWithStart('fileListWriter', {
        workflowId: writerId,
        taskQueue,
        args: [{ level: 'sig' }],
        signal: fileListsRequestedSignal,
        signalArgs: [{ workflowId: `release-${taskQueue}`, requestId: 'release-request' }],
      });
      try {
        await hold.reached;
        const lists = { release: '9', sig: 'core', from: 'lists', listLevel: 'sig' } as const;
        const first = await startRelease(client, site, testCatalogue(), lists, { taskQueue, workflowId: uniqueQueue('lists-holder') });
        await waitFor('the first run to hold the lock and ask the writer', async () => {
          const st = await lockStatus(client, site).catch(() => null);
          return st?.holder === first.workflowId && (await signalsReceived(client, writerId)) >= 2 ? st : undefined;
        }, 60_000, 200);
        const second = await startRelease(client, site, testCatalogue(), lists, { taskQueue, workflowId: uniqueQueue('lists-waiter') });
        const held = await waitFor('the second run to wait for the lock', async () => {
          const st = await lockStatus(client, site);
          return st.queue.includes(second.workflowId) ? st : undefined;
        }, 60_000, 200);
        // Three leases after the grant, with a run waiting the whole time: an unrenewed lease would have run out.
        const beyondLeases = Date.parse(held.heldSince!) + 3 * durationMs(LEASE);
        await waitFor('three leases to pass', async () => (Date.now() > beyondLeases ? true : undefined), 60_000, 500);
        const during = await lockStatus(client, site);
        expect(during.holder).toBe(first.workflowId);
        expect(during.token).toBe(held.token);
        expect(during.expiredLeases ?? []).toEqual([]);
        expect(Date.parse(during.leaseEndsAt!)).toBeGreaterThan(beyondLeases - durationMs(LEASE));

        hold.release();
        expect(((await first.result()) as ReleaseResult).outcome).toBe('published');
        expect(((await second.result()) as ReleaseResult).outcome).toBe('published');
        expect((await lockStatus(client, site)).expiredLeases ?? []).toEqual([]);
      } finally {
        hold.release();
        await client.workflow.getHandle(writerId).terminate('test over').catch(() => undefined);
      }
    });
  }, 240_000);
});
