// The file lists a release publishes once production holds it: the sig category, then the other levels the
// site configures (publish.fileListLevels, src/filelists/levels.ts), in the seed's order. Each level's lists are
// written by that level's writer (fileListWriter.ts): the release asks, and waits for the answer of the first
// walk that began after its request, so two releases never walk a large tree at once and none misses its files.
import { ApplicationFailure, condition, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { fileListLevelDir, releaseFileListLevels, type FileListLevel } from '../src/filelists/levels.js';
import type { HostActivities } from './activityOptions.js';
import { quick } from './activityOptions.js';
import { fileListsWrittenSignal, type FileListsWritten } from './fileListWriter.js';
import type { ProductionLockTurn } from './productionLockTurn.js';
import type { ReleaseRun } from './releaseRun.js';

/** What this module needs of the production lock turn (its holder's checks). */
type HeldLock = Pick<ProductionLockTurn, 'checkStillHeld' | 'fence'>;

export async function publishReleaseFileLists(run: ReleaseRun, r: ResolvedRelease, host: HostActivities, lock: HeldLock): Promise<void> {
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
  // The writers' walks only re-list the tree (they write no content) and hold no lock turn, so they carry no fence;
  // a run that lost its turn still stops here rather than ask.
  lock.checkStillHeld('publishing the file lists');
  await publishThroughWriters(run, levels);
}

async function publishThroughWriters(run: ReleaseRun, levels: FileListLevel[]): Promise<void> {
  const answers = new Map<string, FileListsWritten>();
  setHandler(fileListsWrittenSignal, (written) => {
    answers.set(written.requestId, written);
  });
  const { workflowId, taskQueue } = workflowInfo();
  // All levels asked first: their writers walk different trees, side by side as the seed's script does.
  const requests = levels.map((level) => ({ level, requestId: uuid4() }));
  for (const { level, requestId } of requests) {
    await quick.requestFileListWalk({ level, requesterWorkflowId: workflowId, requestId, taskQueue });
  }
  for (const { level, requestId } of requests) {
    await condition(() => answers.has(requestId));
    const written = answers.get(requestId)!;
    if (written.error !== undefined || !written.result) {
      throw ApplicationFailure.create({ type: 'FileListsFailed', nonRetryable: true, message: `the ${level}-level file lists could not be written: ${written.error ?? 'no result'}` });
    }
    run.result.fileLists.push(written.result);
  }
}
