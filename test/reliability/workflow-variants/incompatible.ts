// A deliberately INCOMPATIBLE version of the release workflow, for test/reliability/replay.test.ts: it runs one
// extra activity before anything else (before resolveRelease), without a patch. Replaying a history recorded with
// the real workflow against this code must raise a DeterminismViolationError. Never registered by any worker.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities/index.js';
import { sigRelease as current, type ReleaseResult, type SigReleaseInput } from '../../../workflows/sigRelease.js';

export { composeSig } from '../../../workflows/compose.js';
export { productionLock } from '../../../workflows/productionLock.js';

const { notify } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export async function sigRelease(input: SigReleaseInput): Promise<ReleaseResult> {
  // Never executed during replay: the command mismatch is found first.
  await notify({ event: 'composed', text: 'an extra step', sig: input.sig, release: input.release, workflowId: 'variant' });
  return current(input);
}
