// Production syncs of one release never overlap across SIGs: they share the hardlink pass and the file lists.
// The compose is faked (no dnf); staging, preview, production sync, hardlink and file lists are the real ones,
// wrapped to record when each promotion starts and ends.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { activityInfo } from '@temporalio/activity';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import * as filelists from '../../activities/filelists.js';
import * as publish from '../../activities/publish.js';
import { startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { productionCategory, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, lockStatusQuery, statusQuery, type LockStatus } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import { failureChain, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, testWorkflowId, untilStage, type ActivityOverrides } from './support.js';

interface Span {
  workflowId: string;
  activity: string;
  start: number;
  end: number;
}

/**
 * The real production activities, timed per workflow. `beforeSync` runs inside `syncToProduction` before the
 * real sync: it can slow a promotion down, hold it until the test lets go, or fail it.
 */
function timedPromotion(beforeSync: (workflowId: string) => Promise<void>) {
  const spans: Span[] = [];
  const timed =
    <I, O>(activity: string, real: (input: I) => Promise<O>, before?: (workflowId: string) => Promise<void>) =>
    async (input: I): Promise<O> => {
      const workflowId = activityInfo().workflowExecution?.workflowId ?? '(no workflow)';
      const start = Date.now();
      try {
        await before?.(workflowId);
        return await real(input);
      } finally {
        spans.push({ workflowId, activity, start, end: Date.now() });
      }
    };
  const overrides: ActivityOverrides = {
    ...composeWithoutDnf(),
    syncToProduction: timed('syncToProduction', publish.syncToProduction, beforeSync),
    hardlinkRelease: timed('hardlinkRelease', publish.hardlinkRelease),
    publishFileLists: timed('publishFileLists', filelists.publishFileLists),
  };
  /** From the start of the production sync to the end of the last file list. */
  const promotion = (workflowId: string) => {
    const own = spans.filter((s) => s.workflowId === workflowId);
    return { start: Math.min(...own.map((s) => s.start)), end: Math.max(...own.map((s) => s.end)), activities: own.map((s) => s.activity) };
  };
  return { spans, overrides, promotion };
}

/** A promise the test resolves; gives up after a minute so a failed test cannot hang the worker's shutdown. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
    setTimeout(resolve, 60_000).unref();
  });
  return { open, opened };
}

const lockStatus = (client: Client, site: SiteConfig) => client.workflow.getHandle(lockWorkflowId(site.productionRoot)).query(lockStatusQuery);
const untilLock = (client: Client, site: SiteConfig, what: string, ok: (s: LockStatus) => boolean) =>
  waitFor(`the production lock: ${what}`, async () => {
    const s = await lockStatus(client, site);
    return ok(s) ? s : undefined;
  });

describe('the production lock', () => {
  it('serialises the production syncs of two SIGs of one release approved at the same moment, and both complete', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    // Each production sync takes at least 1.5 s: without the lock, two promotions approved together overlap.
    const promo = timedPromotion(() => new Promise((r) => setTimeout(r, 1_500)));
    await withWorkers({ site, activityOverrides: promo.overrides }, async ({ client, taskQueue }) => {
      const ids = { core: testWorkflowId('core', 'lock-both'), cloud: testWorkflowId('cloud', 'lock-both') };
      try {
        const start = (sig: 'core' | 'cloud') => startRelease(client, site, testCatalogue(), smallRelease(sig), { taskQueue, workflowId: ids[sig], runtime: fastRuntime() });
        const [core, cloud] = await Promise.all([start('core'), start('cloud')]);
        await Promise.all([untilStage(core, 'awaiting-approval'), untilStage(cloud, 'awaiting-approval')]);

        await Promise.all([core.signal(approveSignal, { by: 'alice' }), cloud.signal(approveSignal, { by: 'bob' })]);
        const [coreResult, cloudResult] = await Promise.all([core.result(), cloud.result()]);
        expect(coreResult.outcome).toBe('promoted');
        expect(cloudResult.outcome).toBe('promoted');

        const [first, second] = [promo.promotion(ids.core), promo.promotion(ids.cloud)].sort((a, b) => a.start - b.start);
        expect(first!.activities).toEqual(['syncToProduction', 'hardlinkRelease']);
        expect(second!.activities).toEqual(['syncToProduction', 'hardlinkRelease']);
        expect(first!.end).toBeLessThanOrEqual(second!.start);
        // The lists are walked by one writer per level (workflows/fileListWriter.ts) that both releases ask, one
        // walk at a time per level.
        const walks = promo.spans.filter((s) => s.activity === 'publishFileLists');
        expect(walks.length).toBeGreaterThan(0);
        for (const w of walks) expect(w.workflowId).toMatch(/^sigrelease-filelists-(sig|root)@/);
        for (const level of new Set(walks.map((w) => w.workflowId))) {
          const own = walks.filter((w) => w.workflowId === level).sort((a, b) => a.start - b.start);
          for (let i = 1; i < own.length; i++) expect(own[i - 1]!.end).toBeLessThanOrEqual(own[i]!.start);
        }

        for (const sig of ['core', 'cloud']) expect(treeDigest(productionSigDir(site, '9', sig))).toEqual(treeDigest(stagingSigDir(site, '9', sig)));
        // The second promotion's file list covers both SIGs.
        const listed = fs.readFileSync(path.join(productionCategory(site), 'fullfilelist'), 'utf8').split('\n');
        expect(listed).toContain('./9/core/x86_64/core-common/repodata/repomd.xml');
        expect(listed).toContain('./9/cloud/x86_64/cloud-kernel/repodata/repomd.xml');
        expect(await lockStatus(client, site)).toMatchObject({ release: '9', holder: null, heldSince: null, queue: [], token: null, forcedReleases: [], expiredLeases: [] });
      } finally {
        await cleanUp(client, site, Object.values(ids));
      }
    });
  });

  it('hands the lock on when the holder fails in its production sync', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const coreSync = gate();
    const ids = { core: testWorkflowId('core', 'lock-fail'), cloud: testWorkflowId('cloud', 'lock-fail') };
    const promo = timedPromotion(async (workflowId) => {
      if (workflowId !== ids.core) return;
      await coreSync.opened;
      throw ApplicationFailure.create({ type: 'ProductionReadOnly', message: 'the production volume went read-only', nonRetryable: true });
    });
    await withWorkers({ site, activityOverrides: promo.overrides }, async ({ client, taskQueue }) => {
      try {
        const start = (sig: 'core' | 'cloud') => startRelease(client, site, testCatalogue(), smallRelease(sig), { taskQueue, workflowId: ids[sig], runtime: fastRuntime() });
        const [core, cloud] = await Promise.all([start('core'), start('cloud')]);
        await Promise.all([untilStage(core, 'awaiting-approval'), untilStage(cloud, 'awaiting-approval')]);

        await core.signal(approveSignal, { by: 'alice' });
        await untilStage(core, 'promoting');
        await cloud.signal(approveSignal, { by: 'bob' });
        await untilStage(cloud, 'waiting-for-production-lock');
        await untilLock(client, site, 'core holds it, cloud waits', (s) => s.holder === ids.core && s.queue.join() === ids.cloud);

        coreSync.open();
        const err = await core.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect(failureChain(err)).toContain('failed during promoting: the production volume went read-only');
        expect(await core.query(statusQuery)).toMatchObject({ stage: 'failed', error: 'the production volume went read-only' });

        expect((await cloud.result()).outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'cloud'))).toEqual(treeDigest(stagingSigDir(site, '9', 'cloud')));
        expect(promo.promotion(ids.core).end).toBeLessThanOrEqual(promo.promotion(ids.cloud).start);
        expect(await lockStatus(client, site)).toMatchObject({ release: '9', holder: null, heldSince: null, queue: [], token: null, forcedReleases: [], expiredLeases: [] });
      } finally {
        await cleanUp(client, site, Object.values(ids));
      }
    });
  });

  it('hands the lock on when the holder is cancelled (its promotion finishes first), and drops a cancelled waiter from the line', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const coreSync = gate();
    const ids = { core: testWorkflowId('core', 'lock-cancel'), cloud: testWorkflowId('cloud', 'lock-cancel'), virt: testWorkflowId('virt', 'lock-cancel') };
    const promo = timedPromotion(async (workflowId) => {
      if (workflowId === ids.core) await coreSync.opened;
    });
    await withWorkers({ site, activityOverrides: promo.overrides }, async ({ client, taskQueue }) => {
      try {
        const start = (sig: keyof typeof ids) => startRelease(client, site, testCatalogue(), smallRelease(sig), { taskQueue, workflowId: ids[sig], runtime: fastRuntime() });
        const [core, cloud, virt] = await Promise.all([start('core'), start('cloud'), start('virt')]);
        await Promise.all([core, cloud, virt].map((h) => untilStage(h, 'awaiting-approval')));

        await core.signal(approveSignal, { by: 'alice' });
        await untilStage(core, 'promoting');
        const approveAndQueue = async (h: WorkflowHandle) => {
          await h.signal(approveSignal, { by: 'bob' });
          await untilLock(client, site, `${h.workflowId} waits`, (s) => s.queue.includes(h.workflowId));
        };
        await approveAndQueue(cloud);
        await approveAndQueue(virt);
        expect(await lockStatus(client, site)).toMatchObject({ holder: ids.core, queue: [ids.cloud, ids.virt] });

        // A waiter that is cancelled leaves the line.
        await virt.cancel();
        const virtErr = await virt.result().catch((e: unknown) => e);
        expect((virtErr as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        expect((await virt.query(statusQuery)).stage).toBe('cancelled');
        await untilLock(client, site, 'virt has left the line', (s) => s.holder === ids.core && s.queue.join() === ids.cloud);

        // The holder is cancelled mid-promotion: it finishes the promotion, then gives the lock to cloud.
        await core.cancel();
        coreSync.open();
        const coreResult = await core.result();
        expect(coreResult.outcome).toBe('promoted');
        expect(coreResult.warnings).toContain('a cancel arrived during promotion; the promotion was finished first so that production matches staging');
        expect((await cloud.result()).outcome).toBe('promoted');

        expect(promo.promotion(ids.core).end).toBeLessThanOrEqual(promo.promotion(ids.cloud).start);
        expect(promo.spans.filter((s) => s.workflowId === ids.virt)).toEqual([]);
        expect(fs.existsSync(productionSigDir(site, '9', 'virt'))).toBe(false);
        expect(await lockStatus(client, site)).toMatchObject({ release: '9', holder: null, heldSince: null, queue: [], token: null, forcedReleases: [], expiredLeases: [] });
      } finally {
        await cleanUp(client, site, Object.values(ids));
      }
    });
  });
});
