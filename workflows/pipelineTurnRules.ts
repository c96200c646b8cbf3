// Who may run the pipeline of one SIG and release now: pure rules of the pipeline turn (workflows/pipelineTurn.ts),
// unit tested without a server (test/gate/pipeline-turn-rules.test.ts). No workflow APIs here.
import { isUuid } from './lockRequests.js';
import type { TurnHolder, TurnRequest } from './messages.js';

/**
 * The turn's workflow ID names what it guards: the compose tree of one SIG and release under one compose root
 * (that tree, its `latest` link and the staging tree it feeds). Two sites, or two test roots, never meet.
 */
export const pipelineTurnWorkflowId = (composeRoot: string, sig: string, release: string) => `sigrelease-pipeline@${composeRoot}/${sig}/${release}`;

/**
 * What the turn does with a request:
 *  - `grant`: nobody holds it, or the holder's own run asks again (a retried signal-with-start);
 *  - `grant-holder-closed`: a new run under the holder's workflow ID asks, which proves the holder's run closed
 *    (the server keeps at most one open run per workflow ID), so the holder will never give it back;
 *  - `ask-if-holder-open`: another run holds it: only the server can tell whether that run still lives.
 */
export type TurnVerdict = 'grant' | 'grant-holder-closed' | 'ask-if-holder-open';

export function judgeTurnRequest(holder: TurnRequest | null, request: TurnRequest): TurnVerdict {
  if (!holder) return 'grant';
  if (holder.workflowId === request.workflowId && holder.runId === request.runId) return 'grant';
  if (holder.workflowId === request.workflowId) return 'grant-holder-closed';
  return 'ask-if-holder-open';
}

/** A give-back counts only when it names the holder's request: a stale or hand-typed one changes nothing. */
export function givesBackTurn(holder: TurnRequest | null, giveBack: TurnRequest): boolean {
  return holder !== null && holder.workflowId === giveBack.workflowId && holder.runId === giveBack.runId && holder.requestId === giveBack.requestId;
}


/**
 * A signal's payload, from anyone who can signal: used only when it names a workflow and two UUIDs. A run ID that
 * is not a UUID would make the answer's signal command invalid, failing every workflow task of the turn.
 */
export function isTurnRequest(v: unknown): v is TurnRequest {
  const r = v as Partial<Record<keyof TurnRequest, unknown>> | null;
  if (typeof r !== 'object' || r === null) return false;
  const { workflowId, runId, requestId } = r;
  return typeof workflowId === 'string' && workflowId.length > 0 && workflowId.length <= 1000 && isUuid(runId) && isUuid(requestId);
}

/** Why a run may not go on: names the run that holds the turn, and what to do about it. */
export function pipelineBusyMessage(sig: string, release: string, holder: TurnHolder): string {
  return (
    `another pipeline of ${sig} ${release} is running: workflow ${holder.workflowId} (run ${holder.runId}, ` +
    `its turn since ${holder.since}); one pipeline per SIG and release composes, writes latest and staging at a time. ` +
    `Wait for it to end (\`sigrelease status ${release} ${sig}\`), or cancel it, then start again`
  );
}
