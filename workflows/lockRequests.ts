// Who a production-lock request is: a workflow ID, the run, and one acquisition of that run. Pure rules, unit
// tested without a server (test/gate/lock-requests.test.ts); the lock workflow and the requester use them.
import type { LockRequest, LockRequestState } from './messages.js';
import { PRINCIPAL } from './signedMessages.js';

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

/** Where `r` stands at the lock: holding it, waiting in line, or unknown to it (lost: ask again). */
export function requestState(holder: LockRequest | null, queue: readonly LockRequest[], r: LockRequest): LockRequestState {
  if (holder && sameRequest(holder, r)) return 'held';
  return queue.some((q) => sameRequest(q, r)) ? 'queued' : 'absent';
}

/** Why a forceRelease request is malformed (checked before it touches history), or null. */
export function forceReleaseProblem(req: unknown): string | null {
  if (typeof req !== 'object' || req === null) return `forceRelease takes { by, reason }, got ${JSON.stringify(req)}`;
  const { by, reason } = req as Record<string, unknown>;
  if (typeof by !== 'string' || !PRINCIPAL.test(by)) return `"by" must be a principal name (letters, digits and ._@-, at most 64 characters), got ${JSON.stringify(by)}`;
  if (typeof reason !== 'string' || reason.trim() === '') return `"reason" must say why the lock is taken from its holder, got ${JSON.stringify(reason)}`;
  if (reason.length > MAX_FORCE_REASON) return `"reason" is ${reason.length} characters; at most ${MAX_FORCE_REASON}`;
  return null;
}
export const MAX_FORCE_REASON = 2000;

/** Whether `by` may force the lock free: named in the site's lock.operators (empty: nobody). */
export function isLockOperator(operators: readonly string[], by: string): boolean {
  return operators.includes(by);
}

/** `list` with `item` appended, keeping the last `max` (status histories stay small). */
export function appendBounded<T>(list: readonly T[], item: T, max = 20): T[] {
  return [...list, item].slice(-max);
}

/**
 * The next grant's fencing token: above the last one and never below the workflow clock in milliseconds. So a
 * lock workflow that was terminated, reset or closed while idle, and started anew with no memory, still hands
 * out numbers above every earlier grant (server time moves forward) without reading the production root.
 */
export function nextFenceToken(last: number | undefined, nowMs: number): number {
  return Math.max((last ?? 0) + 1, Math.floor(nowMs));
}

/** A token as the lock hands it out: a positive safe integer; anything else is not a token. */
export function isFenceToken(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** Run IDs and request IDs (uuid4) are UUIDs. */
export const isUuid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/**
 * A lock request as anyone who can signal may send it: used only when it names a workflow and, where it names a
 * run or a request, UUIDs. A run ID that is not one would make the grant's signal command invalid and fail every
 * workflow task of the lock, blocking production for everyone.
 */
export function isWellFormedRequest(r: unknown): r is LockRequest {
  if (typeof r !== 'object' || r === null) return false;
  const { workflowId, runId, requestId } = r as Partial<Record<keyof LockRequest, unknown>>;
  return (
    typeof workflowId === 'string' &&
    workflowId.length > 0 &&
    workflowId.length <= 1000 &&
    (runId === undefined || isUuid(runId)) &&
    (requestId === undefined || isUuid(requestId))
  );
}
