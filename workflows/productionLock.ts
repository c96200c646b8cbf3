// One lock per production tree serialises production syncs: SIGs of one release share the hardlink pass over
// <production>/mirror/pub/sig/<rel>, and every release shares the category's file lists (fullfiletimelist-sig),
// so two promotions at once could publish a list that misses the other's files (seed-systems.md §2 stage 4-5).
// Shape of samples-typescript `mutex/`: requests arrive by signal-with-start, the holder is told by signal,
// and a lease bounds how long a vanished holder (a terminated run) can block the others.
// Each grant carries a fencing token (lockRequests.ts `nextFenceToken`) that production writes present
// (src/lock/fence.ts): a holder whose turn ended cannot write after the next one started.
import { ApplicationFailure } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { quick } from './activityOptions.js';
import { durationMs } from './duration.js';
import { appendBounded, dropClosedRuns, forceReleaseProblem, holdersRunClosed, nextFenceToken, requestState, sameRequest } from './lockRequests.js';
import {
  forceReleaseUpdate,
  lockGrantedSignal,
  lockLostSignal,
  lockRequestStateQuery,
  lockStatusQuery,
  releaseLockSignal,
  requestLockSignal,
  type ForcedRelease,
  type LockLostNotice,
  type LockRequest,
  type LockStatus,
} from './messages.js';

// Message names live in messages.ts; re-exported for the callers that know them from here.
export { forceReleaseUpdate, lockGrantedSignal, lockStatusQuery, releaseLockSignal, requestLockSignal, type LockRequest };

export interface LockInput {
  release: string;
  queue: LockRequest[];
  /** How long a holder may keep the lock (site config lock.lease); production syncs are far shorter. */
  lease?: string;
  /** How long the lock workflow waits for new requests before it closes. */
  idle?: string;
  /** The last grant's fencing token, carried across continue-as-new. */
  lastToken?: number;
  forcedReleases?: ForcedRelease[];
  expiredLeases?: NonNullable<LockStatus['expiredLeases']>;
}

/**
 * The lock's workflow ID names what it guards: one production root. Two sites (or two test runs) with
 * different production trees never wait for each other.
 */
export const lockWorkflowId = (productionRoot: string) => `sigrelease-production-lock@${productionRoot}`;

type Holder = LockRequest & { since: string; token?: number };

export async function productionLock(input: LockInput): Promise<void> {
  const me = workflowInfo().workflowId;
  const lease = input.lease ?? '3 days';
  const queue = [...input.queue];
  let holder: Holder | null = null;
  let lastToken = input.lastToken;
  let forcedReleases = input.forcedReleases ?? [];
  let expiredLeases = input.expiredLeases ?? [];
  // Requests named by run and request ID (lockRequests.ts); a lock begun before that knows workflow IDs only.
  const byRequest = patched('lock-request-ids');
  const fencing = patched('lock-fencing-token');
  const noticeOnExpiry = patched('lock-lease-expiry-notice');
  const forcible = patched('lock-force-release');
  const same = (a: LockRequest, b: LockRequest) => (byRequest ? sameRequest(a, b) : a.workflowId === b.workflowId);

  /** The holder learns its turn ended (best effort: the fence stops its writes whether or not it hears). */
  const tellHolderLost = async (h: Holder, notice: Omit<LockLostNotice, 'lockWorkflowId' | 'requestId' | 'token' | 'at'>) => {
    try {
      await getExternalWorkflowHandle(h.workflowId, h.runId).signal(lockLostSignal, { lockWorkflowId: me, requestId: h.requestId, token: h.token, at: new Date().toISOString(), ...notice });
    } catch (e) {
      log.warn('could not tell the former holder that its turn ended', { holder: h.workflowId, error: String(e) });
    }
  };

  setHandler(
    requestLockSignal,
    (r) => {
      if (byRequest && holder && holdersRunClosed(holder, r)) {
        log.warn('a new run has the holder\'s workflow ID, so the holder\'s run has closed; freeing the lock', { holder: holder.runId, newRun: r.runId });
        holder = null;
      }
      if (byRequest) dropClosedRuns(queue, r);
      // A retried request from the holder or from someone already in line is the same request.
      if (!(holder && same(holder, r)) && !queue.some((q) => same(q, r))) queue.push(r);
    },
    { description: 'Internal: sent by a release run (through an activity) to ask for its turn at production' },
  );
  setHandler(
    releaseLockSignal,
    (r) => {
      if (holder && same(holder, r)) {
        holder = null;
        return;
      }
      const i = queue.findIndex((q) => same(q, r));
      if (i >= 0) queue.splice(i, 1); // a requester that gave up before its turn
    },
    { description: 'Internal: sent by the holding release run; ignored unless it names the current turn' },
  );
  setHandler(lockStatusQuery, () => ({
    release: input.release,
    holder: holder?.workflowId ?? null,
    heldSince: holder?.since ?? null,
    queue: queue.map((q) => q.workflowId),
    holderRunId: holder?.runId ?? null,
    token: holder?.token ?? null,
    leaseEndsAt: holder ? new Date(Date.parse(holder.since) + durationMs(lease)).toISOString() : null,
    forcedReleases,
    expiredLeases,
  }));
  setHandler(lockRequestStateQuery, (r) => requestState(holder, queue, r), {
    description: 'Internal: a waiting release run asks whether the lock still has its request',
  });
  if (forcible) {
    setHandler(
      forceReleaseUpdate,
      async (req) => {
        const h = holder;
        // The allowlist is the worker's site config (lock.operators), which only an activity can read. Checked
        // first: someone not on it learns nothing about the lock.
        await quick.checkLockOperator({ by: req.by }).catch((e: unknown) => {
          throw ApplicationFailure.create({ type: 'NotALockOperator', nonRetryable: true, message: failureMessage(e) });
        });
        if (!h) throw ApplicationFailure.create({ type: 'NoLockHolder', nonRetryable: true, message: `the production lock ${me} has no holder; nothing to release` });
        // The turn the operator saw may have ended while the allowlist was checked: never free the next one.
        if (holder !== h) throw ApplicationFailure.create({ type: 'NoLockHolder', nonRetryable: true, message: `${h.workflowId} gave the production lock back meanwhile; nothing was forced` });
        const record: ForcedRelease = { by: req.by, reason: req.reason, at: new Date().toISOString(), holder: { workflowId: h.workflowId, runId: h.runId, token: h.token } };
        forcedReleases = appendBounded(forcedReleases, record);
        log.warn('production lock released by an operator', { by: req.by, reason: req.reason, holder: h.workflowId, holderRun: h.runId, token: h.token });
        holder = null;
        await tellHolderLost(h, { why: 'forced-release', by: req.by, reason: req.reason });
        return record;
      },
      {
        validator: (req) => {
          const problem = forceReleaseProblem(req);
          if (problem) throw new Error(problem);
        },
        description: 'Operators (site config lock.operators): take the lock from its holder, with who and why; the next waiter is granted',
      },
    );
  }

  for (;;) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, input.idle ?? '10 minutes'))) {
      if (forcible) await condition(allHandlersFinished);
      return;
    }
    const next = queue.shift()!;
    const token = fencing ? (lastToken = nextFenceToken(lastToken, Date.now())) : undefined;
    // Holder before the grant goes out: a release that races the grant still finds its holder.
    const granted: Holder = { ...next, since: new Date().toISOString(), ...(token ? { token } : {}) };
    holder = granted;
    try {
      // To the requesting run itself (a closed run cannot take it), naming the request.
      const requester = byRequest ? getExternalWorkflowHandle(next.workflowId, next.runId) : getExternalWorkflowHandle(next.workflowId);
      await requester.signal(lockGrantedSignal, byRequest && next.requestId ? { lockWorkflowId: me, requestId: next.requestId, ...(token ? { token } : {}) } : { lockWorkflowId: me });
    } catch (e) {
      log.warn('lock requester is gone; granting the next one', { requester: next.workflowId, error: String(e) });
      holder = null;
      continue;
    }
    if (!(await condition(() => holder !== granted, lease))) {
      log.warn('lock lease expired; granting the next one', { holder: holder?.workflowId });
      holder = null;
      if (noticeOnExpiry) {
        expiredLeases = appendBounded(expiredLeases, { workflowId: granted.workflowId, runId: granted.runId, token: granted.token, at: new Date().toISOString() });
        await tellHolderLost(granted, { why: 'lease-expired' });
      }
    }
    if (workflowInfo().continueAsNewSuggested) {
      if (forcible) await condition(allHandlersFinished);
      await continueAsNew<typeof productionLock>({ ...input, queue, lastToken, forcedReleases, expiredLeases });
    }
  }
}

function failureMessage(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined;
  while (err?.cause) err = err.cause as typeof err;
  return err?.message ?? String(e);
}
