// Every activity the workers serve, built from the site config and catalogue (dependency injection, as in
// samples-typescript `mutex/`). Workflows import this module as a type only. The list is explicit: a module's
// other exports (helpers, types) never become activities by accident.
import { deployExtraFiles, flipLatestSymlink, prepareCompose, runReposyncTask, verifyCompose, writeComposeManifest } from './compose.js';
import { hardlinkRelease, previewSync, syncToProduction, syncToStaging } from './publish.js';
import { publishFileLists } from './filelists.js';
import { createReleaseActivities, type ReleaseDeps } from './release.js';
import { realpath } from 'node:fs/promises';
import { evaluateDeletionGuard } from '../src/publish/guard.js';
import { stagingDigest as stagingDigestOf } from '../src/publish/staging-digest.js';
import type { PreviewSummary } from '../workflows/messages.js';

export function createActivities(deps: ReleaseDeps) {
  return {
    ...createReleaseActivities(deps),
    prepareCompose,
    runReposyncTask,
    deployExtraFiles,
    verifyCompose,
    writeComposeManifest,
    flipLatestSymlink,
    syncToStaging,
    syncToProduction,
    hardlinkRelease,
    publishFileLists,
    /** What production would get from staging, with the deletion guard's verdict, for the approval gate. */
    async previewProduction(input: {
      source: string;
      target: string;
      reportFile: string;
      guard: { maxDeleteShare: number; maxDeleteCount?: number };
    }): Promise<PreviewSummary> {
      // The fingerprint is taken before the preview: a change during the preview then fails the later check
      // instead of slipping in unseen.
      const staging = await realpath(input.source);
      const { digest: stagingDigest, entries: stagingEntries } = await stagingDigestOf(staging);
      // The preview must see the ownership the real sync will apply (--chown), or it under-reports changes.
      const preview = await previewSync({ source: input.source, target: input.target, reportFile: input.reportFile, owner: deps.site.owner });
      const guard = evaluateDeletionGuard(preview, input.guard, false);
      return { ...preview, guard: guard.ok ? { ok: true } : { ok: false, reason: guard.reason ?? 'too many deletions' }, stagingDigest, stagingEntries };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
