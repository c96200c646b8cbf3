// One pipeline per SIG and release, whatever started it (our CLI, a schedule whose runs carry a timestamp in their
// workflow ID, `temporal workflow start` with any ID, the Web UI): a release run asks this workflow for the turn
// before its compose starts and holds it until it ends. A run that asks while another holds it is refused at
// once, with the holder named (workflows/pipelineTurnTaker.ts says what the refused run does).
// Shape of the production lock (productionLock.ts, samples-typescript `mutex/`): requests arrive by
// signal-with-start and are answered by a signal naming the request. Unlike the lock, nobody queues: a turn
// waits for days at the approval gate, and a run queued behind it would compose content nobody asked for by then.
import { condition, continueAsNew, getExternalWorkflowHandle, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  givePipelineTurnBackSignal,
  pipelineTurnAnswerSignal,
  pipelineTurnStatusQuery,
  requestPipelineTurnSignal,
  type PipelineTurnStatus,
  type TurnHolder,
  type TurnRequest,
} from './messages.js';
import { givesBackTurn, isTurnRequest, judgeTurnRequest } from './pipelineTurnRules.js';

export { pipelineTurnWorkflowId } from './pipelineTurnRules.js';

export interface PipelineTurnInput {
  sig: string;
  release: string;
  /** Carried over continue-as-new. */
  holder?: (TurnRequest & { since: string }) | null;
  requests?: TurnRequest[];
  /** How long the workflow waits, free and unasked, before it closes. */
  idle?: string;
  /** While held and unasked: how often to ask whether the holder still runs (a terminated holder never gives back). */
  holderCheck?: string;
}

const RECENT_REFUSALS = 20;

/** Asking the server about the holder: on the workflow's own queue, short, a few tries. */
const server = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

type Held = TurnRequest & { since: string };

export async function pipelineTurn(input: PipelineTurnInput): Promise<void> {
  const me = workflowInfo().workflowId;
  // One object that the handlers and the steps share: a give-back that arrives while a step awaits is seen by it.
  const turn: { holder: Held | null } = { holder: input.holder ?? null };
  const requests = [...(input.requests ?? [])];
  const refused: PipelineTurnStatus['refused'] = [];

  setHandler(
    requestPipelineTurnSignal,
    (r) => {
      if (isTurnRequest(r)) requests.push({ workflowId: r.workflowId, runId: r.runId, requestId: r.requestId });
      else log.warn('ignored a pipeline turn request that does not name a run and a request');
    },
    { description: 'Internal: sent by a release run (through an activity) to ask for the turn of its SIG and release' },
  );
  setHandler(
    givePipelineTurnBackSignal,
    (r) => {
      if (isTurnRequest(r) && givesBackTurn(turn.holder, r)) turn.holder = null;
    },
    { description: 'Internal: sent by the holding release run when it ends; ignored unless it names the holder\'s request' },
  );
  setHandler(pipelineTurnStatusQuery, () => ({ sig: input.sig, release: input.release, holder: publicHolder(turn.holder), refused: [...refused] }));

  for (;;) {
    if (requests.length > 0) await answer(me, turn, requests.shift()!, refused);
    else if (!turn.holder) {
      if (!(await condition(() => requests.length > 0, input.idle ?? '10 minutes'))) return;
    } else if (!(await condition(() => requests.length > 0 || turn.holder === null, input.holderCheck ?? '1 day'))) {
      await freeIfClosed(turn, turn.holder);
    }
    if (workflowInfo().continueAsNewSuggested && requests.length === 0) {
      await continueAsNew<typeof pipelineTurn>({ ...input, holder: turn.holder, requests });
    }
  }
}

/** Grants or refuses one request and says so to the requesting run. */
async function answer(me: string, turn: { holder: Held | null }, request: TurnRequest, refused: PipelineTurnStatus['refused']): Promise<void> {
  const verdict = judgeTurnRequest(turn.holder, request);
  if (verdict === 'grant-holder-closed') forget(turn, request);
  else if (verdict === 'ask-if-holder-open') await freeIfClosed(turn, turn.holder!, request);
  const holder = turn.holder;
  const granted = holder === null || (holder.workflowId === request.workflowId && holder.runId === request.runId);
  if (granted) turn.holder = { ...request, since: holder?.since ?? new Date().toISOString() };
  else {
    refused.push({ workflowId: request.workflowId, runId: request.runId, at: new Date().toISOString(), holder: holder.workflowId });
    if (refused.length > RECENT_REFUSALS) refused.shift();
  }
  try {
    // To the requesting run itself, naming its request: another run under its workflow ID cannot take it.
    await getExternalWorkflowHandle(request.workflowId, request.runId).signal(pipelineTurnAnswerSignal, {
      turnWorkflowId: me,
      requestId: request.requestId,
      granted,
      ...(granted ? {} : { holder: publicHolder(holder) ?? undefined }),
    });
  } catch (e) {
    // Gone before the answer (terminated, or no such run: a request typed by hand): it cannot hold the turn.
    log.warn('the pipeline turn\'s requester is gone', { requester: request.workflowId, error: String(e) });
    if (granted && turn.holder?.requestId === request.requestId && turn.holder.runId === request.runId) turn.holder = null;
  }
}

/** Frees the turn if `asked` (its holder when we asked) has closed and still holds it once the server answered. */
async function freeIfClosed(turn: { holder: Held | null }, asked: Held, newRequester?: TurnRequest): Promise<void> {
  const open = await holderStillRuns(asked);
  if (!open && turn.holder === asked) forget(turn, newRequester);
}

/** The holder closed without giving the turn back (terminated, timed out): nobody holds it now. */
function forget(turn: { holder: Held | null }, newRequester?: TurnRequest): void {
  log.warn('the pipeline turn\'s holder has closed without giving it back; the turn is free', { holder: turn.holder?.workflowId, newRequester: newRequester?.workflowId });
  turn.holder = null;
}

async function holderStillRuns(holder: TurnRequest): Promise<boolean> {
  return server.isRunOpen({ workflowId: holder.workflowId, runId: holder.runId });
}

/** The holder without its request ID: whoever can query must not be able to give the turn back for it. */
function publicHolder(h: Held | null): TurnHolder | null {
  return h ? { workflowId: h.workflowId, runId: h.runId, since: h.since } : null;
}
