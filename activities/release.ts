// Activities that belong to the release as a whole: validating and planning the request, the production
// lock hand-off, and notifications. The heavy work lives in compose.ts, publish.ts and filelists.ts.
import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, type Catalogue } from '../src/config/load.js';
import { checkRequest } from '../src/config/request.js';
import type { SiteConfig } from '../src/config/schema.js';
import { planCompose } from '../src/compose/plan.js';
import type { ComposePlan } from '../src/compose/types.js';
import type { Roots } from '../src/paths.js';
import { requestLockSignal, productionLock, lockWorkflowId } from '../workflows/productionLock.js';

export interface ReleaseDeps {
  site: SiteConfig;
  catalogue: Catalogue;
  /** Needed by the production lock hand-off (signal-with-start). */
  client?: Client;
  /** Webhook URL from the environment wins over the site config; never logged. */
  webhookUrl?: string;
}

export interface ResolvedRelease {
  plan: ComposePlan;
  roots: Roots;
  owner: { uid: number; gid: number } | null;
  guard: { maxDeleteShare: number; maxDeleteCount?: number };
  allowLargeDeletion: boolean;
  composeOnly: boolean;
  approval: { approvers: string[]; reminderInterval: string; expireAfter: string };
  fileListLevels: Array<'sig' | 'root'>;
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
          composeOnly: request.composeOnly || request.dryRun,
          approval: { ...site.approval },
          fileListLevels: site.publish.fileListLevels,
          ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}),
        };
      } catch (e) {
        if (e instanceof ConfigError) throw ApplicationFailure.create({ type: 'BadRequest', message: e.message, nonRetryable: true });
        throw e;
      }
    },

    /** Joins the release's production queue; the lock workflow signals the requester when its turn comes. */
    async requestProductionLock(input: { release: string; requesterWorkflowId: string; taskQueue: string }): Promise<string> {
      if (!deps.client) throw ApplicationFailure.create({ type: 'NoClient', message: 'worker was built without a Temporal client', nonRetryable: true });
      const workflowId = lockWorkflowId(input.release);
      await deps.client.workflow.signalWithStart(productionLock, {
        workflowId,
        taskQueue: input.taskQueue || activityInfo().taskQueue,
        args: [{ release: input.release, queue: [] }],
        signal: requestLockSignal,
        signalArgs: [{ workflowId: input.requesterWorkflowId }],
      });
      return workflowId;
    },

    /** Mattermost-compatible incoming webhook. No URL configured: nothing to do. */
    async notify(input: { event: string; text: string }): Promise<boolean> {
      const url = deps.webhookUrl ?? process.env.SIGRELEASE_WEBHOOK_URL ?? site.notifications.webhookUrl;
      if (!url) return false;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'sigrelease', text: input.text, props: { event: input.event } }),
        signal: AbortSignal.timeout(10_000),
      });
      // The URL is a secret: report the status only.
      if (!res.ok) throw new Error(`webhook answered HTTP ${res.status} for event ${input.event}`);
      return true;
    },
  };
}
