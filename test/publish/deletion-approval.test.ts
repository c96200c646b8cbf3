// Deletion approval bound to the number (issue 12 item 4): the guard counts bytes as well as files, an approval
// with allowLargeDeletion covers at most the deletions the gate's preview showed, and no schedule carries a
// standing allowLargeDeletion. Real rsync on temp trees; multi-GB files are sparse, so they cost no disk.
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { previewSync, syncToProduction } from '../../activities/publish.js';
import { ConfigError, loadCatalogue, parseSite } from '../../src/config/load.js';
import { describeRequestOverrides } from '../../src/config/request.js';
import { deletionsOf } from '../../src/publish/guard.js';
import { prepareSchedule } from '../../src/schedules.js';
import { exists, packages, removeDir, tempDir, treeDigest, writeFakeRepo } from './helpers.js';

const GiB = 2 ** 30;
let root: string;
let staging: string;
let production: string;
const report = (name: string) => path.join(root, 'work', 'previews', name);
const guard = { maxDeleteShare: 0.1 };
const failureOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ApplicationFailure);

/** A file of `size` bytes that occupies (almost) no disk. */
async function sparseFile(file: string, size: number) {
  const fh = await open(file, 'w');
  await fh.truncate(size);
  await fh.close();
}

beforeEach(async () => {
  root = await tempDir('deletion-approval');
  staging = path.join(root, 'repos-staging', 'mirror', 'pub', 'sig', '9', 'core');
  production = path.join(root, 'repos-production', 'mirror', 'pub', 'sig', '9', 'core');
  // 60 small packages in staging and production alike.
  await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 60, '1.0'), 'v1');
  await syncToProduction({ source: staging, target: production, reportFile: report('first.txt'), guard });
});
afterEach(() => removeDir(root));

describe('the deletion guard counts bytes', () => {
  it('three 4 GiB images leaving production trip it although they are under 5% of its files; production is unchanged', async () => {
    const images = path.join(production, 'x86_64', 'core-common', 'images');
    await mkdir(images, { recursive: true });
    for (const n of ['boot.iso', 'dvd1.iso', 'minimal.iso']) await sparseFile(path.join(images, n), 4 * GiB);
    expect((await stat(path.join(images, 'dvd1.iso'))).size).toBe(4 * GiB);
    const before = await treeDigest(production, { skip: (rel) => rel.endsWith('.iso') });

    const err = await failureOf(syncToProduction({ source: staging, target: production, reportFile: report('images.txt'), guard }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err?.type).toBe('DeletionGuardTripped');
    expect(err?.message).toMatch(/would delete 3 of the 6\d files in the target \(4\.\d%\) and 12\.0 GiB of its 12\.0 GiB \(100\.0%\)/);
    expect(err?.message).toContain('more than the allowed 10.0% of the bytes');
    expect(err?.message).not.toContain('of the files (maxDeleteShare');
    expect(await treeDigest(production, { skip: (rel) => rel.endsWith('.iso') })).toEqual(before);
    for (const n of ['boot.iso', 'dvd1.iso', 'minimal.iso']) expect((await stat(path.join(images, n))).size).toBe(4 * GiB);
  });
});

describe('allowLargeDeletion approves the deletions the gate showed, and no more', () => {
  /** Staging drops packages [from, 60); returns the gate's preview of that. */
  async function stagingDrops(from: number, name: string) {
    await removeDir(staging);
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('pkg', 0, from, '1.0'), `keep-${from}`);
    return previewSync({ source: staging, target: production, reportFile: report(name) });
  }

  it('a sync that would delete more than approved stops before deleting anything', async () => {
    // 20 packages and the two superseded metadata blobs, of 63 files: the guard trips, the approver allows it.
    const gate = await stagingDrops(40, 'gate.txt');
    expect(gate.deleted.files).toBe(22);
    const approvedDeletions = deletionsOf(gate);
    // Between the approval and the sync, staging loses 20 more packages.
    await stagingDrops(20, 'later.txt');
    const before = await treeDigest(production);

    const err = await failureOf(
      syncToProduction({ source: staging, target: production, reportFile: report('sync.txt'), guard, allowLargeDeletion: true, approvedDeletions }),
    );
    expect(err?.type).toBe('DeletionExceedsApproval');
    expect(err?.nonRetryable).toBe(true);
    expect(err?.message).toContain('would now delete 42 files (approved: 22)');
    expect(err?.message).toContain('Nothing was deleted');
    expect(await treeDigest(production)).toEqual(before);

    // Only pass 3 (after the grace period): stopped the same way, before rsync deletes.
    const late = await failureOf(
      syncToProduction({ source: staging, target: production, reportFile: report('pass3.txt'), guard, allowLargeDeletion: true, approvedDeletions, passes: [3] }),
    );
    expect(late?.type).toBe('DeletionExceedsApproval');
    expect(await treeDigest(production)).toEqual(before);
  });

  it('the approved deletions themselves go through', async () => {
    const gate = await stagingDrops(40, 'gate.txt');
    const r = await syncToProduction({
      source: staging,
      target: production,
      reportFile: report('sync.txt'),
      guard,
      allowLargeDeletion: true,
      approvedDeletions: deletionsOf(gate),
    });
    expect(r.guard.overridden).toBe(true);
    expect(r.preview.deleted.files).toBe(22);
    expect(await treeDigest(production)).toEqual(await treeDigest(staging));
    expect(await exists(path.join(production, 'x86_64/core-common/Packages/p/pkg0045-1.0-1.x86_64.rpm'))).toBe(false);
  });

  it('without allowLargeDeletion the guard still trips first, whatever was approved', async () => {
    const gate = await stagingDrops(40, 'gate.txt');
    const err = await failureOf(syncToProduction({ source: staging, target: production, reportFile: report('sync.txt'), guard, approvedDeletions: deletionsOf(gate) }));
    expect(err?.type).toBe('DeletionGuardTripped');
  });
});

describe('flags that weaken a check are named, and schedules cannot carry allowLargeDeletion', () => {
  const site = parseSite({ composeRoot: '/srv/c', stagingRoot: '/srv/s', productionRoot: '/srv/p', repoBaseUrl: 'http://127.0.0.1:9/x', releases: { '9': { revision: '9.7' } } });
  const catalogue = loadCatalogue();

  it('describes allowLargeDeletion, disableGpgCheck and disableRepoGpgCheck for the gate, status and notification', () => {
    expect(describeRequestOverrides({ allowLargeDeletion: false, disableGpgCheck: false, disableRepoGpgCheck: false })).toEqual([]);
    const all = describeRequestOverrides({ allowLargeDeletion: true, disableGpgCheck: true, disableRepoGpgCheck: true });
    expect(all.map((l) => l.split(':')[0])).toEqual(['disableGpgCheck', 'disableRepoGpgCheck', 'allowLargeDeletion']);
    expect(all[2]).toContain('production deletes at most what the gate preview shows');
  });

  it('refuses a schedule with allowLargeDeletion, saying why and what to do instead', () => {
    const input = { release: '9', sig: 'core', mode: 'full' as const, hashed: true, allowLargeDeletion: true };
    expect(() => prepareSchedule(site, catalogue, input)).toThrow(ConfigError);
    expect(() => prepareSchedule(site, catalogue, input)).toThrow(/allowLargeDeletion: a schedule may not carry it .*start that one release by hand/);
    expect(prepareSchedule(site, catalogue, { ...input, allowLargeDeletion: false }).request.allowLargeDeletion).toBe(false);
  });
});
