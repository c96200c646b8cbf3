// The deletion guard: refuses a sync that would delete a large part of the target unless an operator said so.
// The seed's `--delete` runs unguarded, so an empty or half-failed compose can wipe staging, then production
// (reference/seed-systems.md §7 risk 3). It counts bytes as well as files: a few multi-GB images leaving a tree of
// small packages are a small share of its files but most of its content. Pure.
import type { ApprovedDeletions, DeletionGuardOptions, DeletionGuardResult, SyncPreview } from './types.js';

export const DEFAULT_MAX_DELETE_SHARE = 0.1;
export const ALLOW_LARGE_DELETION_FLAG = '--allow-large-deletion';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** `512 B`, `1.5 GiB`: sizes as people read them (the exact byte count stays in the preview). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Repos that lose files, most deleted bytes first, as `x86_64/core-common: 150 of 150 files, 3.0 GiB (repo removed)`. */
export function describeLargestDeletions(preview: SyncPreview, limit = 5): string[] {
  return Object.entries(preview.repos)
    .filter(([, r]) => r.deleted.files > 0)
    .sort((a, b) => b[1].deleted.bytes - a[1].deleted.bytes || b[1].deleted.files - a[1].deleted.files || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([key, r]) => `${key}: ${r.deleted.files} of ${r.targetFiles} files, ${humanBytes(r.deleted.bytes)}${r.status === 'removed' ? ' (repo removed)' : ''}`);
}

export function evaluateDeletionGuard(
  preview: SyncPreview,
  options: DeletionGuardOptions = {},
  allowLargeDeletion = false,
): DeletionGuardResult {
  const maxShare = options.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE;
  if (!(maxShare >= 0 && maxShare <= 1)) {
    throw new RangeError(`maxDeleteShare must be between 0 and 1, got ${String(options.maxDeleteShare)}`);
  }
  if (options.maxDeleteCount !== undefined && !(Number.isInteger(options.maxDeleteCount) && options.maxDeleteCount >= 0)) {
    throw new RangeError(`maxDeleteCount must be a non-negative integer, got ${String(options.maxDeleteCount)}`);
  }
  const deleted = preview.deleted.files;
  const total = preview.targetFiles;
  const deletedBytes = preview.deleted.bytes;
  // Previews recorded before targetBytes existed have none: their byte share is unknown, not zero.
  const totalBytes = preview.targetBytes ?? 0;
  // An empty (or missing) target has nothing to lose: the first sync into it never trips the guard.
  if (total === 0 || deleted === 0) return { ok: true };

  const share = deleted / total;
  const byteShare = totalBytes > 0 ? deletedBytes / totalBytes : 0;
  const problems: string[] = [];
  if (share > maxShare) problems.push(`more than the allowed ${pct(maxShare)} of the files (maxDeleteShare ${maxShare})`);
  if (byteShare > maxShare) problems.push(`more than the allowed ${pct(maxShare)} of the bytes (maxDeleteShare ${maxShare})`);
  if (options.maxDeleteCount !== undefined && deleted > options.maxDeleteCount) {
    problems.push(`more than the allowed ${options.maxDeleteCount} files (maxDeleteCount)`);
  }
  if (problems.length === 0) return { ok: true };

  const largest = describeLargestDeletions(preview);
  const what =
    `syncing ${preview.source} to ${preview.target} would delete ${deleted} of the ${total} files in the target ` +
    `(${pct(share)})` +
    (totalBytes > 0 ? ` and ${humanBytes(deletedBytes)} of its ${humanBytes(totalBytes)} (${pct(byteShare)})` : '') +
    `, ${problems.join(' and ')}.` +
    (largest.length ? ` Largest deletions: ${largest.join('; ')}.` : '') +
    ` The full list is in ${preview.reportFile || '(no report file)'}.`;
  if (allowLargeDeletion) {
    return { ok: true, overridden: true, reason: `Deletion guard overridden by ${ALLOW_LARGE_DELETION_FLAG}: ${what}` };
  }
  return {
    ok: false,
    reason:
      `Deletion guard tripped: ${what} Nothing was changed. If these deletions are intended (a repo or arch was ` +
      `retired, packages were cleaned up), re-run with ${ALLOW_LARGE_DELETION_FLAG}; otherwise check the source ` +
      `(an empty or partly failed compose?).`,
  };
}

/** The deletions of a preview, as an approval of that preview allows them. */
export const deletionsOf = (preview: Pick<SyncPreview, 'deleted' | 'deleteEntries'>): ApprovedDeletions => ({
  files: preview.deleted.files,
  bytes: preview.deleted.bytes,
  entries: preview.deleteEntries,
});

/**
 * Why `preview` deletes more than was approved (files, bytes or entries), or null when it stays within it.
 * An approval with allowLargeDeletion covers the deletions the approver saw at the gate, not whatever staging
 * holds by the time production is synced.
 */
export function exceedsApprovedDeletions(preview: SyncPreview, approved: ApprovedDeletions): string | null {
  const now = deletionsOf(preview);
  const over: string[] = [];
  if (now.files > approved.files) over.push(`${now.files} files (approved: ${approved.files})`);
  if (now.bytes > approved.bytes) over.push(`${humanBytes(now.bytes)} (${now.bytes} bytes; approved: ${approved.bytes} bytes)`);
  if (now.entries > approved.entries) over.push(`${now.entries} entries with directories (approved: ${approved.entries})`);
  if (over.length === 0) return null;
  return (
    `syncing ${preview.source} to ${preview.target} would now delete ${over.join(', ')}: more than the approval ` +
    `with allowLargeDeletion covers (the deletions of the preview shown at the gate). Nothing was deleted. Staging ` +
    `changed after the preview; run the release again so that a person approves what it deletes now. ` +
    `The full list is in ${preview.reportFile || '(no report file)'}.`
  );
}
