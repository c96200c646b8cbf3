// Every activity the workers serve, built from the site config and catalogue (dependency injection, as in
// samples-typescript `mutex/`). Workflows import this module as a type only. The list is explicit: a module's
// other exports (helpers, types) never become activities by accident.
import { ApplicationFailure } from '@temporalio/common';
import { createComposeActivities } from './compose.js';
import { hardlinkRelease, previewSync, syncToProduction, syncToStaging, type ProductionSyncInput } from './publish.js';
import { publishFileLists } from './filelists.js';
import { createReleaseActivities, type ReleaseDeps } from './release.js';
import { createLockActivities } from './lock.js';
import { fencedProductionWrite } from './fence.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createRetentionActivities } from './retention.js';
import { createStalenessActivities } from './staleness.js';
import { createFileListLevelActivities } from './fileListLevels.js';
import { createPipelineTurnActivities } from './pipelineTurn.js';
import { checkRootMarkers, RootMarkerError, ROOT_KINDS, type RootKind } from '../src/config/roots.js';
import type { SiteConfig } from '../src/config/schema.js';
import { evaluateDeletionGuard } from '../src/publish/guard.js';
import { productionOnlyDirsFor } from '../src/publish/production-plan.js';
import { realpath } from 'node:fs/promises';
import { stagingDigest as stagingDigestOf } from '../src/publish/staging-digest.js';
import type { PreviewSummary } from '../workflows/messages.js';

/**
 * `fn`, refused (non-retryable `RootMarkerMismatch`) unless the site's `kinds` roots carry their markers: an
 * unmounted share or a mistyped root is found before the activity writes anything (src/config/roots.ts).
 */
function requiringRoots<I extends unknown[], O>(site: SiteConfig, kinds: readonly RootKind[], fn: (...input: I) => Promise<O>): (...input: I) => Promise<O> {
  return async (...input: I) => {
    try {
      checkRootMarkers(site, kinds);
    } catch (e) {
      if (e instanceof RootMarkerError) throw ApplicationFailure.create({ type: e.type, nonRetryable: true, message: e.message, details: [{ root: e.root, expected: e.expected, found: e.found }] });
      throw e;
    }
    return fn(...input);
  };
}

export function createActivities(deps: ReleaseDeps) {
  const { site, catalogue } = deps;
  /** What production keeps comes from the worker's catalogue, whatever the input says. */
  const keepFor = (target: string) => productionOnlyDirsFor(site, catalogue, target);
  // Built from the worker's own site and catalogue: they re-derive every plan and path they are handed.
  const compose = createComposeActivities({ site, catalogue });
  const activities = {
    ...createReleaseActivities(deps),
    ...createLockActivities(deps),
    ...createLifecycleActivities({ site, catalogue }),
    ...createRetentionActivities(deps),
    ...createStalenessActivities(deps),
    ...createFileListLevelActivities(deps),
    ...createPipelineTurnActivities(deps),
    prepareCompose: compose.prepareCompose,
    runReposyncTask: compose.runReposyncTask,
    deployExtraFiles: compose.deployExtraFiles,
    verifyCompose: compose.verifyCompose,
    writeComposeManifest: compose.writeComposeManifest,
    flipLatestSymlink: compose.flipLatestSymlink,
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
      const preview = await previewSync({ source: input.source, target: input.target, reportFile: input.reportFile, owner: deps.site.owner, keep: keepFor(input.target) });
      const guard = evaluateDeletionGuard(preview, input.guard, false);
      return { ...preview, guard: guard.ok ? { ok: true } : { ok: false, reason: guard.reason ?? 'too many deletions' }, stagingDigest, stagingEntries };
    },
  };
  return {
    ...activities,
    // The first write of a run: every root is checked, so a run on a half-mounted host stops before it starts.
    prepareCompose: requiringRoots(site, ROOT_KINDS, activities.prepareCompose),
    runReposyncTask: requiringRoots(site, ['compose'], activities.runReposyncTask),
    deployExtraFiles: requiringRoots(site, ['compose'], activities.deployExtraFiles),
    writeComposeManifest: requiringRoots(site, ['compose'], activities.writeComposeManifest),
    flipLatestSymlink: requiringRoots(site, ['compose'], activities.flipLatestSymlink),
    syncToStaging: requiringRoots(site, ['compose', 'staging'], activities.syncToStaging),
    // An unmounted production would show the approver "everything is new": the preview checks it too.
    previewProduction: requiringRoots(site, ['staging', 'production'], activities.previewProduction),
    // Production writes present the holder's fencing token (activities/fence.ts): a turn that ended writes nothing.
    syncToProduction: requiringRoots(site, ['staging', 'production'], fencedProductionWrite(site, (input: ProductionSyncInput) =>
      activities.syncToProduction({ ...input, keep: keepFor(input.target) }),
    )),
    hardlinkRelease: requiringRoots(site, ['production'], fencedProductionWrite(site, activities.hardlinkRelease)),
    publishFileLists: requiringRoots(site, ['production'], fencedProductionWrite(site, activities.publishFileLists)),
    // Staging's and production's markers say which composes they hold: an unmounted share must not look like "none".
    pruneComposes: requiringRoots(site, ROOT_KINDS, activities.pruneComposes),
    // The vault copy writes under the production root as the lock's holder: fenced like every production write.
    copyToVault: fencedProductionWrite(site, activities.copyToVault),
  };
}

export type Activities = ReturnType<typeof createActivities>;
