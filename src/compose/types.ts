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
  /** Concrete yumrepofs URL, `$basearch` already replaced. */
  baseUrl: string;
  /** Destination relative to the compose's sig root, e.g. `x86_64/core-common-debug`. */
  relDir: string;
  /** Log file name under `work/logs/<stamp>/`, e.g. `core-common-x86_64-debug.log`. */
  logName: string;
}

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
  /** Non-fatal remarks for the operator (e.g. `--repo` ignored on a full run). */
  warnings: string[];
}
