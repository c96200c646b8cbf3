// Compose activities: they carry out a `ComposePlan` (src/compose/plan.ts) and nothing else decides here.
// Each one is idempotent: after a crash at any point, running it again converges to the same tree.
// One file per kind of work: the compose folder and keys (composeFolder.ts), one reposync task
// (composeReposync.ts), verification (composeVerify.ts) and the `latest` flip (composeLatest.ts).
// They are built from the worker's own site config and catalogue (`deps`): a plan handed in is re-derived and
// refused unless identical, and every path is derived and confined to the compose root (composeCommon.ts).
import type { ComposeDeps } from './composeCommon.js';
import { createComposeFolderActivities } from './composeFolder.js';
import { createLatestActivities } from './composeLatest.js';
import { createReposyncActivities } from './composeReposync.js';
import { createVerifyActivities } from './composeVerify.js';

export type { ComposePlan, ReposyncTask, TaskResult, VerifyReport, RepoVerification, ReposyncHeartbeat } from '../src/compose/types.js';
export type { DryRunReport } from '../src/compose/report.js';
export type { ComposeLayout, Roots } from '../src/paths.js';
export type { ComposeDeps } from './composeCommon.js';
export type { PrepareComposeInput, PreparedCompose, DeployExtraFilesInput, WriteComposeManifestInput } from './composeFolder.js';
export type { RunReposyncTaskInput } from './composeReposync.js';
export type { VerifyComposeInput } from './composeVerify.js';
export type { FlipLatestSymlinkInput } from './composeLatest.js';

export function createComposeActivities(deps: ComposeDeps) {
  return {
    ...createComposeFolderActivities(deps),
    ...createReposyncActivities(deps),
    ...createVerifyActivities(deps),
    ...createLatestActivities(deps),
  };
}

export type ComposeActivities = ReturnType<typeof createComposeActivities>;
