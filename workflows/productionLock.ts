// One lock per production tree serialises production syncs: SIGs of one release share the hardlink pass over
// <production>/mirror/pub/sig/<rel>, and every release shares the category's file lists (fullfiletimelist-sig),
// so two promotions at once could publish a list that misses the other's files (seed-systems.md §2 stage 4-5).
// Shape of samples-typescript `mutex/`: requests arrive by signal-with-start, the holder is told by signal,
// and a lease bounds how long a vanished holder (a terminated run) can block the others.
import { condition, continueAsNew, getExternalWorkflowHandle, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { holdersRunClosed, dropClosedRuns, sameRequest } from './lockRequests.js';
import { lockGrantedSignal, lockStatusQuery, releaseLockSignal, requestLockSignal, type LockRequest } from './messages.js';

// Message names live in messages.ts; re-exported for the callers that know them from here.
export { lockGrantedSignal, lockStatusQuery, releaseLockSignal, requestLockSignal, type LockRequest };

export interface LockInput {
  release: string;
  queue: LockRequest[];
  /** How long a holder may keep the lock; production syncs are far shorter. */
  lease?: string;
  /** How long the lock workflow waits for new requests before it closes. */
  idle?: string;
}

/**
 * The lock's workflow ID names what it guards: one production root. Two sites (or two test runs) with
 * different production trees never wait for each other.
 */
export const lockWorkflowId = (productionRoot: string) => `sigrelease-production-lock@${productionRoot}`;

export async function productionLock(input: LockInput): Promise<void> {
  const me = workflowInfo().workflowId;
  const queue = [...input.queue];
  let holder: (LockRequest & { since: string }) | null = null;
  // Requests named by run and request ID (lockRequests.ts); a lock begun before that knows workflow IDs only.
  const byRequest = patched('lock-request-ids');
  const same = (a: LockRequest, b: LockRequest) => (byRequest ? sameRequest(a, b) : a.workflowId === b.workflowId);

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
  }));

  for (;;) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, input.idle ?? '10 minutes'))) return;
    const next = queue.shift()!;
    // Holder before the grant goes out: a release that races the grant still finds its holder.
    holder = { ...next, since: new Date().toISOString() };
    try {
      // To the requesting run itself (a closed run cannot take it), naming the request.
      const requester = byRequest ? getExternalWorkflowHandle(next.workflowId, next.runId) : getExternalWorkflowHandle(next.workflowId);
      await requester.signal(lockGrantedSignal, byRequest && next.requestId ? { lockWorkflowId: me, requestId: next.requestId } : { lockWorkflowId: me });
    } catch (e) {
      log.warn('lock requester is gone; granting the next one', { requester: next.workflowId, error: String(e) });
      holder = null;
      continue;
    }
    if (!(await condition(() => holder === null, input.lease ?? '3 days'))) {
      log.warn('lock lease expired; granting the next one', { holder: holder?.workflowId });
      holder = null;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof productionLock>({ ...input, queue });
    }
  }
}
