// A release run's side of the pipeline turn (workflows/pipelineTurn.ts): asked for after validation and before
// the compose child starts, held until the run ends however it ends (ReleaseRun.settled gives it back).
// Refused: a scheduled run ends as skipped (a schedule pauses on a failed run), any other run fails with the
// non-retryable `PipelineBusy`; both name the run that holds the turn.
import { ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, log, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { quick } from './activityOptions.js';
import { givePipelineTurnBackSignal, pipelineTurnAnswerSignal, type TurnAnswer, type TurnRequest } from './messages.js';
import { pipelineBusyMessage } from './pipelineTurnRules.js';
import type { ReleaseRun } from './releaseRun.js';

/** Longer than any turn workflow needs to answer, unless no worker polls its queue. */
const ANSWER_WITHIN = '10 minutes';

/**
 * Takes the turn of the run's SIG and release, or says why not: true when the run may go on, false when it
 * ended as skipped (a scheduled run that found another one running). Throws `PipelineBusy` for other starts.
 * A dry run writes nothing shared (no latest, no staging), nor does a lists-only run (`lists publish`: production's
 * file lists, through their own writer), so they need no turn; a compose-only run writes latest, and a re-entry at
 * staging or the gate (a rollback too) writes or promotes staging, so they take it.
 */
export async function takePipelineTurn(run: ReleaseRun, r: ResolvedRelease): Promise<boolean> {
  if (!patched('one-pipeline-whatever-starts-it') || r.plan.dryRun || r.entry?.from === 'lists') return true;
  const { workflowId, runId, taskQueue } = workflowInfo();
  const request: TurnRequest = { workflowId, runId, requestId: uuid4() };
  // An object, so that the handler's assignment is seen after the awaits (and by the type checker).
  const answered: { answer: TurnAnswer | null } = { answer: null };
  // Anyone who can signal this run could send an answer: only one naming our request counts.
  setHandler(
    pipelineTurnAnswerSignal,
    (a) => {
      if (a?.requestId === request.requestId && typeof a.granted === 'boolean') answered.answer = a;
      else log.warn('ignored a pipeline turn answer that names no request of this run');
    },
    { description: 'Internal: the pipeline turn\'s answer to this run\'s request; ignored unless it names that request' },
  );
  // Not cancellable: a cancel must find the request delivered, so that the give-back reaches the turn after it.
  const turnWorkflowId = await CancellationScope.nonCancellable(() =>
    quick.requestPipelineTurn({ sig: r.plan.sig, release: r.plan.release, request, taskQueue }),
  );
  // From here the run may hold the turn (a late grant too): every way the run ends gives it back.
  run.onEnd(async () => {
    if (answered.answer?.granted === false) return;
    await getExternalWorkflowHandle(turnWorkflowId).signal(givePipelineTurnBackSignal, request).catch((e: unknown) => {
      log.warn('could not give the pipeline turn back', { turn: turnWorkflowId, error: String(e) });
    });
  });
  if (!(await condition(() => answered.answer !== null, ANSWER_WITHIN))) {
    throw ApplicationFailure.create({
      type: 'PipelineTurnUnanswered',
      nonRetryable: true,
      message: `the pipeline turn ${turnWorkflowId} did not answer within ${ANSWER_WITHIN}; is a worker polling task queue ${taskQueue}?`,
    });
  }
  const got = answered.answer!;
  if (got.granted) {
    run.note({ pipelineTurn: { turnWorkflowId, state: 'held' } });
    return true;
  }
  const holder = got.holder ?? { workflowId: '(unknown)', runId: '(unknown)', since: '(unknown)' };
  const message = pipelineBusyMessage(r.plan.sig, r.plan.release, holder);
  if (r.starter?.kind === 'schedule') {
    run.note({ pipelineTurn: { turnWorkflowId, state: 'skipped', holder } });
    run.skip(`skipped: ${message}`);
    return false;
  }
  run.note({ pipelineTurn: { turnWorkflowId, state: 'refused', holder } });
  throw ApplicationFailure.create({ type: 'PipelineBusy', nonRetryable: true, message, details: [holder] });
}
