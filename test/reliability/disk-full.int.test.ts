// Disk trouble: production lives on a small tmpfs that a filler file has nearly used up. The production sync runs
// out of space and fails with `DiskFull` (retryable); what mirrors read (the previous production files, every
// repomd.xml, the file lists) is untouched meanwhile. Once space is freed, a retry (of the activity, or a new
// release when the retries ran out) completes. Needs root (mount -t tmpfs); skipped otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { productionCategory, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, statusQuery } from '../../workflows/messages.js';
import type { sigRelease } from '../../workflows/sigRelease.js';
import { addPackage, buildYumrepofs, defaultCoreFixture, startYumrepofs, type FixtureTree, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { untilStage } from '../gate/support.js';
import { failureSizes, fastRuntime, finalAttempts, pendingActivities, seconds, smallRequest, tempDir, terminateAll } from './support.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('[disk-full] SKIPPED: these tests mount a tmpfs and need root (run the suite as root to include them)');

const LISTS = ['fullfilelist', 'fullfiletimelist', 'fullfiletimelist-sig', 'imagelist-sig'];
/** rsync's scratch dir (`--partial-dir`): a failed transfer keeps its partial file there for the retry. */
const SCRATCH = /(^|\/)\.rsync-partial\//;
/** sigrelease's own records in the production root (root marker, lock fence, source records): never listed. */
const BOOKKEEPING = /^\.sigrelease-/;

let tree: FixtureTree;
let yum: YumrepofsServer;
let mnt: string;
let mounted = false;
let site: SiteConfig;
const ids: string[] = [];

describe.skipIf(!isRoot)('production on a file system that runs out of space (tmpfs, root only)', () => {
  beforeAll(async () => {
    tree = await buildYumrepofs(tempDir('yum'), defaultCoreFixture());
    yum = await startYumrepofs({ root: tree.root });
    mnt = tempDir('tmpfs');
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0755', 'sigrelease-reliability', mnt]);
    mounted = true;
    // Fixture repos are tiny: replacing one repo's metadata deletes more than 10 % of its files, so allow 50 %.
    site = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { productionRoot: mnt, publish: { maxDeleteShare: 0.5 } } }).site;
    // A first release fills production and publishes the file lists.
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      expect((await (await approvedRelease(client, taskQueue, 'disk-first')).result()).outcome).toBe('promoted');
      await terminateAll(client, ids, [site.productionRoot]);
    });
  }, 300_000);
  afterAll(async () => {
    await yum?.close();
    if (mounted) {
      const r = await execa('umount', [mnt], { reject: false });
      if (r.exitCode !== 0) await execa('umount', ['-l', mnt], { reject: false });
    }
  });

  const category = () => productionCategory(site);
  const snapshot = () => ({ files: treeDigest(mnt), lists: LISTS.map((f) => [f, fs.readFileSync(path.join(category(), f), 'utf8')] as const) });

  /** Starts a release, waits for the gate and approves it. */
  async function approvedRelease(client: Client, taskQueue: string, label: string, maxAttempts = 6): Promise<WorkflowHandle<typeof sigRelease>> {
    const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue(label)}`;
    ids.push(workflowId);
    const handle = await startRelease(client, site, testCatalogue(), { ...smallRequest }, { taskQueue, workflowId, runtime: fastRuntime({ maxAttempts }) });
    await untilStage(handle, 'awaiting-approval');
    await handle.signal(approveSignal, { by: 'reliability', comment: label });
    return handle;
  }

  /** Upstream gains a 1.5 MB package (all arches and the source), and the file system keeps only 256 KiB free. */
  async function newBigPackageAndFullDisk(name: string): Promise<string> {
    await addPackage(tree, { repo: 'core-common', variants: ['hashed'] }, { name, version: '2.0', release: '1.el9', arch: 'native', sizeBytes: 1_500_000, debuginfo: false });
    const filler = path.join(mnt, 'filler');
    const st = fs.statfsSync(mnt);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 256 * 1024)), { flag: 'a' });
    return filler;
  }

  /** What changed for mirrors since `before`: previous files changed or gone, new files outside rsync's scratch dir, the file lists. */
  function mirrorView(before: ReturnType<typeof snapshot>) {
    const now = treeDigest(mnt);
    return {
      changed: [...before.files].filter(([f, d]) => now.get(f) !== d && !BOOKKEEPING.test(f)).map(([f]) => f),
      added: [...now.keys()].filter((f) => !before.files.has(f) && f !== 'filler' && !SCRATCH.test(f) && !BOOKKEEPING.test(f)),
      scratch: [...now.keys()].filter((f) => SCRATCH.test(f)),
      listsChanged: before.lists.filter(([f, text]) => fs.readFileSync(path.join(category(), f), 'utf8') !== text).map(([f]) => f),
    };
  }

  it('fails the production sync with DiskFull and retries it; production and the file lists stay as they were; once space is freed the release completes', async () => {
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      try {
        const before = snapshot();
        const filler = await newBigPackageAndFullDisk('kilo-core-common');
        const handle = await approvedRelease(client, taskQueue, 'disk-full');

        // A failed attempt shows as the next attempt pending, with the last failure (what `temporal workflow describe` shows).
        const failing = await waitFor(
          'the production sync to fail once and be retried',
          async () => (await pendingActivities(client, handle.workflowId)).find((a) => a.type === 'syncToProduction' && a.attempt >= 2),
          180_000,
          100,
        );
        const tFailed = Date.now();
        const view = mirrorView(before);
        const stage = (await handle.query(statusQuery)).stage;
        console.log(
          `[disk-full] attempt ${failing.attempt - 1} failed (stage ${stage}, retrying); pending activity's last failure: ${failing.lastFailureType ?? '(no type)'}: ` +
            `${failing.lastFailure?.split('\n')[0]}; previous production files changed or gone: ${view.changed.length}; new files visible to mirrors: ${view.added.length}; ` +
            `partial files in rsync's scratch dir: ${view.scratch.length}${view.scratch.length ? ` (${view.scratch.join(', ')})` : ''}; file lists changed: ${view.listsChanged.length}`,
        );
        expect(stage).toBe('promoting');
        expect(view.changed).toEqual([]);
        expect(view.added).toEqual([]);
        expect(view.listsChanged).toEqual([]);
        // What an operator sees while it retries: the type and the advice, not a truncated failure.
        expect.soft(failing.lastFailureType, 'type of the failure shown while retrying').toBe('DiskFull');
        expect.soft(failing.lastFailure).toMatch(/No space left on device/);
        expect.soft(failing.lastFailure).toContain(productionSigDir(site, '9', 'core'));
        expect.soft(failing.lastFailure).toMatch(/free space on \(or grow\) the target file system/);

        fs.rmSync(filler);
        const result = await handle.result();
        const recovered = Date.now() - tFailed;
        const [attempt] = await finalAttempts(client, handle.workflowId, 'syncToProduction');
        console.log(`[disk-full] space freed; release promoted ${seconds(recovered)} after the first DiskFull; syncToProduction succeeded on attempt ${attempt}`);
        expect(result.outcome).toBe('promoted');
        expect(attempt).toBeGreaterThan(1);
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
        expect(fs.readFileSync(path.join(category(), 'fullfilelist'), 'utf8')).toMatch(/kilo-core-common-2\.0-1\.el9\.x86_64\.rpm/);
        expect([...treeDigest(mnt).keys()].filter((f) => SCRATCH.test(f))).toEqual([]);
      } finally {
        await terminateAll(client, ids, [site.productionRoot]);
      }
    });
  }, 300_000);

  it('fails the release with DiskFull named in its status when space does not come back in time, touching nothing; a new release completes once space is freed', async () => {
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      try {
        const before = snapshot();
        const filler = await newBigPackageAndFullDisk('lima-core-common');
        const maxAttempts = 2;
        const handle = await approvedRelease(client, taskQueue, 'disk-exhausted', maxAttempts);
        const t0 = Date.now();
        const err = await handle.result().then(
          () => null,
          (e: unknown) => e,
        );
        const status = await handle.query(statusQuery);
        const view = mirrorView(before);
        const sizes = await failureSizes(client, handle.workflowId, 'syncToProduction');
        console.log(
          `[disk-full] space never freed: the release failed ${seconds(Date.now() - t0)} after the approval, after ${maxAttempts} attempts; ` +
            `the DiskFull failure is ${sizes.join(', ')} bytes encoded (the server keeps at most 4096 bytes of a pending activity's last failure); ` +
            `status error: ${status.error?.split('\n')[0]}`,
        );
        expect(err).not.toBeNull();
        expect(status.stage).toBe('failed');
        expect(status.error).toMatch(/No space left on device/);
        expect(status.error).toMatch(/pass 1 of 3/);
        expect(view.changed).toEqual([]);
        expect(view.added).toEqual([]);
        expect(view.listsChanged).toEqual([]);

        fs.rmSync(filler);
        const again = await approvedRelease(client, taskQueue, 'disk-after-free');
        expect((await again.result()).outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
        expect(fs.readFileSync(path.join(category(), 'fullfilelist'), 'utf8')).toMatch(/lima-core-common-2\.0-1\.el9\.x86_64\.rpm/);
        expect([...treeDigest(mnt).keys()].filter((f) => SCRATCH.test(f))).toEqual([]);
      } finally {
        await terminateAll(client, ids, [site.productionRoot]);
      }
    });
  }, 300_000);
});
