// Who a production-lock request is: a workflow ID, the run, and one acquisition of that run. Pure rules, unit
// tested without a server (test/gate/lock-requests.test.ts); the lock workflow and the requester use them.
import type { LockRequest } from './messages.js';

/** Two messages about one acquisition. Without a request ID (older requesters) the workflow ID decides. */
export function sameRequest(a: LockRequest, b: LockRequest): boolean {
  if (a.requestId !== undefined || b.requestId !== undefined) return a.workflowId === b.workflowId && a.runId === b.runId && a.requestId === b.requestId;
  return a.workflowId === b.workflowId;
}

/**
 * Temporal runs at most one open run per workflow ID: a request from another run under the holder's workflow ID
 * proves the holder's run has closed (terminated, timed out) and will never release.
 */
export function holdersRunClosed(holder: LockRequest, request: LockRequest): boolean {
  return holder.workflowId === request.workflowId && holder.runId !== undefined && request.runId !== undefined && holder.runId !== request.runId;
}

/** Removes waiting requests of runs that closed (another run of their workflow ID now asks). */
export function dropClosedRuns(queue: LockRequest[], request: LockRequest): void {
  for (let i = queue.length - 1; i >= 0; i--) if (holdersRunClosed(queue[i]!, request)) queue.splice(i, 1);
}

/** Whether a grant belongs to the request this run is waiting on; a forged or stale grant does not. */
export function grantMatches(pendingRequestId: string | null, grant: { requestId?: string } | undefined): boolean {
  return pendingRequestId !== null && grant?.requestId === pendingRequestId;
}
