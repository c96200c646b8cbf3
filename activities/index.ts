// Every activity the workers serve, built from the site config and catalogue (dependency injection, as in
// samples-typescript `mutex/`). Workflows import this module as a type only. The list is explicit: a module's
// other exports (helpers, types) never become activities by accident.
import { ApplicationFailure } from '@temporalio/common';
import { createComposeActivities } from './compose.js';
import { createConfinedPublishActivities } from './publishConfined.js';
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
  // Built from the worker's own site and catalogue: they re-derive or check every plan and path they are handed.
  const compose = createComposeActivities({ site, catalogue });
  const publish = createConfinedPublishActivities({ site, catalogue });
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
    syncToStaging: publish.syncToStaging,
    syncToProduction: publish.syncToProduction,
    previewProduction: publish.previewProduction,
    hardlinkRelease: publish.hardlinkRelease,
    publishFileLists: publish.publishFileLists,
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
    // The paths are checked inside (publishConfined.ts), and what production keeps comes from the catalogue there.
    syncToProduction: requiringRoots(site, ['staging', 'production'], fencedProductionWrite(site, activities.syncToProduction)),
    hardlinkRelease: requiringRoots(site, ['production'], fencedProductionWrite(site, activities.hardlinkRelease)),
    // List walks only check the fence: their token arrives through a list-writer request, which must never raise it.
    publishFileLists: requiringRoots(site, ['production'], fencedProductionWrite(site, activities.publishFileLists, 'check')),
    // Staging's and production's markers say which composes they hold: an unmounted share must not look like "none".
    pruneComposes: requiringRoots(site, ROOT_KINDS, activities.pruneComposes),
    // The vault copy writes under the production root as the lock's holder: fenced like every production write.
    copyToVault: fencedProductionWrite(site, activities.copyToVault),
  };
}

export type Activities = ReturnType<typeof createActivities>;
