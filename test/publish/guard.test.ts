import { describe, expect, it } from 'vitest';
import { deletionsOf, evaluateDeletionGuard, exceedsApprovedDeletions } from '../../src/publish/guard.js';
import type { RepoChanges, SyncPreview } from '../../src/publish/types.js';

const repo = (deleted: number, targetFiles: number, status: RepoChanges['status'] = 'changed'): RepoChanges => ({
  added: { files: 0, bytes: 0 },
  changed: { files: 0, bytes: 0 },
  deleted: { files: deleted, bytes: deleted * 100 },
  attributesOnly: 0,
  targetFiles,
  status,
});

function preview(deleted: number, targetFiles: number, repos: Record<string, RepoChanges> = {}, bytes = { deleted: deleted * 100, target: targetFiles * 100 }): SyncPreview {
  return {
    source: '/mnt/compose/9/SIG-core-9.7-20260217.101500/compose/9/core',
    target: '/mnt/repos-staging/mirror/pub/sig/9/core',
    targetExists: targetFiles > 0,
    added: { files: 0, bytes: 0 },
    changed: { files: 0, bytes: 0 },
    deleted: { files: deleted, bytes: bytes.deleted },
    attributesOnly: 0,
    dirs: { added: 0, deleted: 0 },
    deleteEntries: deleted,
    targetFiles,
    targetBytes: bytes.target,
    repos,
    reportFile: '/mnt/compose/9/x/work/previews/staging.txt',
    itemizedLines: deleted,
  };
}

describe('evaluateDeletionGuard', () => {
  it('lets a sync through that deletes at most 10% of the target (the default share)', () => {
    expect(evaluateDeletionGuard(preview(10, 100))).toEqual({ ok: true });
    expect(evaluateDeletionGuard(preview(0, 100))).toEqual({ ok: true });
  });

  it('trips above the share, naming counts, share, the largest deletions, the report and the override flag', () => {
    const r = evaluateDeletionGuard(preview(180, 200, { 'x86_64/core-common': repo(150, 150, 'removed'), 'aarch64/core-common': repo(30, 50) }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('would delete 180 of the 200 files in the target (90.0%) and 17.6 KiB of its 19.5 KiB (90.0%)');
    expect(r.reason).toContain('more than the allowed 10.0% of the files (maxDeleteShare 0.1) and more than the allowed 10.0% of the bytes');
    expect(r.reason).toContain('x86_64/core-common: 150 of 150 files, 14.6 KiB (repo removed); aarch64/core-common: 30 of 50 files, 2.9 KiB');
    expect(r.reason).toContain('/mnt/compose/9/x/work/previews/staging.txt');
    expect(r.reason).toContain('--allow-large-deletion');
    expect(r.reason).toContain('/mnt/repos-staging/mirror/pub/sig/9/core');
  });

  it('counts bytes as well as files: three 4 GiB images among 1000 small packages trip it, and only the byte share is named', () => {
    const GiB = 2 ** 30;
    const images = { ...repo(3, 3, 'removed'), deleted: { files: 3, bytes: 12 * GiB } };
    const r = evaluateDeletionGuard(preview(3, 1003, { 'x86_64/core-images': images }, { deleted: 12 * GiB, target: 12 * GiB + 1000 * 4096 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('would delete 3 of the 1003 files in the target (0.3%) and 12.0 GiB of its 12.0 GiB (100.0%)');
    expect(r.reason).toContain('more than the allowed 10.0% of the bytes (maxDeleteShare 0.1)');
    expect(r.reason).not.toContain('of the files (maxDeleteShare');
    expect(r.reason).toContain('x86_64/core-images: 3 of 3 files, 12.0 GiB (repo removed)');
    // The same three files at package size are within the share.
    expect(evaluateDeletionGuard(preview(3, 1003, {}, { deleted: 3 * 4096, target: 1003 * 4096 })).ok).toBe(true);
  });

  it('a preview without targetBytes (recorded before bytes were counted) is judged on files alone', () => {
    const old = preview(3, 1003, {}, { deleted: 2 ** 34, target: 0 });
    delete old.targetBytes;
    expect(evaluateDeletionGuard(old).ok).toBe(true);
  });

  it('honours a configured share', () => {
    expect(evaluateDeletionGuard(preview(30, 100), { maxDeleteShare: 0.5 }).ok).toBe(true);
    expect(evaluateDeletionGuard(preview(51, 100), { maxDeleteShare: 0.5 }).ok).toBe(false);
  });

  it('trips on maxDeleteCount even when the share is small', () => {
    const r = evaluateDeletionGuard(preview(60, 10_000), { maxDeleteCount: 50 });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('more than the allowed 50 files (maxDeleteCount)');
    expect(evaluateDeletionGuard(preview(50, 10_000), { maxDeleteCount: 50 }).ok).toBe(true);
  });

  it('never trips for an empty or missing target', () => {
    expect(evaluateDeletionGuard(preview(0, 0), { maxDeleteShare: 0, maxDeleteCount: 0 })).toEqual({ ok: true });
  });

  it('lets a large deletion through with --allow-large-deletion, and says what it let through', () => {
    const r = evaluateDeletionGuard(preview(100, 100), {}, true);
    expect(r).toMatchObject({ ok: true, overridden: true });
    expect(r.reason).toMatch(/^Deletion guard overridden by --allow-large-deletion: .*100 of the 100 files/);
  });

  it('an approval covers the deletions it saw: more files, more bytes or more entries are each named', () => {
    const seen = preview(20, 100);
    const approved = deletionsOf(seen);
    expect(approved).toEqual({ files: 20, bytes: 2000, entries: 20 });
    expect(exceedsApprovedDeletions(seen, approved)).toBeNull();
    expect(exceedsApprovedDeletions(preview(15, 100), approved)).toBeNull();
    const more = exceedsApprovedDeletions(preview(21, 100), approved);
    expect(more).toContain('would now delete 21 files (approved: 20), 2.1 KiB (2100 bytes; approved: 2000 bytes), 21 entries with directories (approved: 20)');
    expect(more).toContain('Nothing was deleted');
    // Same number of files, but bigger ones.
    expect(exceedsApprovedDeletions(preview(20, 100, {}, { deleted: 5000, target: 10_000 }), approved)).toMatch(/would now delete 4\.9 KiB \(5000 bytes; approved: 2000 bytes\)/);
  });

  it('rejects nonsense limits instead of guessing', () => {
    expect(() => evaluateDeletionGuard(preview(1, 10), { maxDeleteShare: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => evaluateDeletionGuard(preview(1, 10), { maxDeleteCount: -1 })).toThrow(/non-negative integer/);
  });
});
