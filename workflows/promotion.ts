// Production promotion, once a person approved: one holder of the production lock at a time, content and
// repomd.xml first, what left staging only after the metadata grace period, then hardlink and file lists.
import { CancellationScope, patched, setCurrentDetails, sleep } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import type { ProductionSyncResult } from '../activities/publish.js';
import { productionReleaseDir } from '../src/paths.js';
import { deletionsOf } from '../src/publish/guard.js';
import { quick, type HostActivities } from './activityOptions.js';
import { asRunFailure } from './approvedStaging.js';
import { durationMs } from './duration.js';
import { isUnexpected } from './failures.js';
import type { PreviewSummary, RecordedDecision } from './messages.js';
import { lockWorkflowId } from './productionLock.js';
import { ProductionLockTurn } from './productionLockTurn.js';
import type { ReleaseRun } from './releaseRun.js';
import { publishReleaseFileLists } from './releaseFileLists.js';

// sigRelease.ts knows the lock turn from here.
export { ProductionLockTurn };

export interface PromotionInput {
  r: ResolvedRelease;
  host: HostActivities;
  lock: ProductionLockTurn;
  decision: RecordedDecision;
  staging: string;
  production: string;
  previews: string;
  /** The production preview the approver saw at the gate. */
  preview: PreviewSummary;
  /** How often a run waiting for the lock checks the lock still has its request (runtime.lock.checkEvery). */
  lockCheckEvery?: string;
  /** How long the run waits for the file-list writers' answers (releaseFileLists.ts fileListsWaitBound). */
  listsWaitAtMostMs?: number;
}

/** Waits for the production lock, then promotes; once promotion starts it finishes (a cancel is noted). */
export async function promoteToProduction(run: ReleaseRun, p: PromotionInput): Promise<void> {
  run.setStage('waiting-for-production-lock');
  const lockId = lockWorkflowId(p.r.roots.productionRoot);
  p.lock.reportTo((notice) => run.warn(notice));
  await p.lock.acquire(lockId, p.r.plan.release, p.r.plan.sig, p.lockCheckEvery);
  // Once promotion starts it finishes: a cancel now would only leave production behind staging.
  await CancellationScope.nonCancellable(async () => {
    try {
      run.setStage('promoting');
      run.result.production = await syncProduction(run, p, lockId);
      // Every production write presents the grant's fencing token, and stops first if the turn is known to be over.
      p.lock.checkStillHeld('the hardlink pass');
      run.result.hardlink = await p.host.long.hardlinkRelease({ dir: productionReleaseDir(p.r.roots, p.r.plan.release), ...p.lock.fence() });
      run.setStage('publishing-lists');
      await publishReleaseFileLists(run, p.r, p.host, p.lock, p.listsWaitAtMostMs);
    } catch (e) {
      // A bug fails the workflow task with nothing sent, so that the fixed worker replays to this very point.
      if (!isUnexpected(e)) await p.lock.release();
      throw e;
    }
    await p.lock.release();
  });
  if (CancellationScope.current().consideredCancelled) {
    run.warn('a cancel arrived during promotion; the promotion was finished first so that production matches staging');
  }
}

/** The production sync proper, with the metadata grace period between publishing and deleting. */
async function syncProduction(run: ReleaseRun, p: PromotionInput, lockId: string): Promise<ProductionSyncResult> {
  const { r, host } = p;
  // allowLargeDeletion (request or decision) approves the deletions the gate showed, not a blank cheque:
  // a sync that would delete more than that stops before deleting (DeletionExceedsApproval).
  const capDeletions = patched('deletion-approval-cap');
  const sync = {
    source: p.staging,
    target: p.production,
    owner: r.owner,
    reportFile: `${p.previews}/production-sync.txt`,
    guard: r.guard,
    allowLargeDeletion: r.allowLargeDeletion || p.decision.allowLargeDeletion === true,
    ...(capDeletions ? { approvedDeletions: deletionsOf(p.preview) } : {}),
    ...(run.fingerprint ? { expectedStagingDigest: run.fingerprint.stagingDigest } : {}),
  };
  const graceMs = r.metadataGrace ? durationMs(r.metadataGrace) : 0;
  // Runs that were already promoting when this version was deployed replay the single call they made.
  p.lock.checkStillHeld('the production sync');
  if (!(patched('production-metadata-grace') && graceMs > 0)) return host.long.syncToProduction({ ...sync, ...p.lock.fence() }).catch(rethrowAsRunFailure);
  // New content and the new repomd.xml files go live first; what left staging stays for the grace period,
  // so a client that read the previous repomd.xml a moment ago still finds every file it names.
  const published = await host.long.syncToProduction({ ...sync, passes: [1, 2], ...p.lock.fence() }).catch(rethrowAsRunFailure);
  // Nothing superseded (a first release, additions only): no client can miss anything, so no wait.
  if (published.preview.deleteEntries > 0) {
    // Production is consistent while we wait, so other SIGs may promote meanwhile: give the lock back.
    await p.lock.release();
    const until = new Date(Date.now() + graceMs).toISOString();
    run.note({ deletionsAt: until });
    setCurrentDetails(`**${run.title}**: new metadata is live in production; superseded files are removed at ${until} (publish.metadataGrace ${r.metadataGrace})`);
    await sleep(graceMs);
    run.note({ deletionsAt: null });
    run.setStage('waiting-for-production-lock');
    await p.lock.acquire(lockId, r.plan.release, r.plan.sig, p.lockCheckEvery);
    run.setStage('promoting');
  }
  p.lock.checkStillHeld('the deletion pass');
  const deleted = await host.long.syncToProduction({ ...sync, passes: [3], ...p.lock.fence() }).catch(rethrowAsRunFailure);
  return joinProductionSyncs(published, deleted);
}

function rethrowAsRunFailure(e: unknown): never {
  throw asRunFailure(e);
}

/** One report for a production sync run as two calls (passes 1–2, then pass 3 after the grace period). */
function joinProductionSyncs(first: ProductionSyncResult, second: ProductionSyncResult): ProductionSyncResult {
  return {
    ...first,
    transferredFiles: first.transferredFiles + second.transferredFiles,
    transferredBytes: first.transferredBytes + second.transferredBytes,
    durationMs: first.durationMs + second.durationMs,
    passes: [...first.passes, ...second.passes],
    scratchRemoved: [...(first.scratchRemoved ?? []), ...(second.scratchRemoved ?? [])],
  };
}
