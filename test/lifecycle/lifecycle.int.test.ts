// The release lifecycle end to end against the real dev server, dnf reposync, rsync and hardlink: release A,
// release B (a new package upstream), the composes on disk, a rollback to A through the same gate, a gate
// re-entry that must match what staging holds, lists republished alone, and the vault (twice: it only grows).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { listComposes } from '../../src/lifecycle/composes.js';
import { readSourceRecord } from '../../src/lifecycle/sources.js';
import { startVault } from '../../src/lifecycle/start.js';
import { vaultSigDir } from '../../src/lifecycle/vault.js';
import { composeStamp, productionCategory, productionReleaseDir, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/sigRelease.js';
import { addPackage, buildYumrepofs, CORE9_KEY_GIT_PATH, CORE9_PROJECT_ID, fixtureSpecForSig, startYumrepofs, type FixtureTree, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { failureChain, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';

let tree: FixtureTree;
let yum: YumrepofsServer;
let site: SiteConfig;
// One task queue for the file: the production lock workflow lives on the queue of the run that started it, and
// stays there while it waits for more requests, so every step must be served by workers of that queue.
const taskQueueOfFile = uniqueQueue('lifecycle');
beforeAll(async () => {
  tree = await buildYumrepofs(
    fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-lifecycle-yum-')),
    fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH }),
  );
  yum = await startYumrepofs({ root: tree.root });
  // Rolling back deletes what B added: a share the default guard (10 %) would stop on a fixture this small.
  site = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { publish: { maxDeleteShare: 1 } } }).site;
}, 300_000);
afterAll(async () => {
  await yum?.close();
});

const full = { release: '9', sig: 'core', arches: ['x86_64'], hashed: true, ignoreDebug: true, fullRun: true, cleanOldPackages: true };
const fast = { timeouts: { heartbeat: '10s', retryInitial: '500ms', maxAttempts: 2 }, approval: { reminderInterval: '1h', expireAfter: '10m' } };

async function atGate(handle: WorkflowHandle) {
  return waitFor(
    `${handle.workflowId} to wait at the gate`,
    async () => {
      const st = await handle.query(statusQuery);
      if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
      return st.stage === 'awaiting-approval' ? st : undefined;
    },
    240_000,
  );
}

async function approved(handle: WorkflowHandle): Promise<ReleaseResult> {
  await atGate(handle);
  await handle.signal('approve', { by: 'tester' });
  return (await handle.result()) as ReleaseResult;
}

/** Composes are dated to the second: the next full run must get a folder of its own. */
async function nextStamp(): Promise<void> {
  const stamp = composeStamp(Date.now());
  await waitFor('the next second', async () => (composeStamp(Date.now()) !== stamp ? true : undefined), 5_000, 50);
}

const productionTree = () => treeDigest(productionSigDir(site, '9', 'core'));
const listed = () => fs.readFileSync(path.join(productionCategory(site), 'fullfilelist'), 'utf8');
const start = (client: Client, taskQueue: string, request: Record<string, unknown>, label: string) =>
  startRelease(client, site, testCatalogue(), request, { taskQueue, workflowId: uniqueQueue(label), runtime: fast });

describe('the release lifecycle', () => {
  let treeA: Map<string, string>;
  let composeA: string;
  let bravo: string;

  it('releases A, then B with a new package; `composes` shows both and what latest, staging and production hold', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const a = await approved(await start(client, taskQueue, full, 'release-a'));
      expect(a.outcome).toBe('promoted');
      expect(a.mode).toBe('release');
      treeA = productionTree();
      composeA = path.basename(a.composeDir!);

      await addPackage(tree, { repo: 'core-common' }, { name: 'bravo', version: '1.0', release: '1.el9' });
      await nextStamp();
      const b = await approved(await start(client, taskQueue, full, 'release-b'));
      expect(b.outcome).toBe('promoted');
      bravo = [...productionTree().keys()].find((f) => f.includes('bravo-1.0'))!;
      expect(bravo).toBeDefined();
      expect(listed()).toContain(bravo);

      const composes = await listComposes(site, '9', 'core');
      expect(composes.map((c) => c.name)).toEqual([composeA, path.basename(b.composeDir!)]);
      expect(composes.map((c) => [c.latest, c.staging, c.production])).toEqual([
        [false, false, false],
        [true, true, true],
      ]);
      expect(composes[0]!.manifest?.packages).toBeGreaterThan(0);
      // The records sit beside the trees: not in what is staged, promoted or listed.
      expect((await readSourceRecord(site, 'production', '9', 'core'))?.composeId).toBe(b.composeId);
      expect(listed()).not.toContain('.sigrelease-state');
    });
  }, 600_000);

  it('rolls back to A through staging, the gate and production: production equals A, lists republished, and the run says rollback', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, { release: '9', sig: 'core', from: 'staging', composeId: composeA }, 'rollback');
      const gate = await atGate(handle);
      expect(gate.mode).toBe('rollback');
      expect(gate.rollbackTo).toBe(composeA);
      expect(gate.productionPreview?.deleted.files).toBeGreaterThan(0);
      expect(gate.fingerprint?.composeId).toBe(composeA.replace(/^SIG-core-9\.7-/, 'core-9-'));
      await handle.signal('approve', { by: 'tester' });
      const result = (await handle.result()) as ReleaseResult;
      expect(result).toMatchObject({ outcome: 'promoted', mode: 'rollback', rollbackTo: composeA });
      expect(productionTree()).toEqual(treeA);
      expect(listed()).not.toContain(bravo);
      const history = JSON.stringify((await handle.fetchHistory()).events);
      expect(history).toContain('rollback');
      const composes = await listComposes(site, '9', 'core');
      expect(composes.find((c) => c.name === composeA)).toMatchObject({ latest: false, staging: true, production: true });
    });
  }, 600_000);

  it('refuses a rollback to a compose that is not on disk, and one named by a path, before touching anything', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const before = productionTree();
      const missing = await start(client, taskQueue, { release: '9', sig: 'core', from: 'staging', composeId: 'SIG-core-9.7-20000101.000000' }, 'rollback-missing');
      expect(failureChain(await missing.result().catch((e: unknown) => e))).toMatch(/failed during staging[\s\S]*ComposeNotFound[\s\S]*SIG-core-9\.7-20000101\.000000/);
      // startRelease refuses it locally; a raw start (as the temporal CLI would send) is refused by the worker.
      const raw = await client.workflow.start('sigRelease', { taskQueue, workflowId: uniqueQueue('rollback-path'), args: [{ release: '9', sig: 'core', from: 'staging', composeId: '../../etc' }] });
      expect(failureChain(await raw.result().catch((e: unknown) => e))).toMatch(/BadRequest[\s\S]*\.\.\/\.\.\/etc/);
      expect(productionTree()).toEqual(before);
    });
  }, 300_000);

  it('asks approval of what staging holds (--from gate), and refuses when staging no longer holds what was staged', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, { release: '9', sig: 'core', from: 'gate' }, 'gate');
      const gate = await atGate(handle);
      expect(gate.mode).toBe('gate');
      expect(gate.fingerprint?.composeId).toBe(composeA.replace(/^SIG-core-9\.7-/, 'core-9-'));
      await handle.signal('reject', { by: 'tester' });
      expect(((await handle.result()) as ReleaseResult).outcome).toBe('rejected');

      fs.writeFileSync(path.join(stagingSigDir(site, '9', 'core'), 'edited-by-hand'), 'x');
      const edited = await start(client, taskQueue, { release: '9', sig: 'core', from: 'gate' }, 'gate-edited');
      expect(failureChain(await edited.result().catch((e: unknown) => e))).toMatch(/StagingChangedSinceStaged/);
      // --from staging puts staging back to the compose latest points to (B) and records it again.
      const restaged = await start(client, taskQueue, { release: '9', sig: 'core', from: 'staging' }, 'restage');
      const st = await atGate(restaged);
      expect(st.mode).toBe('restage');
      expect(fs.existsSync(path.join(stagingSigDir(site, '9', 'core'), 'edited-by-hand'))).toBe(false);
      await restaged.signal('reject', { by: 'tester' });
      await restaged.result();
    });
  }, 600_000);

  it('republishes the lists alone at the root level, as a run of its own', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const root = path.join(site.productionRoot, 'fullfiletimelist-rocky');
      // The root is a default level: the promotions above wrote its lists; something new at the top changes them.
      expect(fs.existsSync(root)).toBe(true);
      fs.mkdirSync(path.join(site.productionRoot, 'lists-check'));
      const result = (await (await start(client, taskQueue, { release: '9', sig: 'core', from: 'lists', listLevel: 'root' }, 'lists')).result()) as ReleaseResult;
      expect(result).toMatchObject({ outcome: 'published', mode: 'lists' });
      expect(result.fileLists.map((l) => l.dir)).toEqual([site.productionRoot]);
      expect(fs.readFileSync(root, 'utf8')).toContain('mirror/pub/sig/9/core/');
      expect(fs.readFileSync(root, 'utf8')).not.toContain('.sigrelease-state');
      expect(result.fileLists[0]!.changed).toContain('fullfiletimelist-rocky');
      expect(fs.readFileSync(root, 'utf8')).toContain('\tlists-check\n');
      // Nothing changed since: a second publication rewrites nothing.
      const again = (await (await start(client, taskQueue, { release: '9', sig: 'core', from: 'lists', listLevel: 'root' }, 'lists-again')).result()) as ReleaseResult;
      expect(again.fileLists[0]!.changed).toEqual([]);
    });
  }, 300_000);

  it('vaults production after approval, hard-linked, and a second vault of the same revision only adds', async () => {
    await withWorkers({ site, taskQueue: taskQueueOfFile }, async ({ client, taskQueue }) => {
      const vault = vaultSigDir(site, '9.5');
      const first = await startVault(client, site, { release: '9', revision: '9.5' }, { taskQueue, workflowId: uniqueQueue('vault') });
      const gate = await atGate(first);
      expect(gate.mode).toBe('vault');
      expect(fs.existsSync(vault)).toBe(false);
      await first.signal('approve', { by: 'tester' });
      expect(((await first.result()) as ReleaseResult).outcome).toBe('vaulted');
      expect(treeDigest(vault)).toEqual(treeDigest(productionReleaseDir(site, '9')));
      const rpm = [...treeDigest(vault).keys()].find((f) => f.endsWith('.rpm'))!;
      expect(fs.statSync(path.join(vault, rpm)).ino).toBe(fs.statSync(path.join(productionReleaseDir(site, '9'), rpm)).ino);
      expect(fs.readFileSync(path.join(site.productionRoot, 'fullfiletimelist-rocky'), 'utf8')).toContain('mirror/vault/sig/9.5/');

      // Production moves on (a file of A's leaves it); the vault keeps it, and gains what is new.
      const gone = path.join(productionSigDir(site, '9', 'core'), 'x86_64', 'core-common', 'repodata', 'repomd.xml');
      const keptInVault = path.join(vault, 'core', 'x86_64', 'core-common', 'repodata', 'repomd.xml');
      fs.renameSync(gone, `${gone}.moved`);
      const second = await startVault(client, site, { release: '9', revision: '9.5' }, { taskQueue, workflowId: uniqueQueue('vault-again') });
      await atGate(second);
      await second.signal('approve', { by: 'tester' });
      expect(((await second.result()) as ReleaseResult).outcome).toBe('vaulted');
      expect(fs.existsSync(keptInVault)).toBe(true);
      expect(fs.existsSync(path.join(vault, 'core', 'x86_64', 'core-common', 'repodata', 'repomd.xml.moved'))).toBe(true);
      fs.renameSync(`${gone}.moved`, gone);
    });
  }, 600_000);
});
