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
import { appendBounded, dropClosedRuns, forceReleaseProblem, holdersRunClosed, isWellFormedRequest, nextFenceToken, requestState, sameRequest } from './lockRequests.js';
import {
  forceReleaseUpdate,
  lockGrantedSignal,
  lockLostSignal,
  lockRequestStateQuery,
  lockStatusQuery,
  releaseLockSignal,
  renewLeaseSignal,
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

type Holder = LockRequest & { since: string; token?: number; /** The last renewal (renewLeaseSignal), workflow time in ms. */ renewedAt?: number };

/** What the lock knows; one object so that the handlers below and the main loop share it. */
interface LockState {
  me: string;
  queue: LockRequest[];
  holder: Holder | null;
  lastToken?: number;
  forcedReleases: ForcedRelease[];
  expiredLeases: NonNullable<LockStatus['expiredLeases']>;
}

export async function productionLock(input: LockInput): Promise<void> {
  const lease = input.lease ?? '3 days';
  const st: LockState = {
    me: workflowInfo().workflowId,
    queue: [...input.queue],
    holder: null,
    lastToken: input.lastToken,
    forcedReleases: input.forcedReleases ?? [],
    expiredLeases: input.expiredLeases ?? [],
  };
  // Requests named by run and request ID (lockRequests.ts); a lock begun before that knows workflow IDs only.
  const byRequest = patched('lock-request-ids');
  const fencing = patched('lock-fencing-token');
  const noticeOnExpiry = patched('lock-lease-expiry-notice');
  const forcible = patched('lock-force-release');
  const same = (a: LockRequest, b: LockRequest) => (byRequest ? sameRequest(a, b) : a.workflowId === b.workflowId);

  setHandler(
    requestLockSignal,
    (r) => {
      if (!isWellFormedRequest(r) && patched('lock-ignores-malformed-requests')) {
        log.warn('ignored a production lock request that names no workflow, or a run or request that is not a UUID');
        return;
      }
      if (byRequest && st.holder && holdersRunClosed(st.holder, r)) {
        log.warn('a new run has the holder\'s workflow ID, so the holder\'s run has closed; freeing the lock', { holder: st.holder.runId, newRun: r.runId });
        st.holder = null;
      }
      if (byRequest) dropClosedRuns(st.queue, r);
      // A retried request from the holder or from someone already in line is the same request.
      if (!(st.holder && same(st.holder, r)) && !st.queue.some((q) => same(q, r))) st.queue.push(r);
    },
    { description: 'Internal: sent by a release run (through an activity) to ask for its turn at production' },
  );
  setHandler(
    releaseLockSignal,
    (r) => {
      if (st.holder && same(st.holder, r)) {
        st.holder = null;
        return;
      }
      const i = st.queue.findIndex((q) => same(q, r));
      if (i >= 0) st.queue.splice(i, 1); // a requester that gave up before its turn
    },
    { description: 'Internal: sent by the holding release run; ignored unless it names the current turn' },
  );
  setHandler(lockStatusQuery, () => lockStatus(st, input.release, lease));
  setHandler(lockRequestStateQuery, (r) => requestState(st.holder, st.queue, r), {
    description: 'Internal: a waiting release run asks whether the lock still has its request',
  });
  if (forcible) listenForForcedRelease(st);
  const renewable = patched('lock-lease-renewal');
  if (renewable) {
    setHandler(
      renewLeaseSignal,
      (r) => {
        if (st.holder && isWellFormedRequest(r) && sameRequest(st.holder, r)) st.holder.renewedAt = Date.now();
      },
      { description: 'Internal: sent by the holding run while it waits (file lists); its lease starts again. Ignored unless it names the current turn' },
    );
  }

  for (;;) {
    if (st.queue.length === 0 && !(await condition(() => st.queue.length > 0, input.idle ?? '10 minutes'))) {
      if (forcible) await condition(allHandlersFinished);
      return;
    }
    const next = st.queue.shift()!;
    const token = fencing ? (st.lastToken = nextFenceToken(st.lastToken, Date.now())) : undefined;
    // Holder before the grant goes out: a release that races the grant still finds its holder.
    const granted: Holder = { ...next, since: new Date().toISOString(), ...(token ? { token } : {}) };
    st.holder = granted;
    try {
      // To the requesting run itself (a closed run cannot take it), naming the request.
      const requester = byRequest ? getExternalWorkflowHandle(next.workflowId, next.runId) : getExternalWorkflowHandle(next.workflowId);
      await requester.signal(lockGrantedSignal, byRequest && next.requestId ? { lockWorkflowId: st.me, requestId: next.requestId, ...(token ? { token } : {}), ...(renewable ? { leaseMs: durationMs(lease) } : {}) } : { lockWorkflowId: st.me });
    } catch (e) {
      log.warn('lock requester is gone; granting the next one', { requester: next.workflowId, error: String(e) });
      st.holder = null;
      continue;
    }
    if (!(await (renewable ? heldUntilLeaseEnds(st, granted, durationMs(lease)) : condition(() => st.holder !== granted, lease)))) {
      // An overdue holder blocks nobody while nobody waits: it keeps its turn (and its writes) until someone asks.
      if (noticeOnExpiry) await condition(() => st.holder !== granted || st.queue.length > 0);
    }
    if (st.holder === granted) {
      log.warn('lock lease expired; granting the next one', { holder: granted.workflowId });
      st.holder = null;
      if (noticeOnExpiry) {
        st.expiredLeases = appendBounded(st.expiredLeases, { workflowId: granted.workflowId, runId: granted.runId, token: granted.token, at: new Date().toISOString() });
        await tellHolderLost(st.me, granted, { why: 'lease-expired' });
      }
    }
    if (workflowInfo().continueAsNewSuggested) {
      if (forcible) await condition(allHandlersFinished);
      await continueAsNew<typeof productionLock>({ ...input, queue: st.queue, lastToken: st.lastToken, forcedReleases: st.forcedReleases, expiredLeases: st.expiredLeases });
    }
  }
}

/**
 * Waits while `granted` holds the lock; false once its lease ran out. Each renewal starts the lease again: a holder
 * waiting for the file-list writer's answer (bounded by twice runtime.timeouts.longSync) keeps its turn, while a
 * holder that vanished stops renewing and loses it one lease after its last sign of life.
 */
async function heldUntilLeaseEnds(st: LockState, granted: Holder, leaseMs: number): Promise<boolean> {
  for (;;) {
    const renewed = granted.renewedAt;
    const left = (renewed ?? Date.parse(granted.since)) + leaseMs - Date.now();
    if (left <= 0) return st.holder !== granted;
    await condition(() => st.holder !== granted || granted.renewedAt !== renewed, left);
    if (st.holder !== granted) return true;
  }
}

function lockStatus(st: LockState, release: string, lease: string): LockStatus {
  const h = st.holder;
  return {
    release,
    holder: h?.workflowId ?? null,
    heldSince: h?.since ?? null,
    queue: st.queue.map((q) => q.workflowId),
    holderRunId: h?.runId ?? null,
    token: h?.token ?? null,
    leaseEndsAt: h ? new Date((h.renewedAt ?? Date.parse(h.since)) + durationMs(lease)).toISOString() : null,
    forcedReleases: st.forcedReleases,
    expiredLeases: st.expiredLeases,
  };
}

/** The holder learns its turn ended (best effort: the fence stops its writes whether or not it hears). */
async function tellHolderLost(me: string, h: Holder, notice: Omit<LockLostNotice, 'lockWorkflowId' | 'requestId' | 'token' | 'at'>): Promise<void> {
  try {
    await getExternalWorkflowHandle(h.workflowId, h.runId).signal(lockLostSignal, { lockWorkflowId: me, requestId: h.requestId, token: h.token, at: new Date().toISOString(), ...notice });
  } catch (e) {
    log.warn('could not tell the former holder that its turn ended', { holder: h.workflowId, error: String(e) });
  }
}

/** The operators' way past a stuck holder: checked against the worker's allowlist, recorded, holder told. */
function listenForForcedRelease(st: LockState): void {
  setHandler(
    forceReleaseUpdate,
    async (req) => {
      const h = st.holder;
      // The allowlist is the worker's site config (lock.operators), which only an activity can read. Checked
      // first: someone not on it learns nothing about the lock.
      await quick.checkLockOperator({ by: req.by }).catch((e: unknown) => {
        throw ApplicationFailure.create({ type: 'NotALockOperator', nonRetryable: true, message: failureMessage(e) });
      });
      if (!h) throw ApplicationFailure.create({ type: 'NoLockHolder', nonRetryable: true, message: `the production lock ${st.me} has no holder; nothing to release` });
      // The turn the operator saw may have ended while the allowlist was checked: never free the next one.
      if (st.holder !== h) throw ApplicationFailure.create({ type: 'NoLockHolder', nonRetryable: true, message: `${h.workflowId} gave the production lock back meanwhile; nothing was forced` });
      const record: ForcedRelease = { by: req.by, reason: req.reason, at: new Date().toISOString(), holder: { workflowId: h.workflowId, runId: h.runId, token: h.token } };
      st.forcedReleases = appendBounded(st.forcedReleases, record);
      log.warn('production lock released by an operator', { by: req.by, reason: req.reason, holder: h.workflowId, holderRun: h.runId, token: h.token });
      st.holder = null;
      await tellHolderLost(st.me, h, { why: 'forced-release', by: req.by, reason: req.reason });
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

function failureMessage(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined;
  while (err?.cause) err = err.cause as typeof err;
  return err?.message ?? String(e);
}
