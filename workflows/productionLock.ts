// One lock per release serialises production syncs across SIGs: they share the hardlink pass over
// <production>/mirror/pub/sig/<rel> and the file lists (reference/seed-systems.md §2 stage 4).
// Shape of samples-typescript `mutex/`: requests arrive by signal-with-start, the holder is told by signal,
// and a lease bounds how long a vanished holder can block the others.
import {
  condition,
  continueAsNew,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

export interface LockRequest {
  workflowId: string;
}
export interface LockInput {
  release: string;
  queue: LockRequest[];
  /** How long a holder may keep the lock; production syncs are far shorter. */
  lease?: string;
  /** How long the lock workflow waits for new requests before it closes. */
  idle?: string;
}

export const requestLockSignal = defineSignal<[LockRequest]>('requestLock');
export const releaseLockSignal = defineSignal<[LockRequest]>('releaseLock');
/** Sent to the requester when it holds the lock. */
export const lockGrantedSignal = defineSignal<[{ lockWorkflowId: string }]>('productionLockGranted');

export const lockWorkflowId = (release: string) => `sigrelease-production-lock-${release}`;

export async function productionLock(input: LockInput): Promise<void> {
  const queue = [...input.queue];
  let released: string | null = null;
  setHandler(requestLockSignal, (r) => {
    if (!queue.some((q) => q.workflowId === r.workflowId)) queue.push(r);
  });
  setHandler(releaseLockSignal, (r) => {
    released = r.workflowId;
    const i = queue.findIndex((q) => q.workflowId === r.workflowId);
    if (i >= 0) queue.splice(i, 1); // a requester that gave up before its turn
  });
  const me = workflowInfo().workflowId;
  for (;;) {
    if (queue.length === 0) {
      const more = await condition(() => queue.length > 0, input.idle ?? '10 minutes');
      if (!more) return;
    }
    const holder = queue.shift()!;
    released = null;
    try {
      await getExternalWorkflowHandle(holder.workflowId).signal(lockGrantedSignal, { lockWorkflowId: me });
    } catch (e) {
      log.warn('lock holder vanished before it was granted', { holder: holder.workflowId, error: String(e) });
      continue;
    }
    const freed = await condition(() => released === holder.workflowId, input.lease ?? '24 hours');
    if (!freed) log.warn('lock lease expired; moving on', { holder: holder.workflowId });
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof productionLock>({ ...input, queue });
    }
  }
}
