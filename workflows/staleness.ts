// The gate's look at the compose's source metadata (activities/staleness.ts): asked once, when the gate opens,
// under its own patch ID so runs recorded before it replay. Never fails a release: a failure is a warning.
import { patched } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import type { StaleReport } from '../src/compose/staleness.js';
import { innermostMessage } from './failures.js';
import type { HostActivities } from './activityOptions.js';

export async function staleSourceMetadata(host: HostActivities, r: ResolvedRelease, composeDir: string): Promise<StaleReport | null> {
  if (!patched('stale-source-metadata')) return null;
  try {
    return await host.hostQuick.sourceMetadataStaleness({ release: r.plan.release, sig: r.plan.sig, composeDir });
  } catch (e) {
    return { staleAfterMs: 0, previousComposeId: null, repos: [], flagged: 0, problem: `source metadata ages unknown: ${innermostMessage(e)}` };
  }
}
