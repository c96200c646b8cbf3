// Who a production-lock request is, without a server.
import { describe, expect, it } from 'vitest';
import { dropClosedRuns, grantMatches, holdersRunClosed, isWellFormedRequest, sameRequest } from '../../workflows/lockRequests.js';

const req = (workflowId: string, runId?: string, requestId?: string) => ({ workflowId, ...(runId ? { runId } : {}), ...(requestId ? { requestId } : {}) });

describe('production lock requests', () => {
  it('tells acquisitions apart by run and request ID, and falls back to the workflow ID for older requesters', () => {
    expect(sameRequest(req('w', 'r1', 'q1'), req('w', 'r1', 'q1'))).toBe(true);
    expect(sameRequest(req('w', 'r1', 'q1'), req('w', 'r2', 'q1'))).toBe(false);
    expect(sameRequest(req('w', 'r1', 'q1'), req('w', 'r1', 'q2'))).toBe(false);
    expect(sameRequest(req('w', 'r1', 'q1'), req('w'))).toBe(false);
    expect(sameRequest(req('w'), req('w'))).toBe(true);
    expect(sameRequest(req('w'), req('v'))).toBe(false);
  });

  it('knows the holder\'s run closed when another run of its workflow ID asks, and only then', () => {
    expect(holdersRunClosed(req('w', 'r1', 'q1'), req('w', 'r2', 'q9'))).toBe(true);
    expect(holdersRunClosed(req('w', 'r1', 'q1'), req('w', 'r1', 'q2'))).toBe(false);
    expect(holdersRunClosed(req('w', 'r1', 'q1'), req('v', 'r2', 'q9'))).toBe(false);
    expect(holdersRunClosed(req('w'), req('w', 'r2', 'q9'))).toBe(false);
  });

  it('drops waiting requests of closed runs from the line', () => {
    const queue = [req('w', 'r1', 'q1'), req('v', 'r5', 'q5'), req('w', 'r1', 'q0')];
    dropClosedRuns(queue, req('w', 'r2', 'q2'));
    expect(queue).toEqual([req('v', 'r5', 'q5')]);
  });

  it('takes only a grant naming the pending request', () => {
    expect(grantMatches('q1', { requestId: 'q1' })).toBe(true);
    expect(grantMatches('q1', {})).toBe(false);
    expect(grantMatches('q1', { requestId: 'q2' })).toBe(false);
    expect(grantMatches('q1', undefined)).toBe(false);
    expect(grantMatches(null, { requestId: 'q1' })).toBe(false);
  });

  it('takes a request only when it names a workflow and, where it names a run or request, UUIDs', () => {
    const uuid = '0b9e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(isWellFormedRequest(req('w', uuid, uuid))).toBe(true);
    expect(isWellFormedRequest(req('w'))).toBe(true);
    expect(isWellFormedRequest(req('w', 'no-run', uuid))).toBe(false);
    expect(isWellFormedRequest(req('w', uuid, 'no-request'))).toBe(false);
    expect(isWellFormedRequest(req(''))).toBe(false);
    expect(isWellFormedRequest({ workflowId: 'w'.repeat(1001) })).toBe(false);
    expect(isWellFormedRequest(null)).toBe(false);
    expect(isWellFormedRequest({ workflowId: 7 })).toBe(false);
  });
});
