// The pipeline turn's side effects (workflows/pipelineTurn.ts): asking for the turn by signal-with-start, and
// asking the server whether a holder's run is still open. The turn's workflow ID comes from the worker's own
// compose root: a request names a SIG and release, never a place.
import { activityInfo } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SiteConfig } from '../src/config/schema.js';
import { requestPipelineTurnSignal, type TurnRequest } from '../workflows/messages.js';
import { pipelineTurn } from '../workflows/pipelineTurn.js';
import { pipelineTurnWorkflowId } from '../workflows/pipelineTurnRules.js';

export function createPipelineTurnActivities(deps: { site: SiteConfig; client?: Client }) {
  const clientOrFail = (): Client => {
    if (!deps.client) throw ApplicationFailure.create({ type: 'NoClient', message: 'worker was built without a Temporal client', nonRetryable: true });
    return deps.client;
  };
  return {
    /** Asks the turn of `sig` `release` for `request`'s run (starting the turn workflow if none runs); returns its ID. */
    async requestPipelineTurn(input: { sig: string; release: string; request: TurnRequest; taskQueue: string }): Promise<string> {
      const workflowId = pipelineTurnWorkflowId(deps.site.composeRoot, input.sig, input.release);
      await clientOrFail().workflow.signalWithStart(pipelineTurn, {
        workflowId,
        taskQueue: input.taskQueue || activityInfo().taskQueue,
        args: [{ sig: input.sig, release: input.release }],
        signal: requestPipelineTurnSignal,
        signalArgs: [input.request],
      });
      return workflowId;
    },

    /** Whether that run of that workflow is still open; a run the server no longer knows is not. */
    async isRunOpen(input: { workflowId: string; runId: string }): Promise<boolean> {
      try {
        const d = await clientOrFail().workflow.getHandle(input.workflowId, input.runId).describe();
        return d.status.name === 'RUNNING';
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return false;
        throw e;
      }
    },
  };
}
