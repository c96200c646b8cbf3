// Every activity the workers serve, built from the site config and catalogue (dependency injection, as in
// samples-typescript `mutex/`). Workflows import this module as a type only.
import { createComposeActivities } from './compose.js';
import * as publish from './publish.js';
import * as filelists from './filelists.js';
import { createReleaseActivities, type ReleaseDeps } from './release.js';
import { evaluateDeletionGuard } from '../src/publish/guard.js';
import type { PreviewSummary } from '../workflows/messages.js';

export function createActivities(deps: ReleaseDeps) {
  return {
    ...createReleaseActivities(deps),
    ...createComposeActivities(deps),
    ...publish,
    ...filelists,
    /** What production would get from staging, with the deletion guard's verdict, for the approval gate. */
    async previewProduction(input: {
      source: string;
      target: string;
      reportFile: string;
      guard: { maxDeleteShare: number; maxDeleteCount?: number };
    }): Promise<PreviewSummary> {
      // The preview must see the ownership the real sync will apply (--chown), or it under-reports changes.
      const preview = await publish.previewSync({ source: input.source, target: input.target, reportFile: input.reportFile, owner: deps.site.owner });
      const guard = evaluateDeletionGuard(preview, input.guard, false);
      return { ...preview, guard: guard.ok ? { ok: true } : { ok: false, reason: guard.reason ?? 'too many deletions' } };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
