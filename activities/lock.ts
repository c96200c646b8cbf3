// Activities around the production lock (workflows/productionLock.ts): joining its queue, making sure a waiting
// run's request is still there, and the operator allowlist of forceRelease. They read the worker's own site
// config (lock.lease, lock.operators); nothing from the request decides who may force the lock.
import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SiteConfig } from '../src/config/schema.js';
import { isLockOperator } from '../workflows/lockRequests.js';
import { lockRequestStateQuery, type LockRequest, type LockRequestState } from '../workflows/messages.js';
import { productionLock, requestLockSignal } from '../workflows/productionLock.js';

export interface LockRequestInput {
  lockWorkflowId: string;
  release: string;
  requesterWorkflowId: string;
  taskQueue: string;
  requesterRunId?: string;
  requestId?: string;
}

const asRequest = (input: LockRequestInput): LockRequest =>
  input.requestId ? { workflowId: input.requesterWorkflowId, runId: input.requesterRunId, requestId: input.requestId } : { workflowId: input.requesterWorkflowId };

function needClient(client: Client | undefined): Client {
  if (!client) throw ApplicationFailure.create({ type: 'NoClient', message: 'worker was built without a Temporal client', nonRetryable: true });
  return client;
}

/** Signal-with-start: joins the queue of the running lock, or starts the lock with the site's lease. */
export async function sendLockRequest(client: Client | undefined, site: SiteConfig, input: LockRequestInput): Promise<void> {
  await needClient(client).workflow.signalWithStart(productionLock, {
    workflowId: input.lockWorkflowId,
    taskQueue: input.taskQueue || activityInfo().taskQueue,
    args: [{ release: input.release, queue: [], lease: site.lock.lease }],
    signal: requestLockSignal,
    signalArgs: [asRequest(input)],
  });
}

export function createLockActivities(deps: { site: SiteConfig; client?: Client }) {
  return {
    /**
     * A waiting run asks now and then whether the lock still has its request; a lock that closed, was
     * terminated or reset has lost it, so the request is sent again (a duplicate of a request the lock has is
     * ignored there). Returns where the request stood, or 'resent'.
     */
    async ensureLockRequest(input: LockRequestInput): Promise<LockRequestState | 'resent'> {
      const handle = needClient(deps.client).workflow.getHandle(input.lockWorkflowId);
      let state: LockRequestState = 'absent';
      try {
        const d = await handle.describe();
        // A closed lock still answers queries (from its last state), which may list the request it never grants.
        if (d.status.name === 'RUNNING') state = await handle.query(lockRequestStateQuery, asRequest(input));
      } catch {
        state = 'absent'; // not found, or a lock too old to answer: sending again is safe either way
      }
      if (state !== 'absent') return state;
      await sendLockRequest(deps.client, deps.site, input);
      return 'resent';
    },

    /** forceRelease is for the site's lock.operators only (empty: nobody); refused with the name otherwise. */
    async checkLockOperator(input: { by: string }): Promise<void> {
      const operators = deps.site.lock.operators;
      if (isLockOperator(operators, input.by)) return;
      throw ApplicationFailure.create({
        type: 'NotALockOperator',
        nonRetryable: true,
        message:
          `${JSON.stringify(input.by)} may not force the production lock free: ` +
          (operators.length ? `lock.operators in the site config names ${operators.join(', ')}` : 'lock.operators in the site config is empty, so nobody may'),
      });
    },
  };
}
