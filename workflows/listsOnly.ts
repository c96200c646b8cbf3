// `sigrelease lists publish`: the production file lists republished alone, as a release run (it shows in `list`
// and `status`), by the holder of the production lock like every list publication, with the same activity: each
// list is rewritten only if its content changed, with its `-old` copy, its alias and the configured owner.
import { patched, upsertMemo } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { fileListLevelDir, releaseFileListLevels } from '../src/filelists/levels.js';
import type { HostActivities } from './activityOptions.js';
import { lockWorkflowId } from './productionLock.js';
import type { ProductionLockTurn } from './promotion.js';
import { publishThroughWriters } from './releaseFileLists.js';
import type { ReleaseResult, ReleaseRun } from './releaseRun.js';

export async function republishFileLists(run: ReleaseRun, r: ResolvedRelease, host: HostActivities, lock: ProductionLockTurn, waitAtMostMs?: number): Promise<ReleaseResult> {
  patched('enter-at-lists');
  upsertMemo({ mode: 'lists' });
  // One level when asked (--level), else the levels a promotion writes (publish.fileListLevels).
  const levels = r.entry?.listLevel ? [r.entry.listLevel] : releaseFileListLevels(r.fileListLevels).filter((l) => l !== 'rocky' || patched('file-list-level-rocky'));
  run.setStage('waiting-for-production-lock');
  await lock.acquire(lockWorkflowId(r.roots.productionRoot), r.plan.release, r.plan.sig);
  run.setStage('publishing-lists');
  if (patched('lists-publish-through-writer')) {
    // Through each level's one writer, like a release's lists: never a second walk beside the writer's, and a
    // request during a walk coalesces into its next one. The request carries this turn's fencing token.
    await publishThroughWriters(run, r, levels, lock, waitAtMostMs);
  } else {
    for (const level of levels) {
      run.result.fileLists.push(await host.long.publishFileLists({ ...fileListLevelDir(level, r.roots), owner: r.owner, ...lock.fence() }));
    }
  }
  await lock.release();
  const changed = run.result.fileLists.flatMap((l) => l.changed.map((name) => `${l.dir}/${name}`));
  run.setStage('published', `**${run.title}**: file lists republished (${levels.join(', ')} level); ${changed.length ? `changed: ${changed.join(', ')}` : 'all unchanged'}`);
  return run.close('published');
}
