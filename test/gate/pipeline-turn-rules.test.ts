// Who may run the pipeline of one SIG and release now, without a server (workflows/pipelineTurnRules.ts).
import { describe, expect, it } from 'vitest';
import { givesBackTurn, isTurnRequest, judgeTurnRequest, pipelineBusyMessage, pipelineTurnWorkflowId } from '../../workflows/pipelineTurnRules.js';

const req = (workflowId: string, runId: string, requestId: string) => ({ workflowId, runId, requestId });

describe('the pipeline turn', () => {
  it('is named by compose root, SIG and release, so that two sites or releases never share one', () => {
    expect(pipelineTurnWorkflowId('/srv/compose', 'core', '9')).toBe('sigrelease-pipeline@/srv/compose/core/9');
    expect(pipelineTurnWorkflowId('/srv/compose', 'core', '9')).not.toBe(pipelineTurnWorkflowId('/srv/compose', 'core', '10'));
    expect(pipelineTurnWorkflowId('/srv/compose', 'core', '9')).not.toBe(pipelineTurnWorkflowId('/srv/other', 'core', '9'));
  });

  it('grants a free turn, and the holder\'s own run asking again', () => {
    expect(judgeTurnRequest(null, req('sigrelease-core-9', 'r1', 'q1'))).toBe('grant');
    expect(judgeTurnRequest(req('sigrelease-core-9', 'r1', 'q1'), req('sigrelease-core-9', 'r1', 'q1'))).toBe('grant');
  });

  it('frees the turn when a new run of the holder\'s workflow ID asks: the holder\'s run has closed', () => {
    expect(judgeTurnRequest(req('sigrelease-core-9', 'r1', 'q1'), req('sigrelease-core-9', 'r2', 'q2'))).toBe('grant-holder-closed');
  });

  it('asks the server about the holder when a run under another workflow ID asks (schedule, temporal CLI)', () => {
    const holder = req('sigrelease-core-9', 'r1', 'q1');
    expect(judgeTurnRequest(holder, req('sigrelease-core-9-2026-11-30T02:00:00Z', 'r7', 'q7'))).toBe('ask-if-holder-open');
    expect(judgeTurnRequest(holder, req('by-hand', 'r8', 'q8'))).toBe('ask-if-holder-open');
  });

  it('takes back a turn only from a give-back naming the holder\'s request', () => {
    const holder = req('w', 'r1', 'q1');
    expect(givesBackTurn(holder, req('w', 'r1', 'q1'))).toBe(true);
    expect(givesBackTurn(holder, req('w', 'r1', 'q2'))).toBe(false);
    expect(givesBackTurn(holder, req('w', 'r2', 'q1'))).toBe(false);
    expect(givesBackTurn(holder, req('v', 'r1', 'q1'))).toBe(false);
    expect(givesBackTurn(null, req('w', 'r1', 'q1'))).toBe(false);
  });

  it('reads a request only when it names a workflow, a run and a request by UUID', () => {
    const run = '01a22d04-c9ca-78cf-bb05-c0ae046c9dbb';
    const request = '6f1c3a52-0b7e-4d8e-9a51-2f4f0e6c1d2a';
    expect(isTurnRequest(req('w', run, request))).toBe(true);
    // A run ID that is not a UUID would make the turn's answer an invalid command (the turn would be stuck).
    expect(isTurnRequest(req('w', 'no-run', request))).toBe(false);
    expect(isTurnRequest(req('w', run, 'typed-by-hand'))).toBe(false);
    expect(isTurnRequest({ workflowId: 'w', runId: run })).toBe(false);
    expect(isTurnRequest({ workflowId: 'w', runId: run, requestId: 7 })).toBe(false);
    expect(isTurnRequest({ workflowId: '', runId: run, requestId: request })).toBe(false);
    expect(isTurnRequest({ workflowId: 'w'.repeat(1001), runId: run, requestId: request })).toBe(false);
    expect(isTurnRequest(null)).toBe(false);
    expect(isTurnRequest('w')).toBe(false);
  });

  it('refuses with a message that names the holder and what to do', () => {
    const msg = pipelineBusyMessage('core', '9', { workflowId: 'sigrelease-core-9', runId: 'r1', since: '2026-11-30T02:00:00.000Z' });
    expect(msg).toContain('workflow sigrelease-core-9 (run r1, its turn since 2026-11-30T02:00:00.000Z)');
    expect(msg).toContain('`sigrelease status 9 core`');
  });
});
