// The whole pipeline against the real dev server, real dnf reposync, rsync and hardlink, and fixture
// repositories served like yumrepofs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import { formatStatus } from '../../src/cli/format.js';
import { temporalCliPath } from '../../src/devserver.js';
import { latestLink, productionCategory, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { lockStatusQuery, statusQuery } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { failureChain, serverAddress, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { ROOT_MARKER_FILE } from '../../src/config/roots.js';


let yum: YumrepofsServer;
beforeAll(async () => {
  const fixture = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-yum-')), defaultCoreFixture());
  yum = await startYumrepofs({ root: fixture.root });
});
afterAll(async () => {
  await yum?.close();
});

const request = { release: '9', sig: 'core', hashed: true, cleanOldPackages: true, fullRun: true };

async function untilGate(handle: { query: (q: typeof statusQuery) => Promise<{ stage: string; error: string | null }> }) {
  return waitFor(
    'the run to wait at the approval gate',
    async () => {
      const st = await handle.query(statusQuery);
      if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
      return st.stage === 'awaiting-approval' ? st : undefined;
    },
    180_000,
  );
}

describe('a SIG release, end to end', () => {
  it('composes, stages, waits at the gate, and promotes only after an approve signal sent with the temporal CLI', async () => {
    // An hour of metadata grace: a first release supersedes nothing, so it must not wait at all.
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { publish: { metadataGrace: '1h' } } });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue('e2e')}`;
      const handle = await startRelease(client, site, testCatalogue(), request, { taskQueue, workflowId });
      const gate = await untilGate(handle);

      // The compose: a dated folder, `latest` pointing at it, every repo × arch × kind in the seed's layout.
      const latest = latestLink(site, '9', 'core');
      const composeDir = fs.readlinkSync(latest);
      expect(path.isAbsolute(composeDir)).toBe(true);
      expect(path.basename(composeDir)).toMatch(/^SIG-core-9\.7-\d{8}\.\d{6}$/);
      const sigRoot = path.join(composeDir, 'compose', '9', 'core');
      for (const arch of ['x86_64', 'aarch64', 'ppc64le', 's390x']) {
        for (const repo of ['core-common', 'core-infra']) {
          expect(fs.existsSync(path.join(sigRoot, arch, repo, 'repodata', 'repomd.xml')), `${arch}/${repo}`).toBe(true);
          expect(fs.existsSync(path.join(sigRoot, arch, `${repo}-debug`, 'repodata', 'repomd.xml')), `${arch}/${repo}-debug`).toBe(true);
        }
      }
      const binaries = [...treeDigest(path.join(sigRoot, 'x86_64', 'core-common')).keys()].filter((f) => f.endsWith('.rpm'));
      expect(binaries.length).toBeGreaterThan(0);
      for (const f of binaries) expect(f).toMatch(/^Packages\/[a-z0-9]\/[^/]+\.(x86_64|noarch)\.rpm$/);
      const sources = [...treeDigest(path.join(sigRoot, 'source', 'core-common')).keys()].filter((f) => f.endsWith('.rpm'));
      expect(sources.length).toBeGreaterThan(0);
      for (const f of sources) expect(f).toMatch(/\.src\.rpm$/);
      const debug = [...treeDigest(path.join(sigRoot, 'x86_64', 'core-common-debug')).keys()].filter((f) => f.endsWith('.rpm'));
      for (const f of debug) expect(f).toMatch(/-debug(info|source)-/);
      expect(fs.existsSync(path.join(sigRoot, 'metadata', 'RPM-GPG-KEY-Rocky-SIG-Core'))).toBe(true);

      // Staging mirrors the compose file by file; production has nothing before the approval.
      expect(treeDigest(stagingSigDir(site, '9', 'core'))).toEqual(treeDigest(sigRoot));
      expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
      expect(gate.stage).toBe('awaiting-approval');

      const { address, namespace } = serverAddress();
      await execa(temporalCliPath(), [
        'workflow', 'signal', '--address', address, '--namespace', namespace,
        '--workflow-id', workflowId, '--name', 'approve', '--input', JSON.stringify({ by: 'tester', comment: 'checked staging' }),
      ]);
      const result = await handle.result();
      expect(result.outcome).toBe('promoted');
      expect(result.decision).toMatchObject({ approved: true, by: 'tester', via: 'signal' });
      expect(result.production?.passes.map((p) => p.pass)).toEqual([1, 2, 3]);
      const timers = ((await handle.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes?.startToFireTimeout?.seconds?.toString() === '3600');
      expect(timers).toEqual([]);

      // Production equals staging, and the sig-level fullfilelist lists what is there.
      expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
      const category = productionCategory(site);
      const listed = fs.readFileSync(path.join(category, 'fullfilelist'), 'utf8').trim().split('\n');
      const find = await execa('find', ['.'], { cwd: category });
      const ours = new Set(['fullfilelist', 'fullfilelist-old', 'fullfiletimelist', 'fullfiletimelist-sig', 'fullfiletimelist-sig-old', 'imagelist-sig'].map((n) => `./${n}`));
      expect(new Set(listed)).toEqual(new Set(find.stdout.split('\n').filter((l) => !ours.has(l))));
      expect(fs.readFileSync(path.join(category, 'fullfiletimelist-sig'), 'utf8')).toMatch(/^\[Version\]\n2\n\n\[Files\]\n[\s\S]*\[End\]\n$/);
    });
  });

  it('leaves production untouched when the release is rejected', async () => {
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue('e2e-reject')}`;
      const handle = await startRelease(client, site, testCatalogue(), { ...request, ignoreDebug: true, arches: ['x86_64'] }, { taskQueue, workflowId });
      await untilGate(handle);
      await handle.signal('reject', { by: 'tester', comment: 'not today' });
      const result = await handle.result();
      expect(result.outcome).toBe('rejected');
      expect(result.decision).toMatchObject({ approved: false, by: 'tester', comment: 'not today' });
      expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
      expect(fs.existsSync(path.join(productionCategory(site), 'fullfilelist'))).toBe(false);
    });
  });

  it('keeps what left staging in production for the metadata grace period, on a durable timer without the lock, then deletes it', async () => {
    const { site } = testSite({
      repoBaseUrl: yum.baseUrl,
      gitBaseUrl: yum.gitBaseUrl,
      overrides: { publish: { metadataGrace: '10s', maxDeleteShare: 1 } },
    });
    // What an earlier release left in production: a superseded metadata blob and a package that left upstream.
    const repo = path.join(productionSigDir(site, '9', 'core'), 'x86_64', 'core-common');
    const staleBlob = path.join(repo, 'repodata', `${'ab'.repeat(32)}-primary.xml.gz`);
    const stalePackage = path.join(repo, 'Packages', 'z', 'zulu-core-common-0.9-1.el9.x86_64.rpm');
    for (const f of [staleBlob, stalePackage]) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, 'from the previous release\n');
    }
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue('e2e-grace')}`;
      const handle = await startRelease(client, site, testCatalogue(), { ...request, ignoreDebug: true, arches: ['x86_64'] }, { taskQueue, workflowId });
      await untilGate(handle);
      await handle.signal('approve', { by: 'tester' });

      // Passes 1 and 2 done: the new repomd.xml is live, and the superseded files are still there.
      const repomd = path.join(repo, 'repodata', 'repomd.xml');
      await waitFor('the new repomd.xml in production', async () => (fs.existsSync(repomd) ? true : undefined), 120_000, 100);
      expect(fs.existsSync(staleBlob)).toBe(true);
      expect(fs.existsSync(stalePackage)).toBe(true);
      // The production lock is free while we wait: other SIGs may promote meanwhile.
      const lock = client.workflow.getHandle(lockWorkflowId(site.productionRoot));
      await waitFor('the production lock to be given back during the grace period', async () => ((await lock.query(lockStatusQuery)).holder === null ? true : undefined), 8_000, 100);
      // `sigrelease status` says when the deletions come.
      const deletionsAt = await waitFor('the status to show when deletions happen', async () => (await handle.query(statusQuery)).deletionsAt ?? undefined, 5_000, 100);
      expect(formatStatus(await handle.query(statusQuery))).toContain(`what left staging stays there until ${deletionsAt}`);
      expect(fs.existsSync(staleBlob)).toBe(true);
      expect(fs.existsSync(stalePackage)).toBe(true);

      const result = await handle.result();
      expect(result.outcome).toBe('promoted');
      expect(fs.existsSync(staleBlob)).toBe(false);
      expect(fs.existsSync(stalePackage)).toBe(false);
      expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
      expect(result.production?.passes.map((p) => p.pass)).toEqual([1, 2, 3]);
      // The wait is a Temporal timer in the run's history, not a sleep inside an activity.
      const history = await handle.fetchHistory();
      const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes).map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout?.seconds ?? 0));
      expect(timers).toContain(10);
    });
  });

  it('refuses an unknown SIG or release before any workflow starts, naming the known values', async () => {
    const { site } = testSite({ repoBaseUrl: yum.baseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      await expect(startRelease(client, site, testCatalogue(), { release: '9', sig: 'cor' }, { taskQueue })).rejects.toThrow(
        /unknown SIG "cor"; known: .*core/,
      );
      await expect(startRelease(client, site, testCatalogue(), { release: '7', sig: 'core' }, { taskQueue })).rejects.toThrow(
        /SIG "core" has no release "7"; known for core: 10, 8, 9/,
      );
      // Nothing was started under the pipeline's id.
      await expect(client.workflow.getHandle(releaseWorkflowId('cor', '9')).describe()).rejects.toThrow();
      // The same input through the temporal CLI's JSON reaches the workflow, which fails it before touching anything.
      const wf = uniqueQueue('bad-json');
      const handle = await client.workflow.start('sigRelease', { workflowId: wf, taskQueue, args: [{ release: '9', sig: 'cor' }] });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(failureChain(err)).toMatch(/BadRequest.*unknown SIG "cor"; known: .*core/s);
      expect(fs.readdirSync(site.composeRoot)).toEqual([ROOT_MARKER_FILE]); // nothing but the root's marker
    });
  });
});
