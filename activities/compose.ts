// Compose activities: they carry out a `ComposePlan` (src/compose/plan.ts) and nothing else decides here.
// Each one is idempotent: after a crash at any point, running it again converges to the same tree.
// One file per kind of work: the compose folder and keys (composeFolder.ts), one reposync task
// (composeReposync.ts), verification (composeVerify.ts) and the `latest` flip (composeLatest.ts).

export type { ComposePlan, ReposyncTask, TaskResult, VerifyReport, RepoVerification, ReposyncHeartbeat } from '../src/compose/types.js';
export type { DryRunReport } from '../src/compose/report.js';
export type { ComposeLayout, Roots } from '../src/paths.js';
export { prepareCompose, deployExtraFiles, writeComposeManifest, type PrepareComposeInput, type PreparedCompose, type DeployExtraFilesInput, type WriteComposeManifestInput } from './composeFolder.js';
export { runReposyncTask, type RunReposyncTaskInput } from './composeReposync.js';
export { verifyCompose, type VerifyComposeInput } from './composeVerify.js';
export { flipLatestSymlink, type FlipLatestSymlinkInput } from './composeLatest.js';
