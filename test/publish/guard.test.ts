import { describe, expect, it } from 'vitest';
import { evaluateDeletionGuard } from '../../src/publish/guard.js';
import type { RepoChanges, SyncPreview } from '../../src/publish/types.js';

const repo = (deleted: number, targetFiles: number, status: RepoChanges['status'] = 'changed'): RepoChanges => ({
  added: { files: 0, bytes: 0 },
  changed: { files: 0, bytes: 0 },
  deleted: { files: deleted, bytes: deleted * 100 },
  attributesOnly: 0,
  targetFiles,
  status,
});

function preview(deleted: number, targetFiles: number, repos: Record<string, RepoChanges> = {}): SyncPreview {
  return {
    source: '/mnt/compose/9/SIG-core-9.7-20260217.101500/compose/9/core',
    target: '/mnt/repos-staging/mirror/pub/sig/9/core',
    targetExists: targetFiles > 0,
    added: { files: 0, bytes: 0 },
    changed: { files: 0, bytes: 0 },
    deleted: { files: deleted, bytes: deleted * 100 },
    attributesOnly: 0,
    dirs: { added: 0, deleted: 0 },
    deleteEntries: deleted,
    targetFiles,
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
    expect(r.reason).toContain('would delete 180 of the 200 files in the target (90.0%)');
    expect(r.reason).toContain('more than the allowed 10.0% (maxDeleteShare 0.1)');
    expect(r.reason).toContain('x86_64/core-common: 150 of 150 files (repo removed); aarch64/core-common: 30 of 50 files');
    expect(r.reason).toContain('/mnt/compose/9/x/work/previews/staging.txt');
    expect(r.reason).toContain('--allow-large-deletion');
    expect(r.reason).toContain('/mnt/repos-staging/mirror/pub/sig/9/core');
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

  it('rejects nonsense limits instead of guessing', () => {
    expect(() => evaluateDeletionGuard(preview(1, 10), { maxDeleteShare: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => evaluateDeletionGuard(preview(1, 10), { maxDeleteCount: -1 })).toThrow(/non-negative integer/);
  });
});
