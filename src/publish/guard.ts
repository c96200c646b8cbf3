// The deletion guard: refuses a sync that would delete a large part of the target unless an operator said so.
// The seed's `--delete` runs unguarded, so an empty or half-failed compose can wipe staging, then production
// (reference/seed-systems.md §7 risk 3). Pure.
import type { DeletionGuardOptions, DeletionGuardResult, SyncPreview } from './types.js';

export const DEFAULT_MAX_DELETE_SHARE = 0.1;
export const ALLOW_LARGE_DELETION_FLAG = '--allow-large-deletion';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Repos that lose files, most deletions first, as `x86_64/core-common: 150 of 150 files (repo removed)`. */
export function describeLargestDeletions(preview: SyncPreview, limit = 5): string[] {
  return Object.entries(preview.repos)
    .filter(([, r]) => r.deleted.files > 0)
    .sort((a, b) => b[1].deleted.files - a[1].deleted.files || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([key, r]) => `${key}: ${r.deleted.files} of ${r.targetFiles} files${r.status === 'removed' ? ' (repo removed)' : ''}`);
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
  // An empty (or missing) target has nothing to lose: the first sync into it never trips the guard.
  if (total === 0 || deleted === 0) return { ok: true };

  const share = deleted / total;
  const problems: string[] = [];
  if (share > maxShare) problems.push(`more than the allowed ${pct(maxShare)} (maxDeleteShare ${maxShare})`);
  if (options.maxDeleteCount !== undefined && deleted > options.maxDeleteCount) {
    problems.push(`more than the allowed ${options.maxDeleteCount} files (maxDeleteCount)`);
  }
  if (problems.length === 0) return { ok: true };

  const largest = describeLargestDeletions(preview);
  const what =
    `syncing ${preview.source} to ${preview.target} would delete ${deleted} of the ${total} files in the target ` +
    `(${pct(share)}), ${problems.join(' and ')}.` +
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
