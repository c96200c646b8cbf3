// Activities that belong to the release as a whole: validating and planning the request, the production
// lock hand-off, and notifications. The heavy work lives in compose.ts, publish.ts and filelists.ts.
import { activityInfo } from '@temporalio/activity';
import type { FileListLevel } from '../src/filelists/levels.js';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, type Catalogue } from '../src/config/load.js';
import { checkRequest, describeRequestOverrides } from '../src/config/request.js';
import type { SiteConfig } from '../src/config/schema.js';
import { planCompose } from '../src/compose/plan.js';
import type { ComposePlan } from '../src/compose/types.js';
import type { Roots } from '../src/paths.js';
import type { Notification, Starter, VerifiedSigner } from '../workflows/messages.js';
import { DECISION_NAMESPACE, PRINCIPAL, START_NAMESPACE, START_SIGNATURE_MAX_AGE_MS, CLOCK_SKEW_MS, startMessage } from '../workflows/signedMessages.js';
import { verifyMessage } from '../src/approval/sshsig.js';
import { sendLockRequest, type LockRequestInput } from './lock.js';

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
  approval: { approvers: string[]; reminderInterval: string; expireAfter: string; requireSignature?: boolean; forbidSelfApproval?: boolean };
  /** Who started the run (absent in runs resolved before starts were recorded). */
  starter?: Starter;
  fileListLevels: FileListLevel[];
  /** publish.metadataGrace; absent in runs started before it existed (then: no grace). */
  metadataGrace?: string;
  hostTaskQueue?: string;
  /** Where the run enters the pipeline, when not at the compose (src/lifecycle/request.ts); absent in older runs. */
  entry?: { from: 'staging' | 'gate' | 'lists'; composeId?: string; listLevel?: 'sig' | 'root' };
}

export function createReleaseActivities(deps: ReleaseDeps) {
  const { site, catalogue } = deps;
  return {
    /** Validates the request against the catalogue and plans the compose; bad input never reaches a tool. */
    async resolveRelease(input: { request: unknown; stamp: string; run?: RunStart }): Promise<ResolvedRelease> {
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
          approval: approvalPolicy(site),
          ...(input.run ? { starter: await starterOf(input.run, input.request, site) } : {}),
          fileListLevels: site.publish.fileListLevels,
          metadataGrace: site.publish.metadataGrace,
          ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}),
          ...(request.from !== 'compose' ? { entry: { from: request.from, ...(request.composeId ? { composeId: request.composeId } : {}), ...(request.listLevel ? { listLevel: request.listLevel } : {}) } } : {}),
        };
      } catch (e) {
        if (e instanceof ConfigError) throw ApplicationFailure.create({ type: 'BadRequest', message: e.message, nonRetryable: true });
        throw e;
      }
    },

    /**
     * Checks a decision's signature against approval.allowedSigners, and says what the site requires now (the
     * worker's own config decides, also for runs that were resolved before these settings existed).
     */
    async checkDecisionSignature(input: { message: string; signature?: string; principal: string }): Promise<DecisionCheck> {
      const policy = { requireSignature: site.approval.requireSignature, forbidSelfApproval: site.approval.forbidSelfApproval };
      if (input.signature === undefined) return { policy, signer: null, problem: null };
      if (!PRINCIPAL.test(input.principal)) return { policy, signer: null, problem: `"by" must be a principal name, got ${JSON.stringify(input.principal.slice(0, 80))}` };
      if (!site.approval.allowedSigners) return { policy, signer: null, problem: 'this site has no approval.allowedSigners, so no signature can be verified' };
      const v = await verifyMessage({ message: input.message, signature: input.signature, principal: input.principal, namespace: DECISION_NAMESPACE, allowedSigners: site.approval.allowedSigners });
      return v.ok ? { policy, signer: { principal: v.principal, keyFingerprint: v.keyFingerprint }, problem: null } : { policy, signer: null, problem: v.reason };
    },

    /** Joins the release's production queue; the lock workflow signals the requester when its turn comes. */
    async requestProductionLock(input: LockRequestInput): Promise<string> {
      await sendLockRequest(deps.client, deps.site, input);
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

/** How the run started, as the workflow knows it: its ID and start time, the signed start, the schedule. */
export interface RunStart {
  workflowId: string;
  /** ISO, the server's start time of this run. */
  startedAt: string;
  /** Set by the server on runs a schedule starts (TemporalScheduledById). */
  scheduledBy?: string;
  start?: SignedStart;
}
/** A start signed with `sigrelease start --key` (workflows/signedMessages.ts `startMessage`). */
export interface SignedStart {
  by: string;
  signedAt: string;
  signature: string;
}

export interface DecisionCheck {
  policy: { requireSignature: boolean; forbidSelfApproval: boolean };
  signer: VerifiedSigner | null;
  /** Why the signature was refused; null when it verified or there was none. */
  problem: string | null;
}

/** Who started the run. A signed start that does not verify, or was made for another start, is bad input. */
export async function starterOf(run: RunStart, request: unknown, site: SiteConfig): Promise<Starter> {
  if (run.scheduledBy) return { kind: 'schedule', scheduleId: run.scheduledBy };
  const claimed = (request as { requestedBy?: unknown } | null)?.requestedBy;
  if (!run.start) return { kind: 'unsigned', ...(typeof claimed === 'string' && claimed !== '' ? { claimed: claimed.slice(0, 64) } : {}) };
  const { by, signedAt, signature } = run.start;
  const bad = (why: string) => new ConfigError(`the signed start is refused: ${why}`);
  if (typeof by !== 'string' || !PRINCIPAL.test(by)) throw bad(`"by" must be a principal name, got ${JSON.stringify(String(by).slice(0, 80))}`);
  if (typeof signature !== 'string' || signature.length > 8192) throw bad('the signature is not an armored SSH signature');
  const signed = Date.parse(signedAt);
  const started = Date.parse(run.startedAt);
  if (!Number.isFinite(signed) || signed < started - START_SIGNATURE_MAX_AGE_MS || signed > started + CLOCK_SKEW_MS) {
    throw bad(`signed at ${JSON.stringify(signedAt)}, but this run started at ${run.startedAt}: a signature from another start`);
  }
  if (!site.approval.allowedSigners) throw bad('this site has no approval.allowedSigners, so no signature can be verified');
  const message = startMessage(run.workflowId, request as Record<string, unknown>, { by, signedAt });
  const v = await verifyMessage({ message, signature, principal: by, namespace: START_NAMESPACE, allowedSigners: site.approval.allowedSigners });
  if (!v.ok) throw bad(v.reason);
  return { kind: 'signed', principal: v.principal, keyFingerprint: v.keyFingerprint };
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

/** What the gate needs of the site's approval settings (a release's and a vault's gate alike). */
export function approvalPolicy(site: SiteConfig): ResolvedRelease['approval'] {
  const a = site.approval;
  return { approvers: a.approvers, reminderInterval: a.reminderInterval, expireAfter: a.expireAfter, requireSignature: a.requireSignature, forbidSelfApproval: a.forbidSelfApproval };
}
