// The compose stage through the real workflow (compose-only runs): layouts, in-place updates, failures that
// keep `latest` where it was, and cancellation that leaves no dnf behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { startRelease } from '../../src/client.js';
import { composeStamp, latestLink } from '../../src/paths.js';
import { statusQuery } from '../../workflows/messages.js';
import {
  CORE9_KEY_GIT_PATH,
  CORE9_PROJECT_ID,
  FIXTURE_MTIME,
  breakPackage,
  buildYumrepofs,
  fixtureSpecForSig,
  removePackage,
  startYumrepofs,
  type FixtureTree,
  type YumrepofsServer,
} from '../fixtures/yumrepofs.js';
import { failureChain, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';

const servers: YumrepofsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A small core 9 (x86_64 only) fixture of its own, so tests can change it without disturbing each other. */
async function coreFixture(): Promise<{ tree: FixtureTree; yum: YumrepofsServer }> {
  const tree = await buildYumrepofs(
    fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-compose-yum-')),
    fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH }),
  );
  const yum = await startYumrepofs({ root: tree.root });
  servers.push(yum);
  return { tree, yum };
}

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
  });

  it('updates in place through latest and, with --clean-old-packages, removes a package that left upstream', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await (await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('full'), runtime: fast })).result();
      const composeDir = fs.readlinkSync(latestLink(site, '9', 'core'));
      const repoDir = path.join(composeDir, 'compose', '9', 'core', 'x86_64', 'core-common');
      const before = rpmsUnder(repoDir);
      const gone = before.find((f) => f.includes('delta-core-common'))!;
      expect(gone).toBeDefined();
      await removePackage(tree, { repo: 'core-common', name: 'delta-core-common' });

      const inPlace = await startRelease(client, site, testCatalogue(), { ...base, hashed: true, cleanOldPackages: true }, { taskQueue, workflowId: uniqueQueue('inplace'), runtime: fast });
      const result = await inPlace.result();
      expect(result.composeDir).toBe(composeDir);
      expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(composeDir);
      expect(rpmsUnder(repoDir)).toEqual(before.filter((f) => f !== gone));
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
      expect(fs.readdirSync(site.composeRoot)).toEqual([]);
    });
  });

  it('fails the compose naming a package that 404s, and latest keeps pointing at the previous compose', async () => {
    const { tree, yum } = await coreFixture();
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await (await startRelease(client, site, testCatalogue(), { ...base, hashed: true, fullRun: true }, { taskQueue, workflowId: uniqueQueue('good'), runtime: fast })).result();
      const previous = fs.readlinkSync(latestLink(site, '9', 'core'));
      const victim = tree.repos.find((d) => d.repo === 'core-infra' && d.variant === 'hashed' && d.kind === 'binary')!.packages[0]!.fileName;
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
