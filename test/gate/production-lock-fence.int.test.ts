// A production lock that cannot be outlived or lost (issue 12 item 7): a holder whose turn ended (lease ran
// out, an operator forced it, the lock was terminated) is told, and its production writes are refused by the
// fence once the next holder has written; a waiting run whose lock lost its request still gets production.
// Two SIGs of one release share the lock. The compose is faked (no dnf); staging, the production sync,
// hardlink, file lists and the fence are real, and so are the lock's lease and allowlist: the tests configure
// them (site config lock.lease, lock.operators; runtime lock.checkEvery), never step around them.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { activityInfo, Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../activities/index.js';
import { startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { readFence } from '../../src/lock/fence.js';
import { productionCategory, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, forceReleaseUpdate, lockStatusQuery, statusQuery, type ForcedRelease, type LockStatus } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';
import { failureChain, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { runCli } from '../cli/bad-input-cases.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, testWorkflowId, untilStage, type ActivityOverrides } from './support.js';

/**
 * Holds the production syncs of the runs `hold` names until the test opens them (heartbeating meanwhile, as a
 * slow rsync would), then runs the worker's own fenced syncToProduction: the fence is not stepped around.
 */
function heldProductionSyncs(site: SiteConfig) {
  const real = createActivities({ site, catalogue: testCatalogue() });
  const gates = new Map<string, { opened: boolean }>();
  const overrides: ActivityOverrides = {
    ...composeWithoutDnf(),
    syncToProduction: async (input) => {
      const gate = gates.get(activityInfo().workflowExecution?.runId ?? '');
      const deadline = Date.now() + 180_000;
      while (gate && !gate.opened && Date.now() < deadline) {
        Context.current().heartbeat();
        await new Promise((r) => setTimeout(r, 500));
      }
      return real.syncToProduction(input);
    },
  };
  return {
    overrides,
    hold: (runId: string) => void gates.set(runId, { opened: false }),
    /** Opens one run's sync, or every one. */
    open: (runId?: string) => {
      for (const [id, gate] of gates) if (runId === undefined || id === runId) gate.opened = true;
    },
  };
}

const lockStatus = (client: Client, site: SiteConfig) => client.workflow.getHandle(lockWorkflowId(site.productionRoot)).query(lockStatusQuery);
const untilLock = (client: Client, site: SiteConfig, what: string, ok: (s: LockStatus) => boolean) =>
  waitFor(`the production lock: ${what}`, async () => {
    const s = await lockStatus(client, site).catch(() => undefined);
    return s && ok(s) ? s : undefined;
  });

/** core holds the lock (its production sync held), cloud waits in line behind it. */
async function coreHoldsCloudWaits(client: Client, site: SiteConfig, taskQueue: string, label: string, runtime: RuntimeOptions, hold: (runId: string, sig: 'core' | 'cloud') => void) {
  const ids = { core: testWorkflowId('core', label), cloud: testWorkflowId('cloud', label) };
  const start = (sig: 'core' | 'cloud') => startRelease(client, site, testCatalogue(), smallRelease(sig), { taskQueue, workflowId: ids[sig], runtime });
  const [core, cloud] = await Promise.all([start('core'), start('cloud')]);
  hold((await core.describe()).runId, 'core');
  hold((await cloud.describe()).runId, 'cloud');
  await Promise.all([untilStage(core, 'awaiting-approval'), untilStage(cloud, 'awaiting-approval')]);
  await core.signal(approveSignal, { by: 'alice' });
  await untilStage(core, 'promoting');
  // Seen holding before anyone waits: a lease ends a turn only once someone waits, so this cannot be missed.
  const coreGrant = await untilLock(client, site, 'core holds it with a grant number', (s) => s.holder === ids.core && typeof s.token === 'number');
  await cloud.signal(approveSignal, { by: 'bob' });
  return { ids, core, cloud, coreToken: coreGrant.token! };
}

/** The holder whose turn ended: its held production write is refused by the fence, naming both grants. */
async function expectFencedOut(core: WorkflowHandle, site: SiteConfig, coreToken: number) {
  const failure = await core.result().then(
    () => null,
    (e: unknown) => failureChain(e),
  );
  expect(failure).toMatch(/FencedOut/);
  const fence = await readFence(site.productionRoot);
  expect(fence).toBeGreaterThan(coreToken);
  expect(failure).toContain(`grant is number ${coreToken}`);
  expect(failure).toContain(`grant ${fence}`);
  expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
}

const cloudIsInProduction = (site: SiteConfig) => expect(treeDigest(productionSigDir(site, '9', 'cloud'))).toEqual(treeDigest(stagingSigDir(site, '9', 'cloud')));

describe('production lock: fenced, told, forced, never lost', () => {
  it('refuses the writes of a holder whose lease ran out once the next holder has written, and tells it', async () => {
    // A short lease: the held core sync outlives it as soon as cloud waits (cloud's own turn is not cut short,
    // since nobody waits behind it).
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { lock: { lease: '2s' } } });
    const held = heldProductionSyncs(site);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      let ids: Record<string, string> = {};
      try {
        const setup = await coreHoldsCloudWaits(client, site, taskQueue, 'lease-expired', fastRuntime(), (run, sig) => sig === 'core' && held.hold(run));
        ids = setup.ids;
        const coreToken = setup.coreToken;

        // The lease runs out while core's sync is still held; cloud is granted and promotes.
        expect((await setup.cloud.result()).outcome).toBe('promoted');
        const after = await lockStatus(client, site);
        expect(after.expiredLeases?.map((x) => [x.workflowId, x.token])).toEqual([[ids.core, coreToken]]);
        const coreStatus = await waitFor('core to be told its lease ran out', async () => {
          const s = await setup.core.query(statusQuery);
          return s.warnings.some((w) => w.includes('lease') && w.includes('ran out')) ? s : undefined;
        });
        expect(coreStatus.warnings.join('\n')).toContain(`grant ${coreToken}`);

        held.open();
        await expectFencedOut(setup.core, site, coreToken);
        cloudIsInProduction(site);
      } finally {
        held.open();
        await cleanUp(client, site, Object.values(ids));
      }
    });
  }, 240_000);

  it('tells a holder whose lease ran out, which stops before its next production write', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { lock: { lease: '2s' } } });
    const held = heldProductionSyncs(site);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      let ids: Record<string, string> = {};
      try {
        // Both syncs held: core's lease runs out, cloud is granted but has not written yet.
        const setup = await coreHoldsCloudWaits(client, site, taskQueue, 'lease-notice', fastRuntime(), held.hold);
        ids = setup.ids;
        await untilLock(client, site, 'cloud granted after core\'s lease ran out', (s) => s.holder === ids.cloud);
        await waitFor('core to be told its lease ran out', async () => {
          const s = await setup.core.query(statusQuery);
          return s.warnings.some((w) => w.includes(`lease (grant ${setup.coreToken}) ran out`)) ? true : undefined;
        });
        // core's sync was already on its way and nobody wrote since: the fence admits it. Its next write is
        // stopped by the notice: LockLost before the hardlink pass.
        held.open((await setup.core.describe()).runId);
        const failure = await setup.core.result().then(
          () => null,
          (e: unknown) => failureChain(e),
        );
        expect(failure).toMatch(/LockLost/);
        expect(failure).toContain('stopped before the hardlink pass');
        expect(fs.existsSync(path.join(productionCategory(site), 'fullfilelist'))).toBe(false);

        held.open();
        expect((await setup.cloud.result()).outcome).toBe('promoted');
        cloudIsInProduction(site);
        expect(await readFence(site.productionRoot)).toBeGreaterThan(setup.coreToken);
      } finally {
        held.open();
        await cleanUp(client, site, Object.values(ids));
      }
    });
  }, 240_000);

  it('lets only an allowlisted operator force the lock free, records who and why, and fences out the holder', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { lock: { operators: ['olivia'] } } });
    const held = heldProductionSyncs(site);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      let ids: Record<string, string> = {};
      try {
        const setup = await coreHoldsCloudWaits(client, site, taskQueue, 'forced', fastRuntime(), (run, sig) => sig === 'core' && held.hold(run));
        ids = setup.ids;
        const before = await untilLock(client, site, 'core holds it, cloud waits', (s) => s.holder === ids.core && s.queue.join() === ids.cloud);
        const lock = client.workflow.getHandle(lockWorkflowId(site.productionRoot));

        const refused = await lock.executeUpdate(forceReleaseUpdate, { args: [{ by: 'mallory', reason: 'I want my release out' }] }).then(
          () => null,
          (e: unknown) => failureChain(e),
        );
        expect(refused).toMatch(/NotALockOperator/);
        expect(refused).toContain('"mallory" may not force the production lock free');
        const noReason = await lock.executeUpdate(forceReleaseUpdate, { args: [{ by: 'olivia', reason: '' }] }).then(
          () => null,
          (e: unknown) => failureChain(e),
        );
        expect(noReason).toMatch(/"reason" must say why/);
        expect(await lockStatus(client, site)).toMatchObject({ holder: ids.core, queue: [ids.cloud], forcedReleases: [] });

        // The operator uses the CLI, which reads the same site file as the worker.
        const siteFile = path.join(path.dirname(site.productionRoot), 'site.yaml');
        fs.writeFileSync(siteFile, YAML.stringify(site));
        const cli = (...args: string[]) => runCli(['--site', siteFile, '--json', 'lock', ...args], {});
        const done = await cli('force-release', '--by', 'olivia', '--reason', 'core sync hung on a dead NFS mount');
        expect(done.exitCode, done.stderr).toBe(0);
        const forced = JSON.parse(done.stdout) as ForcedRelease;
        expect(forced).toMatchObject({ by: 'olivia', reason: 'core sync hung on a dead NFS mount', holder: { workflowId: ids.core, token: before.token } });
        const shown = await cli('status');
        expect(shown.exitCode, shown.stderr).toBe(0);
        expect((JSON.parse(shown.stdout) as LockStatus).forcedReleases).toEqual([forced]);
        const again = await cli('force-release', '--by', 'mallory', '--reason', 'me too');
        expect(again.exitCode).toBe(2);
        expect(again.stderr).toContain('"mallory" may not force the production lock free');

        expect((await setup.cloud.result()).outcome).toBe('promoted');
        await waitFor('core to be told it was forced out', async () => {
          const s = await setup.core.query(statusQuery);
          return s.warnings.some((w) => w.includes('taken from this run') && w.includes('olivia') && w.includes('dead NFS mount')) ? true : undefined;
        });
        held.open();
        await expectFencedOut(setup.core, site, before.token!);
        cloudIsInProduction(site);
      } finally {
        held.open();
        await cleanUp(client, site, Object.values(ids));
      }
    });
  }, 240_000);

  it('gives production to a waiting run after the lock workflow was terminated under it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const held = heldProductionSyncs(site);
    await withWorkers({ site, activityOverrides: held.overrides }, async ({ client, taskQueue }) => {
      let ids: Record<string, string> = {};
      try {
        const runtime = { ...fastRuntime(), lock: { checkEvery: '2s' } };
        const setup = await coreHoldsCloudWaits(client, site, taskQueue, 'lock-terminated', runtime, (run, sig) => sig === 'core' && held.hold(run));
        ids = setup.ids;
        const before = await untilLock(client, site, 'core holds it, cloud waits', (s) => s.holder === ids.core && s.queue.join() === ids.cloud);
        await client.workflow.getHandle(lockWorkflowId(site.productionRoot)).terminate('an operator ended the lock by mistake');

        // cloud finds its request gone, sends it again, and a new lock (which knows nothing of core) grants it.
        expect((await setup.cloud.result()).outcome).toBe('promoted');
        const cloudStatus = await setup.cloud.query(statusQuery);
        expect(cloudStatus.warnings.join('\n')).toContain("had lost this run's request");
        cloudIsInProduction(site);

        // The terminated lock's holder is fenced out by the new lock's higher grant.
        held.open();
        await expectFencedOut(setup.core, site, before.token!);
      } finally {
        held.open();
        await cleanUp(client, site, Object.values(ids));
      }
    });
  }, 240_000);
});
