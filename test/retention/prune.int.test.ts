// Retention against the real dev server: ten dated composes of core 9 that share packages by hard links, as
// seeded composes do; compose.keep 5; latest, the staging and production sources and a running release's compose
// protected. A dry run removes nothing; a real run removes exactly the others and reports the bytes whose last
// link went. The running release is a real sigRelease run, parked in its compose (heavy activities faked).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSigRelease } from '../../src/config/load.js';
import { composeBase, composeStamp, latestLink, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { writeSourceRecord } from '../../src/lifecycle/sources.js';
import { pruneScheduleId, upsertPruneSchedule } from '../../src/retention/schedule.js';
import { statusQuery } from '../../workflows/messages.js';
import type { PruneResult } from '../../workflows/prune.js';
import { failureChain, testCatalogue, testClient, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { cliFor } from '../operations/cli.js';
import { Hold, fakeHeavyActivities, terminateLeftovers } from '../operations/fakes.js';

const queues: string[] = [];
const schedules: string[] = [];
afterEach(async () => {
  const client = await testClient();
  for (const id of schedules.splice(0)) await client.schedule.getHandle(id).delete().catch(() => undefined);
  for (const q of queues.splice(0)) await terminateLeftovers(client, q);
});

const DAY = 86_400_000;
const stampToMs = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15));

/** Writes `bytes` bytes at `file` (folders created). */
function writeFile(file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(bytes, 7));
}

describe('sigrelease prune', () => {
  it('keeps the newest compose.keep and every compose in use, removes exactly the others, and counts bytes by last hard link', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused-by-fakes', overrides: { compose: { keep: 5 } } });
    const taskQueue = uniqueQueue('retention');
    queues.push(taskQueue);
    const compose = new Hold();
    const { revision } = resolveSigRelease(testCatalogue(), site, 'core', '9');
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site, { compose }) }, async ({ client }) => {
      // A running release of core 9, parked in its compose: its status names its compose's stamp.
      const run = await client.workflow.start('sigRelease', { workflowId: 'sigrelease-core-9', taskQueue, args: [{ release: '9', sig: 'core', fullRun: true, ignoreDebug: true, ignoreSource: true, arches: ['x86_64'], runtime: { timeouts: { heartbeat: '2s' } } }] });
      await compose.reached;
      const running = /(\d{8}\.\d{6})$/.exec((await run.query(statusQuery)).composeWorkflowId ?? '')?.[1];
      expect(running).toBeDefined();

      // d1..d10, oldest first; the running release's compose is d3, five composes are newer than it.
      const t0 = stampToMs(running!);
      const stamps = [-3, -2, 0, 1, 2, 3, 4, 5, 6, 7].map((d, i) => (d === 0 ? running! : composeStamp(t0 + d * DAY + i * 1000)));
      const base = composeBase(site, '9');
      const dirs = stamps.map((s) => path.join(base, `SIG-core-${revision}-${s}`));
      const pkg = (i: number, name: string) => path.join(dirs[i]!, 'compose', '9', 'core', 'x86_64', 'core', 'Packages', name);
      dirs.forEach((_, i) => writeFile(pkg(i, `only-d${i + 1}.rpm`), 1000 * (i + 1)));
      writeFile(pkg(0, 'in-every-compose.rpm'), 50_000); // seeded into all: never freed while one stays
      dirs.slice(1).forEach((_, i) => fs.linkSync(pkg(0, 'in-every-compose.rpm'), pkg(i + 1, 'in-every-compose.rpm')));
      writeFile(pkg(3, 'd4-and-d5.rpm'), 7_000); // both links go: freed once
      fs.linkSync(pkg(3, 'd4-and-d5.rpm'), pkg(4, 'd4-and-d5.rpm'));
      writeFile(pkg(4, 'd5-and-d6.rpm'), 9_000); // d6 is kept: not freed
      fs.linkSync(pkg(4, 'd5-and-d6.rpm'), pkg(5, 'd5-and-d6.rpm'));
      fs.mkdirSync(path.join(base, 'SIG-corex-9.7-20200101.000000')); // another SIG's: never touched
      fs.symlinkSync(dirs[9]!, latestLink(site, '9', 'core'));
      // Where staging and production came from, recorded beside the trees as the staging and production syncs do.
      fs.mkdirSync(stagingSigDir(site, '9', 'core'), { recursive: true });
      fs.mkdirSync(productionSigDir(site, '9', 'core'), { recursive: true });
      const source = (i: number) => ({ compose: path.basename(dirs[i]!), composeId: `core-9-${stamps[i]}`, digest: 'x', recordedAt: '', workflowId: 'w' });
      await writeSourceRecord(site, 'staging', '9', 'core', source(1));
      await writeSourceRecord(site, 'production', '9', 'core', source(0));
      const removable = [path.basename(dirs[3]!), path.basename(dirs[4]!)];
      const expectedBytes = 4000 + 5000 + 7000;

      // The CLI's dry run: what would go and the bytes, nothing removed.
      const cli = cliFor(site, taskQueue);
      const dry = await cli.json<PruneResult>(['prune', '--dry-run', '9', 'core']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      const report = dry.data.reports[0]!;
      expect(report.removed).toEqual(removable);
      expect(report.bytesFreed).toBe(expectedBytes);
      expect(report.filesStillLinked).toBe(2); // in-every-compose (one inode, two links here) and d5-and-d6
      expect(Object.fromEntries(report.kept.map((k) => [k.name, k.reasons]))).toEqual({
        [path.basename(dirs[9]!)]: ['newest', 'latest'],
        [path.basename(dirs[8]!)]: ['newest'],
        [path.basename(dirs[7]!)]: ['newest'],
        [path.basename(dirs[6]!)]: ['newest'],
        [path.basename(dirs[5]!)]: ['newest'],
        [path.basename(dirs[2]!)]: ['running'],
        [path.basename(dirs[1]!)]: ['staging'],
        [path.basename(dirs[0]!)]: ['production'],
      });
      expect(dirs.every((d) => fs.existsSync(d))).toBe(true);

      // A dry-run schedule runs the same workflow and reports the same.
      const sched = await upsertPruneSchedule(client, site, testCatalogue(), { release: '9', sig: 'core', dryRun: true, interval: '1h', taskQueue });
      schedules.push(sched.scheduleId);
      expect(sched.scheduleId).toBe(pruneScheduleId({ release: '9', sig: 'core' }));
      await client.schedule.getHandle(sched.scheduleId).trigger();
      const scheduledRun = await waitFor('the schedule to start a prune', async () => (await client.schedule.getHandle(sched.scheduleId).describe()).info.recentActions[0]?.action.workflow);
      const scheduled: PruneResult = await client.workflow.getHandle(scheduledRun.workflowId, scheduledRun.firstExecutionRunId).result();
      expect(scheduled.reports[0]!.removed).toEqual(removable);
      expect(dirs.every((d) => fs.existsSync(d))).toBe(true);

      // The real run removes exactly d4 and d5.
      const real: PruneResult = await client.workflow.execute('pruneComposes', { workflowId: `prune-${taskQueue}`, taskQueue, args: [{ release: '9', sig: 'core' }] });
      expect(real).toMatchObject({ dryRun: false, removed: 2, bytesFreed: expectedBytes });
      expect(dirs.map((d) => fs.existsSync(d))).toEqual([true, true, true, false, false, true, true, true, true, true]);
      expect(fs.existsSync(path.join(base, 'SIG-corex-9.7-20200101.000000'))).toBe(true);
      // What was shared stays whole in the composes that keep it.
      expect(fs.statSync(pkg(5, 'd5-and-d6.rpm')).nlink).toBe(1);
      expect(fs.statSync(pkg(0, 'in-every-compose.rpm')).nlink).toBe(8);

      // Once the release is gone, its compose is just old.
      await run.terminate('test done');
      const after: PruneResult = await client.workflow.execute('pruneComposes', { workflowId: `prune2-${taskQueue}`, taskQueue, args: [{ release: '9', sig: 'core', dryRun: true }] });
      expect(after.reports[0]!.removed).toEqual([path.basename(dirs[2]!)]);
    });
  }, 240_000);

  it('refuses a request naming an unknown SIG before touching anything', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const taskQueue = uniqueQueue('retention-bad');
    await withWorkers({ site, taskQueue }, async ({ client }) => {
      const err = await client.workflow.execute('pruneComposes', { workflowId: `prune-bad-${taskQueue}`, taskQueue, args: [{ release: '9', sig: '../core' }] }).catch((e: unknown) => e);
      expect(failureChain(err)).toMatch(/BadPruneRequest sig "\.\.\/core" must be a SIG name/);
    });
  }, 120_000);
});
