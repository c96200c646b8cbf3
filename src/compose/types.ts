// The compose plan: what planning produces and what the compose workflow and activities carry out.
import type { Arch } from '../config/schema.js';
import type { TaskKind } from '../paths.js';

export interface ReposyncTask {
  /** Seed task name, unique within a compose: `core-common-x86_64`, `core-common-debug-x86_64`, `core-common-source`. */
  name: string;
  repo: string;
  kind: TaskKind;
  /** Target arch; `source` for the source task. */
  arch: Arch | 'source';
  /** dnf repo id (section name): `core-common`, `core-common-debug`, `core-common-source`. */
  repoId: string;
  /**
   * The section of OUR per-run dnf config that this task syncs (`--repoid=<section>`): the task name.
   * The seed had one `$basearch` section per repoId and substituted the arch in a per-container copy;
   * we render concrete URLs into one file, so each task needs a section of its own (seed §5.1, §6.2).
   */
  section: string;
  /** Concrete yumrepofs URL, `$basearch` already replaced. */
  baseUrl: string;
  /** Destination relative to the compose's sig root, e.g. `x86_64/core-common-debug`. */
  relDir: string;
  /** Log file name under `work/logs/<stamp>/`, e.g. `core-common-x86_64-debug.log`. */
  logName: string;
}

/**
 * The plan as one reposync task's input carries it: without the task list, which the activity takes from the plan
 * it makes itself. Each task carrying every task made a compose's history grow with the square of its tasks.
 */
export type TaskPlan = Omit<ComposePlan, 'batches'>;

export interface ComposePlan {
  release: string;
  sig: string;
  /** `9.7`: goes into the compose folder name. */
  revision: string;
  stamp: string;
  /** `<sig>-<release>-<stamp>` (the seed's compose_id). */
  composeId: string;
  fullRun: boolean;
  dryRun: boolean;
  cleanOldPackages: boolean;
  hashed: boolean;
  gpgCheck: boolean;
  repoGpgCheck: boolean;
  /** Deploy extra files into `metadata/` (always on a full run; `--refresh-extra-files` in place). */
  deployExtraFiles: boolean;
  gpgKeys: string[];
  extraFiles: { baseUrl: string; files: string[] } | null;
  /** One batch per repo, in catalogue order; tasks of all batches may run together up to `parallelism`. */
  batches: ReposyncTask[][];
  parallelism: number;
  repoclosure: boolean;
  /** Extra repos repoclosure resolves from (site compose.repoclosureLookaside); `$releasever`/`$basearch` left to dnf. */
  repoclosureLookaside: Array<{ name: string; baseUrl: string }>;
  /** Non-fatal remarks for the operator (e.g. `--repo` ignored on a full run). */
  warnings: string[];
  /** The flags as requested (after defaults), recorded in the compose manifest. */
  options: ComposeOptions;
}

/** What the operator asked for, kept verbatim for the manifest and the dry-run report. */
export interface ComposeOptions {
  repos: string[] | null;
  arches: (Arch | 'source')[] | null;
  ignoreDebug: boolean;
  ignoreSource: boolean;
  hashed: boolean;
  cleanOldPackages: boolean;
  fullRun: boolean;
  dryRun: boolean;
  refreshExtraFiles: boolean;
  repoclosure: boolean;
  disableGpgCheck: boolean;
  disableRepoGpgCheck: boolean;
  requestedBy: string | null;
}

/** Counters parsed from reposync output while it runs (and at its end). */
export interface ReposyncProgress {
  /** `N` of the `(i/N)` lines: packages the repo lists for this arch filter; 0 until the first line. */
  total: number;
  downloaded: number;
  skipped: number;
  deleted: number;
  /** Approximate: summed from the size column of finished downloads (dnf prints 2–3 significant digits). */
  bytes: number;
  /** File names from `[FAILED] <file>: ...` lines. */
  failedPackages: string[];
  /** File names from `Removing <file>: ...` lines (signature check failed after download). */
  removedPackages: string[];
}

/** Heartbeat details of `runReposyncTask`. */
export interface ReposyncHeartbeat {
  task: string;
  downloaded: number;
  skipped: number;
  total: number;
  bytes: number;
  /** Set while the task waits at the worker for one of its compose's run slots (src/compose/slots.ts). */
  waitingForSlot?: true;
}

/** What one finished reposync task reports to the compose workflow. */
export interface TaskResult {
  name: string;
  repo: string;
  kind: TaskKind;
  arch: Arch | 'source';
  downloaded: number;
  skipped: number;
  deleted: number;
  bytes: number;
  /** Packages the repo lists (downloaded + already present). */
  packages: number;
  durationMs: number;
  attempt: number;
  /** Set when dnf did not run: the folder is the named compose's, linked whole (upstream's repomd.xml unchanged). */
  carriedOverFrom?: string;
}

/** Verification of one synced repo directory. */
export interface RepoVerification {
  /** Relative to the compose's sig root, e.g. `x86_64/core-common`. */
  relDir: string;
  packages: number;
  /** Sum of the package sizes as listed in (and checked against) primary metadata. */
  bytes: number;
  problems: string[];
}

export interface VerifyReport {
  ok: boolean;
  repos: RepoVerification[];
  /** Every problem, each prefixed with its repo dir. */
  problems: string[];
}
