// Seeded composes of an unchanged SIG cost almost nothing: through the real composeSig workflow, real dnf and the
// fixture server, a task whose upstream repomd.xml is byte-identical to what latest's compose recorded is carried
// over (linked whole, no dnf); a task whose repomd.xml changed goes through dnf while its siblings are carried over.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { latestLink } from '../../src/paths.js';
import { addPackage } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { coreFixtures, nextStamp } from './fixture-support.js';
import { CREATEREPO_EXITS } from '../../src/tools/exit-codes.js';
import { runToolChecked } from '../../src/tools/run.js';
import type { ComposeManifest } from '../../src/compose/report.js';

const coreFixture = coreFixtures('carry');

const base = { release: '9', sig: 'core', arches: ['x86_64'], composeOnly: true, hashed: true, fullRun: true };
const fast = { timeouts: { heartbeat: '10s', retryInitial: '500ms', maxAttempts: 2 } };
const manifestOf = (file: string | null): ComposeManifest => JSON.parse(fs.readFileSync(file!, 'utf8')) as ComposeManifest;
/** The task logs of a compose (work/logs/<stamp>/), by file name. */
function taskLogs(composeDir: string): Map<string, string> {
  const dir = path.join(composeDir, 'work', 'logs', path.basename(composeDir).slice(-'20260101.000000'.length));
  return new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
}

describe('seeded composes carry unchanged repos over from latest', () => {
  it('an unchanged SIG\'s full run starts no dnf: the server sees only repomd.xml (and key) requests, and the tree equals the fresh one', async () => {
    const { yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const fresh = await (await startRelease(client, site, testCatalogue(), base, { taskQueue, workflowId: uniqueQueue('fresh'), runtime: fast })).result();
      await nextStamp();
      yum.resetCounters();
      const seeded = await (await startRelease(client, site, testCatalogue(), base, { taskQueue, workflowId: uniqueQueue('seeded'), runtime: fast })).result();
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(seeded.composeDir);
      const manifest = manifestOf(seeded.compose.manifest);
      const freshId = manifestOf(fresh.compose.manifest).composeId;
      expect(manifest.tasks.length).toBe(6);
      for (const t of manifest.tasks) expect(t, t.name).toMatchObject({ carriedOverFrom: freshId, downloaded: 0 });
      // No task started dnf: every log says it was carried over, none has a `dnf …` line.
      const logs = taskLogs(seeded.composeDir!);
      expect(logs.size).toBe(6);
      for (const [name, text] of logs) {
        expect(text, name).toMatch(/carried over from core-9-\d{8}\.\d{6}/);
        expect(text, name).not.toMatch(/attempt \d+: dnf /);
      }
      expect(manifest.sourceMetadata!.every((m) => m.carriedOverFrom === freshId && /^[0-9a-f]{64}$/.test(m.repomdSha256!))).toBe(true);
      expect(manifest.verification.ok).toBe(true);
      expect(seeded.compose.skipped).toBe(fresh.compose.downloaded);
      // Only each repo's repomd.xml (and the SIG key, fetched once per run): no package, no other metadata.
      const gets = yum.log.filter((r) => r.method === 'GET').map((r) => r.path);
      expect(gets.filter((p) => !p.endsWith('/repodata/repomd.xml') && !p.includes('RPM-GPG-KEY'))).toEqual([]);
      expect(gets.filter((p) => p.endsWith('/repodata/repomd.xml')).length).toBe(6);
      // The same tree as the fresh compose (hard links to its files), and the fresh compose as it was.
      expect(treeDigest(path.join(seeded.composeDir!, 'compose'))).toEqual(treeDigest(path.join(fresh.composeDir!, 'compose')));
      const rpm = Object.keys(Object.fromEntries(treeDigest(path.join(fresh.composeDir!, 'compose')))).find((f) => f.endsWith('.rpm'))!;
      expect(fs.statSync(path.join(seeded.composeDir!, 'compose', rpm)).ino).toBe(fs.statSync(path.join(fresh.composeDir!, 'compose', rpm)).ino);
    });
    // Two composes of 6 tasks through real dnf on a loaded 2-core machine.
  }, 300_000);

  it('a repo whose repomd.xml changed goes through dnf (new package downloaded, metadata-only change downloads none) while its unchanged siblings are carried over', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const fresh = await (await startRelease(client, site, testCatalogue(), base, { taskQueue, workflowId: uniqueQueue('fresh'), runtime: fast })).result();
      const freshId = manifestOf(fresh.compose.manifest).composeId;
      // core-infra gains a package; core-common's binary repo gets new metadata for the same packages.
      await addPackage(tree, { repo: 'core-infra' }, { name: 'newcomer', version: '1.0' });
      const commonDir = tree.repos.find((d) => d.repo === 'core-common' && d.variant === 'hashed' && d.kind === 'binary' && d.arch === 'x86_64')!.dir;
      await runToolChecked('createrepo_c', ['--quiet', '--revision', 'regenerated', commonDir], CREATEREPO_EXITS);
      await nextStamp();
      yum.resetCounters();
      // The regenerated metadata is not signed again: this run checks package signatures, not repomd.xml's (a
      // compose that checks less may still carry over what one that checked more verified).
      const seeded = await (await startRelease(client, site, testCatalogue(), { ...base, disableRepoGpgCheck: true }, { taskQueue, workflowId: uniqueQueue('seeded'), runtime: fast })).result();
      const tasks = new Map(manifestOf(seeded.compose.manifest).tasks.map((t) => [t.name, t]));
      expect(tasks.get('core-common-x86_64')).toMatchObject({ downloaded: 0 });
      expect(tasks.get('core-common-x86_64')!.carriedOverFrom).toBeUndefined();
      expect(tasks.get('core-infra-x86_64')).toMatchObject({ downloaded: 1 });
      expect(tasks.get('core-infra-x86_64')!.carriedOverFrom).toBeUndefined();
      expect(tasks.get('core-common-debug-x86_64')).toMatchObject({ carriedOverFrom: freshId });
      expect(tasks.get('core-common-source')).toMatchObject({ carriedOverFrom: freshId });
      // Packages fetched: only core-infra's new one(s).
      const rpmGets = yum.log.filter((r) => r.method === 'GET' && r.path.endsWith('.rpm')).map((r) => r.path);
      expect(rpmGets.length).toBeGreaterThan(0);
      for (const p of rpmGets) expect(p).toMatch(/core-infra.*newcomer/);
      // The result verifies and holds what upstream holds now: the new package, the regenerated metadata.
      expect(manifestOf(seeded.compose.manifest).verification.ok).toBe(true);
      const sigRoot = path.join(seeded.composeDir!, 'compose', '9', 'core');
      expect(fs.readFileSync(path.join(sigRoot, 'x86_64', 'core-common', 'repodata', 'repomd.xml'), 'utf8')).toContain('regenerated');
      expect([...treeDigest(path.join(sigRoot, 'x86_64', 'core-infra')).keys()].some((f) => f.includes('newcomer'))).toBe(true);
    });
  }, 300_000);
  it('an in-place run of an unchanged SIG carries every repo over too, into its own folder, and latest flips to it', async () => {
    const { yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const fresh = await (await startRelease(client, site, testCatalogue(), base, { taskQueue, workflowId: uniqueQueue('fresh'), runtime: fast })).result();
      const freshTree = treeDigest(path.join(fresh.composeDir!, 'compose'));
      await nextStamp();
      yum.resetCounters();
      const inPlace = await (await startRelease(client, site, testCatalogue(), { ...base, fullRun: false }, { taskQueue, workflowId: uniqueQueue('inplace'), runtime: fast })).result();
      expect(inPlace.composeDir).not.toBe(fresh.composeDir);
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(inPlace.composeDir);
      const freshId = manifestOf(fresh.compose.manifest).composeId;
      for (const t of manifestOf(inPlace.compose.manifest).tasks) expect(t, t.name).toMatchObject({ carriedOverFrom: freshId, downloaded: 0, deleted: 0 });
      expect(yum.log.filter((r) => r.method === 'GET' && r.path.endsWith('.rpm'))).toEqual([]);
      expect(treeDigest(path.join(inPlace.composeDir!, 'compose'))).toEqual(freshTree);
      expect(treeDigest(path.join(fresh.composeDir!, 'compose'))).toEqual(freshTree);
    });
  }, 300_000);
});
