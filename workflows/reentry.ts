// Entering the pipeline after the compose (issue 14 item 5, and rollback, item 2): the same staging sync,
// preview, gate and production sync as any release, only the compose step is replaced by finding one on disk.
//   from 'staging': re-stage the compose `latest` points to, or (rollback) the earlier compose the request names;
//   from 'gate':    ask for approval of what staging holds now, whose compose the staging record names;
//   from 'lists':   republish the production file lists only (workflows/listsOnly.ts).
// The worker finds every compose by name (activities/lifecycle.ts): a request never hands it a path.
import { ApplicationFailure, patched, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { stagingSigDir } from '../src/paths.js';
import type { HostActivities } from './activityOptions.js';
import type { PreviewSummary } from './messages.js';
import type { ReleaseRun } from './releaseRun.js';

/** The compose the gate asks approval for, and where the run's reports go. */
export interface GateSource {
  composeId: string;
  /** The compose folder's name; null for composes whose folder is not known by name (never for re-entries). */
  compose: string | null;
  composeDir: string;
  manifest: string | null;
  previews: string;
  /** from 'gate': the staging digest recorded when that compose was staged; the gate's preview must match it. */
  recordedDigest?: string;
}

/** `/a/b/SIG-core-9.7-<stamp>` → `SIG-core-9.7-<stamp>` (no node:path in workflow code). */
export const folderName = (dir: string) => dir.replace(/\/+$/, '').split('/').pop() ?? dir;

/** Mirrors a compose's SIG tree into staging; since 'staging-source-recorded' records which compose staging holds. */
export async function stageCompose(run: ReleaseRun, r: ResolvedRelease, host: HostActivities, source: Omit<GateSource, 'recordedDigest'>): Promise<void> {
  run.setStage('staging');
  run.result.staging = await host.long.syncToStaging({
    source: `${source.composeDir}/compose/${r.plan.release}/${r.plan.sig}`,
    target: stagingSigDir(r.roots, r.plan.release, r.plan.sig),
    owner: r.owner,
    reportFile: `${source.previews}/staging.txt`,
    guard: r.guard,
    allowLargeDeletion: r.allowLargeDeletion,
  });
  run.note({ stagingPreview: { ...run.result.staging.preview, guard: { ok: true } } });
  // `--from gate` and `composes` read this record; runs older than it record nothing.
  if (patched('staging-source-recorded')) {
    await recordTreeSource(r, host, 'staging', source);
  }
}

/** Re-entry at staging or at the gate: finds the compose, stages it when asked, and says what the gate shows. */
export async function enterAfterCompose(run: ReleaseRun, r: ResolvedRelease, host: HostActivities, stamp: string): Promise<GateSource> {
  const entry = r.entry!;
  if (entry.from === 'gate') {
    patched('enter-at-gate');
    upsertMemo({ mode: 'gate' });
    run.setStage('staging', `**${run.title}**: asking for approval of what staging holds now`);
    const held = await host.hostQuick.readStagingSource({ release: r.plan.release, sig: r.plan.sig });
    if (!held) {
      throw ApplicationFailure.create({
        type: 'StagingSourceUnknown',
        nonRetryable: true,
        message: `staging of ${r.plan.sig} ${r.plan.release} records no compose (staged by hand, or before sigrelease recorded it): re-stage it with \`sigrelease start --release ${r.plan.release} --sig ${r.plan.sig} --from staging\``,
      });
    }
    noteCompose(run, held.record.composeId, held.composeDir, null);
    return { composeId: held.record.composeId, compose: held.record.compose, composeDir: held.composeDir, manifest: null, previews: `${held.composeDir}/work/previews/${stamp}`, recordedDigest: held.record.digest };
  }
  patched('enter-at-staging');
  if (entry.composeId !== undefined && patched('rollback')) {
    // The history says it is a rollback: the request, this memo, and the compose the activity found by name.
    upsertMemo({ mode: 'rollback', rollbackTo: entry.composeId });
  } else {
    upsertMemo({ mode: 'restage' });
  }
  run.setStage('staging', `**${run.title}**: finding ${entry.composeId !== undefined ? `compose ${entry.composeId}` : 'the compose latest points to'}`);
  const found = await host.hostQuick.resolveStagingSource({ release: r.plan.release, sig: r.plan.sig, ...(entry.composeId !== undefined ? { composeId: entry.composeId } : {}) });
  noteCompose(run, found.composeId, found.composeDir, found.manifest);
  const source = { composeId: found.composeId, compose: found.compose, composeDir: found.composeDir, manifest: found.manifest, previews: `${found.composeDir}/work/previews/${stamp}` };
  await stageCompose(run, r, host, source);
  return source;
}

function noteCompose(run: ReleaseRun, composeId: string, composeDir: string, manifest: string | null): void {
  Object.assign(run.result, { composeId, composeDir });
  run.result.compose.manifest = manifest;
}

/**
 * from 'gate': the compose the gate names is the one staging came from only while staging still has the digest
 * recorded when it was staged; otherwise nobody knows what staging holds, and nothing is asked.
 */
export function refuseUnrecordedStaging(source: GateSource, preview: PreviewSummary): void {
  if (source.recordedDigest === undefined || preview.stagingDigest === source.recordedDigest) return;
  throw ApplicationFailure.create({
    type: 'StagingChangedSinceStaged',
    nonRetryable: true,
    message:
      `staging no longer holds what compose ${source.composeId} put there (recorded digest ${source.recordedDigest}, staging now ${preview.stagingDigest ?? 'unknown'}): ` +
      `it was changed by hand or by a sync that failed half way. Re-stage it with --from staging; nothing was asked and production was not touched.`,
  });
}

/** Which compose a tree now holds, beside it (src/lifecycle/sources.ts): `--from gate`, `composes` and retention read it. */
export async function recordTreeSource(r: ResolvedRelease, host: HostActivities, tree: 'staging' | 'production', source: Pick<GateSource, 'compose' | 'composeDir' | 'composeId'>): Promise<void> {
  await host.hostQuick.recordTreeSource({
    tree,
    release: r.plan.release,
    sig: r.plan.sig,
    compose: source.compose ?? folderName(source.composeDir),
    composeId: source.composeId,
    workflowId: workflowInfo().workflowId,
    recordedAt: new Date().toISOString(),
  });
}
