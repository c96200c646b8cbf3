import { ApplicationFailure } from '@temporalio/common';
import { readFile, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { previewSync, syncToStaging } from '../../activities/publish.js';
import { exists, packages, removeDir, tempDir, treeDigest, writeFakeRepo, writeTree } from './helpers.js';

// Layout as in production use: /mnt/compose/9/SIG-core-…/compose/9/core reached through latest-SIG-core-9,
// staging /mnt/repos-staging/mirror/pub/sig/9/core next to another SIG's dir.
let root: string;
let composeDir: string;
let latest: string;
let staging: string;
let cloud: string;
const reportFile = () => path.join(root, 'work', 'previews', 'staging.txt');

beforeEach(async () => {
  root = await tempDir('staging');
  composeDir = path.join(root, 'compose', '9', 'SIG-core-9.7-20260217.101500', 'compose', '9', 'core');
  latest = path.join(root, 'compose', '9', 'latest-SIG-core-9');
  await writeFakeRepo(composeDir, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 20, '1.0'), 'v1');
  await writeFakeRepo(composeDir, 'aarch64/core-common', 'aarch64', packages('pkg', 0, 20, '1.0'), 'v1');
  await writeTree(composeDir, { 'metadata/RPM-GPG-KEY-Rocky-SIG-Core': 'key v1\n' });
  await symlink(path.join(root, 'compose', '9', 'SIG-core-9.7-20260217.101500'), latest);
  staging = path.join(root, 'repos-staging', 'mirror', 'pub', 'sig', '9', 'core');
  cloud = path.join(root, 'repos-staging', 'mirror', 'pub', 'sig', '9', 'cloud');
  await writeFakeRepo(cloud, 'x86_64/cloud-common', 'x86_64', packages('cloud', 0, 5, '2.0'), 'cloud');
});
afterEach(() => removeDir(root));

const source = () => `${latest}/compose/9/core`;
const guard = { maxDeleteShare: 0.1 };

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('syncToStaging', () => {
  it('mirrors the compose (through latest) into an empty staging: everything added, nothing guarded', async () => {
    const r = await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard, allowLargeDeletion: false });
    expect(await treeDigest(staging)).toEqual(await treeDigest(composeDir));
    expect(r.preview.source).toBe(composeDir); // resolved once: the dated compose, not the link
    expect(r.preview.targetExists).toBe(false);
    expect(r.preview.added.files).toBe(2 * 23 + 1);
    expect(r.preview.deleted.files).toBe(0);
    expect(r.transferredFiles).toBe(47);
    expect(r.transferredBytes).toBe(r.preview.added.bytes);
    expect(r.guard).toEqual({ ok: true });
    // The full itemized list went to the report file, not into the return value.
    expect((await readFile(reportFile(), 'utf8')).split('\n').filter((l) => l.startsWith('>f+++++++++')).length).toBe(47);
  });

  it('removes what left the compose (packages, a whole arch) and leaves a sibling SIG alone', async () => {
    await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard, allowLargeDeletion: false });
    const cloudBefore = await treeDigest(cloud);
    // Next compose: pkg0019 dropped, pkg0000 updated, aarch64 retired (allowed: it is half of staging).
    await removeDir(path.join(composeDir, 'x86_64/core-common'));
    await writeFakeRepo(composeDir, 'x86_64/core-common', 'x86_64', [...packages('pkg', 1, 19, '1.0'), { name: 'pkg0000', version: '1.1' }], 'v2');
    await removeDir(path.join(composeDir, 'aarch64'));

    const r = await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard, allowLargeDeletion: true });
    expect(await treeDigest(staging)).toEqual(await treeDigest(composeDir));
    expect(await exists(path.join(staging, 'aarch64'))).toBe(false);
    expect(await treeDigest(cloud)).toEqual(cloudBefore);
    expect(r.guard.overridden).toBe(true);
    expect(r.preview.repos['aarch64/core-common']).toMatchObject({ status: 'removed', deleted: { files: 23 } });
    // Old pkg0000-1.0, pkg0019, old primary and filelists.
    expect(r.preview.repos['x86_64/core-common']).toMatchObject({ deleted: { files: 4 }, added: { files: 3 }, changed: { files: 1 } });
    expect(r.preview.deleted.bytes).toBeGreaterThan(22 * 2048);
  });

  it('forces the configured owner on every file', async () => {
    await syncToStaging({ source: source(), target: staging, owner: { uid: 10004, gid: 10005 }, reportFile: reportFile(), guard });
    const st = await stat(path.join(staging, 'x86_64/core-common/repodata/repomd.xml'));
    expect([st.uid, st.gid]).toEqual([10004, 10005]);
  });

  it('trips the deletion guard when the compose lost most of its files, and leaves staging untouched', async () => {
    await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard });
    const before = await treeDigest(staging);
    const beforeMtime = (await stat(staging)).mtimeMs;
    // A failed reposync left x86_64/core-common nearly empty and aarch64 gone.
    await removeDir(path.join(composeDir, 'x86_64/core-common/Packages'));
    await removeDir(path.join(composeDir, 'aarch64'));

    const f = await failureOf(syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard, allowLargeDeletion: false }));
    expect(f.type).toBe('DeletionGuardTripped');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`would delete 43 of the 47 files in the target (91.5%)`);
    expect(f.message).toMatch(/aarch64\/core-common: 23 of 23 files, [0-9.]+ KiB \(repo removed\); x86_64\/core-common: 20 of 23 files, /);
    expect(f.message).toContain('--allow-large-deletion');
    expect(await treeDigest(staging)).toEqual(before);
    expect((await stat(staging)).mtimeMs).toBe(beforeMtime);
  });

  it('lets the same deletion through with allowLargeDeletion', async () => {
    await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard });
    await removeDir(path.join(composeDir, 'x86_64/core-common/Packages'));
    await removeDir(path.join(composeDir, 'aarch64'));
    const r = await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard, allowLargeDeletion: true });
    expect(r.preview.deleted.files).toBe(43);
    expect(await treeDigest(staging)).toEqual(await treeDigest(composeDir));
  });

  it('fails with SourceMissing (not retryable) when latest dangles, and changes nothing', async () => {
    await unlink(latest);
    await symlink(path.join(root, 'compose', '9', 'SIG-core-9.7-gone'), latest);
    const f = await failureOf(syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard }));
    expect(f.type).toBe('SourceMissing');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(source());
    expect(await exists(staging)).toBe(false);
  });

  it('fails with RsyncNotFound (not retryable) when rsync is not installed', async () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(root, 'empty-bin');
    try {
      const f = await failureOf(syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard }));
      expect(f.type).toBe('RsyncNotFound');
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toContain('Install rsync');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('refuses a target inside the source', async () => {
    const f = await failureOf(syncToStaging({ source: source(), target: path.join(composeDir, 'x86_64', 'inner'), reportFile: reportFile(), guard }));
    expect(f.type).toBe('SourceTargetOverlap');
  });
});

describe('previewSync', () => {
  it('reports the changes without touching the target, per repo, with the target file count', async () => {
    await syncToStaging({ source: source(), target: staging, reportFile: reportFile(), guard });
    await removeDir(path.join(composeDir, 'aarch64'));
    const before = await treeDigest(staging);
    const p = await previewSync({ source: source(), target: staging, reportFile: path.join(root, 'p', 'preview.txt') });
    expect(await treeDigest(staging)).toEqual(before);
    expect(p.targetFiles).toBe(47);
    expect(p.repos['aarch64/core-common']).toMatchObject({ status: 'removed', targetFiles: 23, deleted: { files: 23 } });
    expect(p.repos['x86_64/core-common']).toMatchObject({ status: 'unchanged', targetFiles: 23 });
    expect(p.repos['metadata']).toMatchObject({ status: 'unchanged', targetFiles: 1 });
    expect(p.deleteEntries).toBe(23 + 5); // files + aarch64/, core-common/, Packages/, Packages/p/, repodata/
    expect(await readFile(path.join(root, 'p', 'preview.txt'), 'utf8')).toContain('*deleting   0 aarch64/core-common/repodata/repomd.xml');
  });
});
