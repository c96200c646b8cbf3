// The same change as ./incompatible.ts, shipped the safe way: behind `patched()` (temporal-notes §2.11). Runs
// recorded before the change replay without the extra step, new runs take it. test/reliability/replay.test.ts
// shows that the recorded histories replay against this version: the replay test tells a safe change from an
// unsafe one, it does not merely fail on any change.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities/index.js';
import { sigRelease as current, type ReleaseResult, type SigReleaseInput } from '../../../workflows/sigRelease.js';

export { composeSig } from '../../../workflows/compose.js';
export { productionLock } from '../../../workflows/productionLock.js';

const { notify } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export async function sigRelease(input: SigReleaseInput): Promise<ReleaseResult> {
  if (patched('reliability-extra-step-before-resolve')) {
    await notify({ event: 'composed', text: 'an extra step', sig: input.sig, release: input.release, workflowId: 'variant' });
  }
  return current(input);
}
