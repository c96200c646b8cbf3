// The publish and file-list activities as the worker serves them: every path in the input is checked against the
// worker's own site config and catalogue (src/publish/trusted-paths.ts) before anything is read or written, and the
// activity then works on the checked real path. A refused path is a non-retryable `PathRefused` naming the value.
// Inputs keep their shape (source, target, reportFile, dir), so runs recorded before this check replay unchanged.
import { realpath } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { Catalogue } from '../src/config/load.js';
import type { SiteConfig } from '../src/config/schema.js';
import type { Roots } from '../src/paths.js';
import { evaluateDeletionGuard } from '../src/publish/guard.js';
import { productionOnlyDirsFor } from '../src/publish/production-plan.js';
import { stagingDigest as stagingDigestOf } from '../src/publish/staging-digest.js';
import { trustedFileListDir, trustedHardlinkDir, trustedProductionSync, trustedReportFile, trustedStagingSync } from '../src/publish/trusted-paths.js';
import { OutsideRootsError } from '../src/roots.js';
import type { PreviewSummary } from '../workflows/messages.js';
import { publishFileLists, type PublishFileListsInput } from './filelists.js';
import { hardlinkRelease, previewSync, syncToProduction, syncToStaging, type HardlinkReleaseInput, type ProductionSyncInput, type SyncInput } from './publish.js';

export interface PreviewProductionInput {
  source: string;
  target: string;
  reportFile: string;
  guard: { maxDeleteShare: number; maxDeleteCount?: number };
}

/** A path the site config does not give, as the activity's failure: retrying cannot make it right. */
async function confining<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    if (e instanceof OutsideRootsError) throw ApplicationFailure.create({ type: 'PathRefused', nonRetryable: true, message: e.message });
    throw e;
  }
}

export function createConfinedPublishActivities(deps: { site: SiteConfig; catalogue: Catalogue }) {
  const { site, catalogue } = deps;
  const roots: Roots = { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot };
  // Ownership is the site's too: a request must not chown production to a user of its choosing.
  const owner = site.owner;
  /** What production keeps comes from the worker's catalogue, whatever the input says. */
  const keepFor = (target: string) => productionOnlyDirsFor(roots, catalogue, target);

  return {
    async syncToStaging(input: SyncInput) {
      const paths = await confining(async () => ({
        ...(await trustedStagingSync(roots, catalogue, input)),
        reportFile: await trustedReportFile(roots, input.reportFile, 'staging sync report'),
      }));
      return syncToStaging({ ...input, source: paths.source, target: paths.target, reportFile: paths.reportFile, owner });
    },

    async syncToProduction(input: ProductionSyncInput) {
      const paths = await confining(async () => ({
        ...(await trustedProductionSync(roots, catalogue, input)),
        reportFile: await trustedReportFile(roots, input.reportFile, 'production sync report'),
      }));
      return syncToProduction({ ...input, source: paths.source, target: paths.target, reportFile: paths.reportFile, owner, keep: keepFor(paths.target) });
    },

    /** What production would get from staging, with the deletion guard's verdict, for the approval gate. */
    async previewProduction(input: PreviewProductionInput): Promise<PreviewSummary> {
      const paths = await confining(async () => ({
        ...(await trustedProductionSync(roots, catalogue, input)),
        reportFile: await trustedReportFile(roots, input.reportFile, 'production preview report'),
      }));
      // The fingerprint is taken before the preview: a change during the preview then fails the later check
      // instead of slipping in unseen.
      const staging = await realpath(paths.source);
      const { digest: stagingDigest, entries: stagingEntries } = await stagingDigestOf(staging);
      // The preview must see the ownership the real sync will apply (--chown), or it under-reports changes.
      const preview = await previewSync({ source: paths.source, target: paths.target, reportFile: paths.reportFile, owner, keep: keepFor(paths.target) });
      const guard = evaluateDeletionGuard(preview, input.guard, false);
      return { ...preview, guard: guard.ok ? { ok: true } : { ok: false, reason: guard.reason ?? 'too many deletions' }, stagingDigest, stagingEntries };
    },

    async hardlinkRelease(input: HardlinkReleaseInput) {
      const dir = await confining(() => trustedHardlinkDir(roots, catalogue, input.dir));
      return hardlinkRelease({ ...input, dir });
    },

    /** `recheckFence`: the production fence's check again after the walk (activities/fence.ts). */
    async publishFileLists(input: PublishFileListsInput, recheckFence?: () => Promise<void>) {
      const dir = await confining(() => trustedFileListDir(roots, input.dir));
      return publishFileLists({ ...input, dir, owner }, recheckFence);
    },
  };
}
