// The compose stage through the real workflow (compose-only runs): layouts, in-place updates, failures that
// keep `latest` where it was, and cancellation that leaves no dnf behind.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { startRelease } from '../../src/client.js';
import { composeStamp, latestLink } from '../../src/paths.js';
import { statusQuery } from '../../workflows/messages.js';
import {
  FIXTURE_MTIME,
  addPackage,
  breakPackage,
  removePackage,
} from '../fixtures/yumrepofs.js';
import { failureChain, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { coreFixtures, nextStamp } from './fixture-support.js';
import { CREATEREPO_EXITS } from '../../src/tools/exit-codes.js';
import { runToolChecked } from '../../src/tools/run.js';
import { ROOT_MARKER_FILE } from '../../src/config/roots.js';
import { dnfRunsInLog, peakConcurrency } from '../../src/compose/taskLog.js';

const coreFixture = coreFixtures('compose');

const base = { release: '9', sig: 'core', arches: ['x86_64'], composeOnly: true };
const fast = { timeouts: { heartbeat: '10s', retryInitial: '500ms', maxAttempts: 2 } };

function rpmsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rpm')) out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}


describe('compose stage', () => {
  it('keeps the hashed Packages/<letter>/ layout and the plain yumrepofs layout, with remote mtimes, sources and debug in their folders', async () => {
    const { yum } = await coreFixture();
    for (const hashed of [true, false]) {
      const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
      await withWorkers({ site }, async ({ client, taskQueue }) => {
        const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed, fullRun: true }, { taskQueue, workflowId: uniqueQueue('layout'), runtime: fast });
        const result = await handle.result();
        expect(result.outcome).toBe('composed');
        const sigRoot = path.join(fs.readlinkSync(latestLink(site, '9', 'core')), 'compose', '9', 'core');
        const binaries = rpmsUnder(path.join(sigRoot, 'x86_64', 'core-common'));
        expect(binaries.length).toBeGreaterThan(0);
        for (const f of binaries) expect(f).toMatch(hashed ? /^Packages\/[a-z]\/[^/]+\.rpm$/ : /^Packages\/[^/]+\/[^/]+\/[^/]+\.rpm$/);
        expect(fs.statSync(path.join(sigRoot, 'x86_64', 'core-common', binaries[0]!)).mtime.getTime()).toBe(FIXTURE_MTIME.getTime());
        for (const f of rpmsUnder(path.join(sigRoot, 'x86_64', 'core-common-debug'))) expect(f).toMatch(/-debug(info|source)-/);
        const sources = rpmsUnder(path.join(sigRoot, 'source', 'core-common'));
        expect(sources.length).toBeGreaterThan(0);
        for (const f of sources) expect(f).toMatch(/\.src\.rpm$/);
        // The key sits beside every synced repo, sources included (the seed put the source key in the wrong folder).
        expect(fs.existsSync(path.join(sigRoot, 'source', 'core-common', 'RPM-GPG-KEY-Rocky-SIG-Core'))).toBe(true);
        // The manifest records what was composed.
        const manifest = JSON.parse(fs.readFileSync(result.compose.manifest!, 'utf8'));
        expect(JSON.stringify(manifest)).toContain('core-common');
      });
    }
    // Two full composes of every repo × {binary, debug, source}: past the default 120 s on a loaded 2-core machine.
  }, 300_000);

  it('updates in place in a new folder seeded from latest by hard links, and flips latest to it once verified', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await (await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('full'), runtime: fast })).result();
      const previous = fs.readlinkSync(latestLink(site, '9', 'core'));
      const previousTree = treeDigest(path.join(previous, 'compose'));
      const repoDir = (compose: string) => path.join(compose, 'compose', '9', 'core', 'x86_64', 'core-common');
      const before = rpmsUnder(repoDir(previous));
      const gone = before.find((f) => f.includes('delta-core-common'))!;
      expect(gone).toBeDefined();
      await removePackage(tree, { repo: 'core-common', name: 'delta-core-common' });
      // Upstream rebuilt another package under the same file name (other bytes, new metadata): dnf rewrites such a
      // file in place, so it must not be a hard link to latest's.
      const changed = before.find((f) => f !== gone)!;
      const upstreamDir = tree.repos.find((d) => d.repo === 'core-common' && d.variant === 'hashed' && d.kind === 'binary' && d.arch === 'x86_64')!.dir;
      const donor = rpmsUnder(upstreamDir).find((f) => path.basename(f) !== path.basename(changed))!;
      const changedUpstream = path.join(upstreamDir, rpmsUnder(upstreamDir).find((f) => path.basename(f) === path.basename(changed))!);
      const bytes = fs.readFileSync(path.join(upstreamDir, donor));
      fs.rmSync(changedUpstream);
      fs.writeFileSync(changedUpstream, bytes);
      await runToolChecked('createrepo_c', ['--quiet', '--database', upstreamDir], CREATEREPO_EXITS);
      await nextStamp();

      // The regenerated metadata is not signed again: the in-place run checks package signatures, not repomd.xml's.
      const inPlace = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, cleanOldPackages: true, disableRepoGpgCheck: true }, { taskQueue, workflowId: uniqueQueue('inplace'), runtime: fast });
      const result = await inPlace.result();
      // A new dated folder, which latest now points to; the previous compose is exactly as it was.
      expect(result.composeDir).not.toBe(previous);
      expect(path.dirname(result.composeDir!)).toBe(path.dirname(previous));
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(result.composeDir);
      expect(treeDigest(path.join(previous, 'compose'))).toEqual(previousTree);
      expect(rpmsUnder(repoDir(result.composeDir!))).toEqual(before.filter((f) => f !== gone));
      // Unchanged packages are the previous compose's files (hard links); the changed one is a file of its own.
      const inode = (compose: string, f: string) => fs.statSync(path.join(repoDir(compose), f)).ino;
      for (const f of before.filter((x) => x !== gone && x !== changed)) expect(inode(result.composeDir!, f), f).toBe(inode(previous, f));
      expect(inode(result.composeDir!, changed)).not.toBe(inode(previous, changed));
      expect(fs.readFileSync(path.join(repoDir(result.composeDir!), changed))).toEqual(bytes);
      expect(result.compose.downloaded).toBe(1);
    });
  });

  it('a failed verification of an in-place update leaves latest and its tree as they were', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { compose: { repoclosure: true } } });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await (await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true, ignoreDebug: true }, { taskQueue, workflowId: uniqueQueue('full'), runtime: fast })).result();
      const previous = fs.readlinkSync(latestLink(site, '9', 'core'));
      const previousTree = treeDigest(previous);
      // A new package that needs what nothing provides: reposync succeeds, repoclosure fails the verification.
      await addPackage(tree, { repo: 'core-common' }, { name: 'needy', version: '1.0', requires: ['libnowhere.so.9()(64bit)'] });
      await nextStamp();
      const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, ignoreDebug: true, cleanOldPackages: true }, { taskQueue, workflowId: uniqueQueue('inplace-bad'), runtime: fast });
      const err = await handle.result().catch((e: unknown) => e);
      expect(failureChain(err)).toMatch(/ComposeVerificationFailed[\s\S]*libnowhere/);
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(previous);
      expect(treeDigest(previous)).toEqual(previousTree);
    });
  });

  it('refuses an in-place run when there is no latest compose, before syncing anything', async () => {
    const { yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed: true }, { taskQueue, workflowId: uniqueQueue('nolatest'), runtime: fast });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(failureChain(err)).toMatch(/NoLatestCompose/);
      // Nothing but the root's own marker (sigrelease init-roots).
      expect(fs.readdirSync(site.composeRoot)).toEqual([ROOT_MARKER_FILE]);
    });
  });

  it('fails the compose naming a package that 404s, and latest keeps pointing at the previous compose', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await (await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('good'), runtime: fast })).result();
      const previous = fs.readlinkSync(latestLink(site, '9', 'core'));
      // A package new upstream whose file then goes missing (one latest already has is linked, not downloaded).
      await addPackage(tree, { repo: 'core-infra' }, { name: 'victim', version: '1.0' });
      const victim = tree.repos.find((d) => d.repo === 'core-infra' && d.variant === 'hashed' && d.kind === 'binary')!.packages.find((p) => p.name === 'victim')!.fileName;
      await breakPackage(tree, { repo: 'core-infra', fileName: victim, mode: 'missing' });
      // A full run in a later second gets a new dated folder: poll the clock until its stamp moved on.
      const firstStamp = composeStamp(Date.now());
      await waitFor('the compose stamp to move to the next second', async () => (composeStamp(Date.now()) !== firstStamp ? true : undefined), 5_000);
      const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('bad'), runtime: fast });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const chain = failureChain(err);
      expect(chain).toMatch(/ComposeFailed/);
      expect(chain).toContain('core-infra-x86_64');
      expect(chain).toContain(victim);
      // Only the broken task failed: its siblings are not in the list of failed tasks.
      expect(chain).not.toMatch(/failed: [^\n]*core-common-x86_64/);
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(previous);
    });
  });

  it('keeps tasks beyond the parallelism scheduled, yet never runs more dnf at once than the site allows', async () => {
    const { yum } = await coreFixture();
    // Slow packages, so that runs that were allowed to overlap would.
    yum.setFaults({ slowPaths: /\/Packages\//, slowMs: 300 });
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { compose: { parallelism: 2 } } });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('slots'), runtime: fast });
      const result = await handle.result();
      expect(result.outcome).toBe('composed');
      const parent = (await handle.fetchHistory()).events ?? [];
      const childId = parent.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      const child = (await client.workflow.getHandle(childId!).fetchHistory()).events ?? [];
      // Scheduled before the first reposync task completed: the parallelism and the lookahead.
      let scheduledBeforeFirstDone = 0;
      for (const e of child) {
        if (e.activityTaskCompletedEventAttributes && scheduledBeforeFirstDone > 0) break;
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'runReposyncTask') scheduledBeforeFirstDone++;
      }
      expect(scheduledBeforeFirstDone).toBe(4);
      // What dnf did, from the task logs: every task ran, never more than two at once.
      const logRoot = path.join(fs.readlinkSync(latestLink(site, '9', 'core')), 'work', 'logs');
      const logs = path.join(logRoot, fs.readdirSync(logRoot)[0]!);
      const runs = fs.readdirSync(logs).flatMap((f) => dnfRunsInLog(fs.readFileSync(path.join(logs, f), 'utf8')));
      const tasks = child.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runReposyncTask').length;
      expect(tasks).toBeGreaterThan(4);
      expect(runs.length).toBe(tasks);
      expect(runs.every((r) => r.endMs !== null)).toBe(true);
      expect(peakConcurrency(runs)).toBe(2);
    });
  }, 300_000);

  it('cancelling a compose kills dnf and leaves no reposync running', async () => {
    const { yum } = await coreFixture();
    yum.setFaults({ slowPaths: /\/Packages\//, slowMs: 20_000 });
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const handle = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('cancel'), runtime: { timeouts: { heartbeat: '5s', retryInitial: '500ms', maxAttempts: 2 } } });
      const dnfRunning = async () => {
        const r = await execa('pgrep', ['-f', `reposync.*${site.composeRoot}`], { reject: false });
        return r.stdout.trim() ? r.stdout.trim().split('\n') : [];
      };
      await waitFor('a reposync to be running', async () => ((await dnfRunning()).length > 0 ? true : undefined), 60_000);
      expect((await handle.query(statusQuery)).stage).toBe('composing');
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(failureChain(err)).toMatch(/cancel/i);
      expect(await dnfRunning()).toEqual([]);
      expect(fs.existsSync(latestLink(site, '9', 'core'))).toBe(false);
    });
  });
});
