// Activities that belong to the release as a whole: validating and planning the request, the production
// lock hand-off, and notifications. The heavy work lives in compose.ts, publish.ts and filelists.ts.
import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, type Catalogue } from '../src/config/load.js';
import { checkRequest, describeRequestOverrides } from '../src/config/request.js';
import type { SiteConfig } from '../src/config/schema.js';
import { planCompose } from '../src/compose/plan.js';
import type { ComposePlan } from '../src/compose/types.js';
import type { Roots } from '../src/paths.js';
import type { Notification } from '../workflows/messages.js';
import { requestLockSignal, productionLock } from '../workflows/productionLock.js';

export interface ReleaseDeps {
  site: SiteConfig;
  catalogue: Catalogue;
  /** Needed by the production lock hand-off (signal-with-start). */
  client?: Client;
  /** Resolved and checked when the worker starts (src/config/secrets.ts resolveWebhookUrl); never logged. */
  webhookUrl?: string;
}

export interface ResolvedRelease {
  plan: ComposePlan;
  roots: Roots;
  owner: { uid: number; gid: number } | null;
  guard: { maxDeleteShare: number; maxDeleteCount?: number };
  allowLargeDeletion: boolean;
  /** Request flags that weaken a check, one readable line each (`describeRequestOverrides`); absent in older runs. */
  requestOverrides?: string[];
  composeOnly: boolean;
  approval: { approvers: string[]; reminderInterval: string; expireAfter: string };
  fileListLevels: Array<'sig' | 'root'>;
  /** publish.metadataGrace; absent in runs started before it existed (then: no grace). */
  metadataGrace?: string;
  hostTaskQueue?: string;
}

export function createReleaseActivities(deps: ReleaseDeps) {
  const { site, catalogue } = deps;
  return {
    /** Validates the request against the catalogue and plans the compose; bad input never reaches a tool. */
    async resolveRelease(input: { request: unknown; stamp: string }): Promise<ResolvedRelease> {
      try {
        const { request, resolved } = checkRequest(input.request, catalogue, site);
        const plan = planCompose(request, resolved, site, input.stamp);
        return {
          plan,
          roots: { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot },
          owner: site.owner,
          guard: { maxDeleteShare: site.publish.maxDeleteShare, ...(site.publish.maxDeleteCount !== undefined ? { maxDeleteCount: site.publish.maxDeleteCount } : {}) },
          allowLargeDeletion: request.allowLargeDeletion,
          requestOverrides: describeRequestOverrides(request),
          composeOnly: request.composeOnly || request.dryRun,
          approval: { ...site.approval },
          fileListLevels: site.publish.fileListLevels,
          metadataGrace: site.publish.metadataGrace,
          ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}),
        };
      } catch (e) {
        if (e instanceof ConfigError) throw ApplicationFailure.create({ type: 'BadRequest', message: e.message, nonRetryable: true });
        throw e;
      }
    },

    /** Joins the release's production queue; the lock workflow signals the requester when its turn comes. */
    async requestProductionLock(input: {
      lockWorkflowId: string;
      release: string;
      requesterWorkflowId: string;
      taskQueue: string;
      requesterRunId?: string;
      requestId?: string;
    }): Promise<string> {
      if (!deps.client) throw ApplicationFailure.create({ type: 'NoClient', message: 'worker was built without a Temporal client', nonRetryable: true });
      await deps.client.workflow.signalWithStart(productionLock, {
        workflowId: input.lockWorkflowId,
        taskQueue: input.taskQueue || activityInfo().taskQueue,
        args: [{ release: input.release, queue: [] }],
        signal: requestLockSignal,
        signalArgs: [
          input.requestId ? { workflowId: input.requesterWorkflowId, runId: input.requesterRunId, requestId: input.requestId } : { workflowId: input.requesterWorkflowId },
        ],
      });
      return input.lockWorkflowId;
    },

    /**
     * Posts to a Mattermost-compatible incoming webhook (`{ text, username, props }`); no URL configured: nothing
     * to do. The URL (SIGRELEASE_WEBHOOK_URL or a private file, never the site file) carries the hook's secret: no message, log or
     * failure names it. Server errors and network failures are retried; a 4xx means a wrong URL and is not.
     */
    async notify(input: Notification): Promise<boolean> {
      const url = deps.webhookUrl;
      if (!url) return false;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            username: 'sigrelease',
            text: input.text,
            props: { event: input.event, sig: input.sig, release: input.release, workflowId: input.workflowId },
          }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        const { reason, permanent } = networkFailure(e);
        throw ApplicationFailure.create({ type: 'WebhookUnreachable', nonRetryable: permanent, message: `could not post event ${input.event} to the webhook: ${reason}` });
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return true;
      const wrongUrl = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw ApplicationFailure.create({
        type: wrongUrl ? 'WebhookRejected' : 'WebhookFailed',
        nonRetryable: wrongUrl,
        message:
          `webhook answered HTTP ${res.status} to event ${input.event}` +
          (wrongUrl ? '; check SIGRELEASE_WEBHOOK_URL or the file named by notifications.webhookUrlFile' : ''),
      });
    },
  };
}

/**
 * Why a fetch failed, without its words: undici's messages can quote the URL ("Failed to parse URL from …").
 * Error codes are safe to show. A URL that does not parse will not parse on the next attempt either.
 */
function networkFailure(e: unknown): { reason: string; permanent: boolean } {
  const codes: string[] = [];
  for (let err = e as { cause?: unknown; code?: unknown; name?: unknown } | undefined, depth = 0; err && depth < 5; err = err.cause as typeof err, depth++) {
    if (err.code === 'ERR_INVALID_URL') return { reason: 'the webhook URL is not a valid URL', permanent: true };
    if (typeof err.code === 'string') codes.push(err.code);
    else if (err.name === 'TimeoutError') codes.push('no answer within 10 s');
  }
  return { reason: codes.length > 0 ? codes.join(', ') : 'network error', permanent: false };
}
