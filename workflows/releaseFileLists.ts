// The file lists a release publishes once production holds it: the sig category, then the other levels the
// site configures (publish.fileListLevels, src/filelists/levels.ts), in the seed's order. Each level's lists are
// written by that level's writer (fileListWriter.ts): the release asks, and waits for the answer of the first
// walk that began after its request, so two releases never walk a large tree at once and none misses its files.
import { ApplicationFailure, condition, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { fileListLevelDir, releaseFileListLevels, type FileListLevel } from '../src/filelists/levels.js';
import type { HostActivities } from './activityOptions.js';
import { quick } from './activityOptions.js';
import { durationMs } from './duration.js';
import { fileListsWrittenSignal, fileListWriterId, type FileListsWritten } from './fileListWriter.js';
import type { ActivityTimeouts } from './messages.js';
import type { ProductionLockTurn } from './productionLockTurn.js';
import type { ReleaseRun } from './releaseRun.js';

/** What this module needs of the production lock turn (its holder's checks). */
type HeldLock = Pick<ProductionLockTurn, 'checkStillHeld' | 'fence'>;

/**
 * How long a run waits for a writer's answer: the walk that may be under way when it asks, then the one that covers
 * it, each at most one long activity's time (runtime.timeouts.longSync, default 12 hours). A writer that never
 * answers (stuck, terminated, its worker gone) then fails the run naming the level, instead of holding the
 * production lock for ever.
 */
export function fileListsWaitBound(timeouts?: ActivityTimeouts): number {
  return 2 * durationMs(timeouts?.longSync ?? '12 hours');
}

export async function publishReleaseFileLists(run: ReleaseRun, r: ResolvedRelease, host: HostActivities, lock: HeldLock, waitAtMostMs?: number): Promise<void> {
  // Runs recorded before the rocky level existed never configured it; the marker keeps that explicit.
  const levels = releaseFileListLevels(r.fileListLevels).filter((l) => l !== 'rocky' || patched('file-list-level-rocky'));
  // Runs recorded before the writers existed replay the activity calls they made.
  if (!patched('file-lists-through-writer')) {
    for (const level of levels) {
      lock.checkStillHeld(level === 'sig' ? 'publishing the file lists' : `publishing the ${level} file lists`);
      const { dir, module, aliases } = fileListLevelDir(level, r.roots);
      run.result.fileLists.push(await host.long.publishFileLists({ dir, module, aliases, owner: r.owner, ...lock.fence() }));
    }
    return;
  }
  // A run that lost its turn stops here rather than ask; one that loses it during the walk is stopped by the fence
  // its request carries (fileListWriter.ts walkFence).
  lock.checkStillHeld('publishing the file lists');
  await publishThroughWriters(run, r, levels, lock, waitAtMostMs);
}

/**
 * Asks the writer of each level for a walk and waits for their answers, while this run holds the production lock
 * (the writer walks on its behalf, presenting its fencing token: the writer takes no turn of its own, which would
 * wait for ever on the turn this run holds while it waits for the writer).
 */
export async function publishThroughWriters(run: ReleaseRun, r: ResolvedRelease, levels: FileListLevel[], lock: Pick<ProductionLockTurn, 'fence'>, waitAtMostMs?: number): Promise<void> {
  const answers = new Map<string, FileListsWritten>();
  setHandler(fileListsWrittenSignal, (written) => {
    answers.set(written.requestId, written);
  });
  const { workflowId, taskQueue } = workflowInfo();
  // All levels asked first: their writers walk different trees, side by side as the seed's script does.
  const requests = levels.map((level) => ({ level, requestId: uuid4() }));
  const fence = patched('file-list-requests-fenced') ? lock.fence() : {};
  for (const { level, requestId } of requests) {
    await quick.requestFileListWalk({ level, requesterWorkflowId: workflowId, requestId, taskQueue, ...fence });
  }
  const bounded = patched('file-list-answer-bounded');
  const deadline = Date.now() + (waitAtMostMs ?? fileListsWaitBound());
  for (const { level, requestId } of requests) {
    if (!bounded) {
      await condition(() => answers.has(requestId));
    } else if (!(await condition(() => answers.has(requestId), Math.max(1, deadline - Date.now())))) {
      const writer = fileListWriterId(level, r.roots.productionRoot);
      throw ApplicationFailure.create({
        type: 'FileListsTimedOut',
        nonRetryable: true,
        message: `the ${level}-level file lists: writer ${writer} did not answer within ${Math.round((waitAtMostMs ?? fileListsWaitBound()) / 1000)} s; production holds the release, its lists were not confirmed. Look at ${writer} (temporal workflow describe), then run \`sigrelease lists publish ${r.plan.release} ${r.plan.sig} --level ${level}\``,
      });
    }
    const written = answers.get(requestId)!;
    if (written.error !== undefined || !written.result) {
      throw ApplicationFailure.create({ type: 'FileListsFailed', nonRetryable: true, message: `the ${level}-level file lists could not be written: ${written.error ?? 'no result'}` });
    }
    run.result.fileLists.push(written.result);
  }
}
