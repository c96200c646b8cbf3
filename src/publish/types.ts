// Shapes shared by the publish modules and the publish activities. Everything here is JSON-serialisable,
// because previews and results travel through Temporal payloads and heartbeat details.

/** Ownership forced on every synced file (`--chown=<uid>:<gid>`), as the seed does with 10004:10005. */
export interface Owner {
  uid: number;
  gid: number;
}

export interface ChangeCount {
  /** Non-directory entries: regular files, symlinks, devices, specials. */
  files: number;
  /** Sum of file sizes (new size for added/changed files; size in the target for deleted files). */
  bytes: number;
}

/** What one sync would do to one repository (`<arch>/<repo>`), or to `metadata`, or to loose files (`.`, `<arch>`). */
export interface RepoChanges {
  added: ChangeCount;
  changed: ChangeCount;
  deleted: ChangeCount;
  /** Files whose permissions, owner or times change without a content transfer. */
  attributesOnly: number;
  /** Non-directory entries this repository has in the target now (before the sync). */
  targetFiles: number;
  /** `new`: the repo directory is created; `removed`: the repo directory is deleted; otherwise `changed`/`unchanged`. */
  status: 'new' | 'removed' | 'changed' | 'unchanged';
}

/**
 * The result of an rsync dry run with itemized changes: small on purpose (no file lists; those go to `reportFile`).
 * Deletion counts are what the deletion guard looks at; `targetFiles` gives the share.
 */
export interface SyncPreview {
  /** Source directory after realpath (the compose actually read). */
  source: string;
  target: string;
  /** False when the target did not exist yet (everything is then "added"). */
  targetExists: boolean;
  added: ChangeCount;
  changed: ChangeCount;
  deleted: ChangeCount;
  attributesOnly: number;
  dirs: { added: number; deleted: number };
  /** Every entry rsync will delete, directories included: what `--max-delete` counts. */
  deleteEntries: number;
  /** Non-directory entries currently in the target (rsync's partial/temp dirs and kept dirs excluded). */
  targetFiles: number;
  /** Their sizes added up: the deletion guard's byte share is `deleted.bytes / targetBytes`. */
  targetBytes?: number;
  /**
   * Production-only folders (the catalogue's `productionOnlyDirs`) found in the target: the sync keeps them and
   * everything under them, and neither their files nor their bytes count towards `targetFiles`/`targetBytes`.
   * (Both fields are absent in previews recorded before they existed.)
   */
  kept?: KeptDir[];
  /** Keyed by `<arch>/<repo>`, `metadata`, `<arch>` (files directly in an arch dir) or `.` (top-level files). */
  repos: Record<string, RepoChanges>;
  /** Where the full itemized list was written (`%i %l %n%L` per line). */
  reportFile: string;
  /** Number of itemized lines in the report (changed entries, directories included). */
  itemizedLines: number;
}

export interface KeptDir {
  /** Relative to the sync root, e.g. `images`. */
  dir: string;
  files: number;
  bytes: number;
}

/**
 * What an approval let the production sync delete: the deletions of the preview the approver saw. A sync that
 * would delete more files, bytes or entries than this stops before deleting anything.
 */
export interface ApprovedDeletions {
  files: number;
  bytes: number;
  /** rsync's count (directories included), which becomes pass 3's --max-delete. */
  entries: number;
}

export interface DeletionGuardOptions {
  /** Largest share (0..1) of the target's files, and of its bytes, one sync may delete. Default 0.1. */
  maxDeleteShare?: number;
  /** Largest number of files one sync may delete, whatever the share. No limit when absent. */
  maxDeleteCount?: number;
}

export interface DeletionGuardResult {
  ok: boolean;
  /** Why it tripped (or, when `overridden`, what the override let through). */
  reason?: string;
  /** True when the guard would have tripped but `--allow-large-deletion` was given. */
  overridden?: boolean;
}

/** One parsed `--info=progress2` record. Fields rsync did not print in this record are null. */
export interface Progress2 {
  bytes: number;
  percent: number;
  /** `xfr#N`: files transferred so far. */
  filesTransferred: number | null;
  /** `to-chk=a/b` / `ir-chk=a/b`: a = files still to check. */
  toCheck: number | null;
  /** b of `to-chk=a/b`; with `ir-chk` it is only the count known so far (incremental recursion). */
  total: number | null;
  /** True for `ir-chk` (the total still grows). */
  incremental: boolean;
  /** Rate as printed, e.g. `1.05MB/s`. */
  rate: string;
}

/** Heartbeat details of the sync activities: enough for an operator to see progress, and for a retry to resume. */
export interface SyncHeartbeat {
  phase: SyncPhase;
  bytes: number;
  percent: number;
  filesTransferred: number;
  /** Files left to check / total files, from `to-chk`, when known. */
  toCheck: number | null;
  total: number | null;
  /** The resolved source, so a retried attempt reads the same compose. */
  source: string;
  /** Production only: how many of the three passes are finished (a retried attempt skips them). */
  completedPasses: number;
}

export type SyncPhase = 'preview' | 'transfer' | 'pass1-content' | 'pass2-repomd' | 'pass3-delete' | 'hardlink' | 'done';
