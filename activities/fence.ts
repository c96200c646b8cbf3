// The fence in front of every production-writing activity (issue 12 item 7): a call that carries the production
// lock holder's token is admitted only while no later holder has started writing (src/lock/fence.ts). The fence
// lives in the worker's own production root (site config), never in a path from the request.
import { ApplicationFailure } from '@temporalio/common';
import type { SiteConfig } from '../src/config/schema.js';
import { admitProductionWrite, checkProductionWrite, FencedOutError } from '../src/lock/fence.js';
import { isFenceToken } from '../workflows/lockRequests.js';

/** What a production write carries besides its own input: the holder's grant number. */
export interface Fenced {
  /** The production lock grant's fencing token; absent in runs begun before tokens (then nothing is checked). */
  fenceToken?: number;
}

/** How a write meets the fence: `claim` raises it to the token (content writes), `check` only refuses a stale token. */
export type FenceMode = 'claim' | 'check';

/** Admits the holder of `token` again; a later holder's write since is a non-retryable FencedOut. */
async function admit(site: SiteConfig, token: number, mode: FenceMode): Promise<void> {
  try {
    await (mode === 'claim' ? admitProductionWrite : checkProductionWrite)(site.productionRoot, token);
  } catch (e) {
    if (!(e instanceof FencedOutError)) throw e;
    throw ApplicationFailure.create({ type: e.type, nonRetryable: true, message: e.message, details: [{ token: e.token, fence: e.stored }] });
  }
}

/**
 * `write`, admitted by the fence first when its input carries a token; refused with FencedOut (non-retryable).
 * A write that first reads for a long time (a file-list walk) calls `recheckFence` again just before it writes,
 * so a turn that ended during the read writes nothing.
 */
export function fencedProductionWrite<I extends object, O>(
  site: SiteConfig,
  write: (input: I, recheckFence: () => Promise<void>) => Promise<O>,
  mode: FenceMode = 'claim',
): (input: I & Fenced) => Promise<O> {
  return async (input: I & Fenced) => {
    const { fenceToken, ...rest } = input;
    if (fenceToken !== undefined) {
      if (!isFenceToken(fenceToken)) {
        throw ApplicationFailure.create({ type: 'BadRequest', nonRetryable: true, message: `fenceToken must be a production lock grant number, got ${JSON.stringify(fenceToken)}` });
      }
      await admit(site, fenceToken, mode);
    }
    return write(rest as I, fenceToken === undefined ? async () => undefined : () => admit(site, fenceToken, mode));
  };
}
