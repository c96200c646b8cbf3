// The release pipeline of one SIG and release, top to bottom:
//   validate → compose (child) → staging sync → approval gate → production lock → production sync
//   (content and repomd.xml; lock given back for the metadata grace timer; lock again; deletions)
//   → hardlink → mirror file lists.
// Deterministic code only: every side effect is an activity, every clock is Temporal's.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import type { HardlinkReleaseResult, ProductionSyncResult, SyncResult } from '../activities/publish.js';
import type { PublishFileListsResult } from '../activities/filelists.js';
import { composeStamp, productionCategory, productionReleaseDir, productionSigDir, stagingSigDir } from '../src/paths.js';
import { activityProxies } from './activityOptions.js';
import { durationMs } from './duration.js';
import { composeSig, type ComposeResult } from './compose.js';
import {
  approveSignal,
  approveUpdate,
  lockGrantedSignal,
  rejectSignal,
  rejectUpdate,
  releaseLockSignal,
  SEARCH_ATTRIBUTES,
  statusQuery,
  type ActivityTimeouts,
  type ApprovalAck,
  type Decision,
  type NotificationEvent,
  type PreviewSummary,
  type RecordedDecision,
  type ReleaseStatus,
  type Stage,
} from './messages.js';
import { lockWorkflowId } from './productionLock.js';

/** Operational knobs that are not part of the release request (tests shorten every duration). */
export interface RuntimeOptions {
  approval?: { reminderInterval?: string; expireAfter?: string };
  timeouts?: ActivityTimeouts;
  hostTaskQueue?: string;
}

/** The flat request (as typed on the `temporal` CLI) plus optional runtime knobs. */
export interface SigReleaseInput {
  release: string;
  sig: string;
  runtime?: RuntimeOptions;
  [flag: string]: unknown;
}

export type Outcome = 'promoted' | 'composed' | 'dry-run' | 'rejected' | 'expired';

export interface ReleaseResult {
  outcome: Outcome;
  release: string;
  sig: string;
  composeId: string;
  composeDir: string | null;
  compose: Pick<ComposeResult, 'latestFlipped' | 'manifest' | 'planned'> & { downloaded: number; skipped: number; tasks: number };
  staging: SyncResult | null;
  productionPreview: PreviewSummary | null;
  /** Who approved or rejected, when (workflow clock) and why; null when nobody did before the deadline. */
  decision: RecordedDecision | null;
  approvalDeadline: string | null;
  remindersSent: number;
  production: ProductionSyncResult | null;
  hardlink: HardlinkReleaseResult | null;
  fileLists: PublishFileListsResult[];
  warnings: string[];
}

export async function sigRelease(input: SigReleaseInput): Promise<ReleaseResult> {
  const { runtime = {}, ...request } = input;
  const info = workflowInfo();
  const stamp = composeStamp(Date.now());
  const status: ReleaseStatus = {
    release: String(request.release),
    sig: String(request.sig),
    stage: 'validating',
    stageSince: new Date().toISOString(),
    composeWorkflowId: null,
    compose: null,
    stagingPreview: null,
    productionPreview: null,
    decision: null,
    remindersSent: 0,
    approvalDeadline: null,
    deletionsAt: null,
    error: null,
    warnings: [],
  };
  const title = `${status.sig} ${status.release}`;
  const result: ReleaseResult = {
    outcome: 'composed',
    release: status.release,
    sig: status.sig,
    composeId: `${status.sig}-${status.release}-${stamp}`,
    composeDir: null,
    compose: { latestFlipped: false, manifest: null, planned: [], downloaded: 0, skipped: 0, tasks: 0 },
    staging: null,
    productionPreview: null,
    decision: null,
    approvalDeadline: null,
    remindersSent: 0,
    production: null,
    hardlink: null,
    fileLists: [],
    warnings: status.warnings,
  };
  let resolved: ResolvedRelease | null = null;
  let acts = activityProxies(runtime.timeouts, runtime.hostTaskQueue);
  let lockGranted = false;
  /** The production lock this run asked for and has not given back yet. */
  let lockToRelease: string | null = null;

  const setStage = (stage: Stage, details?: string) => {
    status.stage = stage;
    status.stageSince = new Date().toISOString();
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: stage }]);
    setCurrentDetails(details ?? `**${title}**: ${stage}`);
  };

  // Notifications go out one after another in the background: a slow or dead webhook never holds the pipeline
  // and never fails it. The run waits for the last one before it closes (see `finally` below).
  let notices: Promise<void> = Promise.resolve();
  const notify = (event: NotificationEvent, text: string) => {
    const notification = { event, text, sig: status.sig, release: status.release, workflowId: info.workflowId };
    notices = notices.then(() =>
      CancellationScope.nonCancellable(() => acts.notify.notify(notification)).then(
        () => undefined,
        (e) => log.warn('notification not delivered', { event, error: innermostMessage(e) }),
      ),
    );
  };

  // --- the approval gate's messages, registered before anything else so none is lost.
  /** Why a decision cannot be taken now, or null. Pure: validators must not change state. */
  const refusal = (d: Decision | undefined, approving: boolean): string | null => {
    const done = status.decision;
    if (done) return `${title} was already ${done.approved ? 'approved' : 'rejected'} by ${done.by} at ${done.at}`;
    if (status.stage !== 'awaiting-approval') return `${title} is not waiting for approval (stage: ${status.stage})`;
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'say who decides: {"by": "<name>", "comment": "..."}';
    const allowed = resolved?.approval.approvers ?? [];
    if (allowed.length > 0 && !allowed.includes(d.by.trim())) {
      return `"${d.by}" may not approve or reject ${title}; allowed approvers: ${allowed.join(', ')}`;
    }
    const guard = status.productionPreview?.guard;
    if (approving && guard && !guard.ok && d.allowLargeDeletion !== true && !resolved?.allowLargeDeletion) {
      return `the production preview tripped the deletion guard; approve with allowLargeDeletion: true if these deletions are intended. ${guard.reason ?? ''}`.trim();
    }
    return null;
  };
  /** Who decided, when and why: in the status query, the memo, the `SigApprover` search attribute and the result. */
  const record = (d: Decision, approved: boolean, via: RecordedDecision['via']): RecordedDecision => {
    const decision: RecordedDecision = {
      by: d.by.trim(),
      ...(typeof d.comment === 'string' && d.comment !== '' ? { comment: d.comment } : {}),
      ...(d.allowLargeDeletion === true ? { allowLargeDeletion: true } : {}),
      approved,
      at: new Date().toISOString(),
      via,
    };
    status.decision = decision;
    result.decision = decision;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.approver, value: decision.by }]);
    upsertMemo({ decision });
    return decision;
  };
  const onSignal = (approved: boolean) => (d: Decision) => {
    const why = refusal(d, approved);
    if (!why) {
      record(d, approved, 'signal');
      return;
    }
    // A signal cannot be refused to its sender: keep the reason where `status` shows it.
    status.warnings.push(`ignored ${approved ? 'approve' : 'reject'} signal from ${d?.by || '(nobody)'}: ${why}`);
    log.warn('ignored decision signal', { why });
  };
  const refuseUpdate = (d: Decision, approved: boolean) => {
    const why = refusal(d, approved);
    if (why) throw ApplicationFailure.create({ type: 'DecisionRefused', message: why, nonRetryable: true });
  };
  const onUpdate = (approved: boolean) => ({
    validator: (d: Decision) => refuseUpdate(d, approved),
    handler: (d: Decision): ApprovalAck => {
      // The validator ran just before; only another decision in the same activation can get here first.
      refuseUpdate(d, approved);
      return { accepted: true, stage: status.stage, decision: record(d, approved, 'update') };
    },
  });
  const usage = (verb: string) => `${verb} the release waiting at the approval gate: {"by": "<name>", "comment": "...", "allowLargeDeletion": false}`;
  setHandler(approveSignal, onSignal(true), { description: usage('Approve') });
  setHandler(rejectSignal, onSignal(false), { description: usage('Reject') });
  const approving = onUpdate(true);
  const rejecting = onUpdate(false);
  setHandler(approveUpdate, approving.handler, { validator: approving.validator, description: `${usage('Approve')}; refused with the reason if not allowed` });
  setHandler(rejectUpdate, rejecting.handler, { validator: rejecting.validator, description: `${usage('Reject')}; refused with the reason if not allowed` });
  setHandler(statusQuery, () => status, { description: 'Stage, compose progress, the production preview, the decision, reminders' });
  setHandler(lockGrantedSignal, () => {
    lockGranted = true;
  });

  try {
    setStage('validating');
    // The runtime knobs are checked with the request (a bad duration is refused by name, not met mid-run).
    const r: ResolvedRelease = await acts.quick.resolveRelease(patched('runtime-checked') ? { request, stamp, runtime } : { request, stamp });
    resolved = r;
    status.warnings.push(...r.plan.warnings);
    const hostTaskQueue = runtime.hostTaskQueue ?? r.hostTaskQueue;
    acts = activityProxies(runtime.timeouts, hostTaskQueue);

    // --- compose
    // Named after this run, so runs under other IDs (tests, `temporal workflow start --workflow-id`) never collide.
    const childId = `${info.workflowId}-compose-${stamp}`;
    status.composeWorkflowId = childId;
    setStage('composing', `**${title}**: composing ${r.plan.batches.flat().length} reposync tasks (compose ${r.plan.composeId})`);
    const compose: ComposeResult = await executeChild(composeSig, {
      workflowId: childId,
      args: [{ plan: r.plan, roots: r.roots, ...(hostTaskQueue ? { hostTaskQueue } : {}), ...(runtime.timeouts ? { timeouts: runtime.timeouts } : {}) }],
    });
    result.composeId = compose.composeId;
    result.composeDir = compose.composeDir;
    result.compose = {
      latestFlipped: compose.latestFlipped,
      manifest: compose.manifest,
      planned: compose.planned,
      tasks: compose.tasks.length,
      downloaded: compose.tasks.reduce((n, t) => n + t.downloaded, 0),
      skipped: compose.tasks.reduce((n, t) => n + t.skipped, 0),
    };
    if (r.plan.dryRun || r.composeOnly) {
      result.outcome = r.plan.dryRun ? 'dry-run' : 'composed';
      setStage('composed');
      notify('composed', `**${title}**: compose ${compose.composeId} finished (${r.plan.dryRun ? 'dry run' : 'compose only'})`);
      return result;
    }

    // --- staging
    setStage('staging');
    const staging = stagingSigDir(r.roots, r.plan.release, r.plan.sig);
    const production = productionSigDir(r.roots, r.plan.release, r.plan.sig);
    const previews = `${compose.composeDir}/work/previews/${stamp}`;
    const staged = await acts.long.syncToStaging({
      source: `${compose.composeDir}/compose/${r.plan.release}/${r.plan.sig}`,
      target: staging,
      owner: r.owner,
      reportFile: `${previews}/staging.txt`,
      guard: r.guard,
      allowLargeDeletion: r.allowLargeDeletion,
    });
    result.staging = staged;
    status.stagingPreview = { ...staged.preview, guard: { ok: true } };

    // --- approval gate: a person sees what production would get, then approves or rejects before the deadline.
    const preview = await acts.long.previewProduction({ source: staging, target: production, reportFile: `${previews}/production.txt`, guard: r.guard });
    status.productionPreview = preview;
    result.productionPreview = preview;
    const opened = Date.now();
    const deadline = opened + durationMs(runtime.approval?.expireAfter ?? r.approval.expireAfter);
    const remindEvery = durationMs(runtime.approval?.reminderInterval ?? r.approval.reminderInterval);
    status.approvalDeadline = result.approvalDeadline = new Date(deadline).toISOString();
    setStage('awaiting-approval', gateDetails(title, preview, status.approvalDeadline));
    notify('awaiting-approval', `**${title}**: compose ${compose.composeId} is in staging and waits for approval until ${status.approvalDeadline}.\n${howToDecide(r.plan.release, r.plan.sig)}\n\n${previewText(preview)}`);
    const decision = await awaitDecision(opened, remindEvery, deadline);
    if (!decision) {
      result.outcome = 'expired';
      setStage('expired', `**${title}**: nobody approved before ${status.approvalDeadline}; nothing went to production`);
      notify('expired', `**${title}**: nobody approved before ${status.approvalDeadline} (${status.remindersSent} reminders); nothing went to production`);
      return result;
    }
    const why = decision.comment ? `: ${decision.comment}` : '';
    if (!decision.approved) {
      result.outcome = 'rejected';
      setStage('rejected', `**${title}**: rejected by ${decision.by}${why}`);
      notify('rejected', `**${title}**: rejected by ${decision.by}${why}; nothing went to production`);
      return result;
    }
    notify('approved', `**${title}**: approved by ${decision.by}${why}; promoting compose ${compose.composeId} to production`);

    // --- production, one SIG at a time per release and production tree
    setStage('waiting-for-production-lock');
    const lockId = lockWorkflowId(r.roots.productionRoot);
    await acquireLock(lockId, r.plan.release);
    // Once promotion starts it finishes: a cancel now would only leave production behind staging.
    await CancellationScope.nonCancellable(async () => {
      try {
        setStage('promoting');
        const sync = {
          source: staging,
          target: production,
          owner: r.owner,
          reportFile: `${previews}/production-sync.txt`,
          guard: r.guard,
          allowLargeDeletion: r.allowLargeDeletion || decision.allowLargeDeletion === true,
        };
        const graceMs = r.metadataGrace ? durationMs(r.metadataGrace) : 0;
        // Runs that were already promoting when this version was deployed replay the single call they made.
        if (patched('production-metadata-grace') && graceMs > 0) {
          // New content and the new repomd.xml files go live first; what left staging stays for the grace period,
          // so a client that read the previous repomd.xml a moment ago still finds every file it names.
          const published = await acts.long.syncToProduction({ ...sync, passes: [1, 2] });
          // Nothing superseded (a first release, additions only): no client can miss anything, so no wait.
          if (published.preview.deleteEntries > 0) {
            // Production is consistent while we wait, so other SIGs may promote meanwhile: give the lock back.
            await releaseLock();
            const until = new Date(Date.now() + graceMs).toISOString();
            status.deletionsAt = until;
            setCurrentDetails(`**${title}**: new metadata is live in production; superseded files are removed at ${until} (publish.metadataGrace ${r.metadataGrace})`);
            await sleep(graceMs);
            status.deletionsAt = null;
            setStage('waiting-for-production-lock');
            await acquireLock(lockId, r.plan.release);
            setStage('promoting');
          }
          const deleted = await acts.long.syncToProduction({ ...sync, passes: [3] });
          result.production = joinProductionSyncs(published, deleted);
        } else {
          result.production = await acts.long.syncToProduction(sync);
        }
        result.hardlink = await acts.long.hardlinkRelease({ dir: productionReleaseDir(r.roots, r.plan.release) });
        setStage('publishing-lists');
        result.fileLists.push(await acts.long.publishFileLists({ dir: productionCategory(r.roots), module: 'sig', owner: r.owner }));
        if (r.fileListLevels.includes('root')) {
          result.fileLists.push(await acts.long.publishFileLists({ dir: r.roots.productionRoot, module: 'rocky', owner: r.owner }));
        }
      } finally {
        await releaseLock();
      }
    });
    if (CancellationScope.current().consideredCancelled) {
      status.warnings.push('a cancel arrived during promotion; the promotion was finished first so that production matches staging');
    }
    result.outcome = 'promoted';
    setStage('promoted', `**${title}**: compose ${compose.composeId} is in production; file lists published`);
    notify('promoted', `**${title}**: compose ${compose.composeId} is in production; file lists published`);
    return result;
  } catch (e) {
    await CancellationScope.nonCancellable(releaseLock);
    if (isCancellation(e)) {
      notify('cancelled', `**${title}**: cancelled during ${status.stage}`);
      setStage('cancelled');
      throw e;
    }
    const failedAt = status.stage;
    status.error = innermostMessage(e);
    setStage('failed', `**${title}**: failed during ${failedAt}: ${status.error}`);
    notify('failed', `**${title}**: failed during ${failedAt}: ${status.error}`);
    if (e instanceof ApplicationFailure) throw e;
    // Anything else would only fail the workflow task and retry for ever; fail the run with the reason.
    throw ApplicationFailure.create({ type: 'ReleaseFailed', nonRetryable: true, message: `failed during ${failedAt}: ${status.error}`, cause: e as Error });
  } finally {
    await notices;
  }

  /**
   * Waits for a decision until `deadline`, sending reminder k at `opened + k × every` (never at the deadline
   * itself, whatever a late timer does to the clock). Null when nobody decided in time.
   */
  async function awaitDecision(opened: number, every: number, deadline: number): Promise<RecordedDecision | null> {
    const step = every > 0 ? every : Infinity;
    for (let reminderAt = opened + step; ; reminderAt += step) {
      const wakeAt = Math.min(reminderAt, deadline);
      if (await condition(() => status.decision !== null, Math.max(1, wakeAt - Date.now()))) return status.decision;
      if (reminderAt >= deadline) return null;
      status.remindersSent++;
      result.remindersSent = status.remindersSent;
      notify('reminder', `**${title}**: still waiting for approval (reminder ${status.remindersSent}); expires ${status.approvalDeadline}.\n${howToDecide(status.release, status.sig)}`);
    }
  }

  /** Asks the production lock for a turn and waits for it; `releaseLock` gives it back. */
  async function acquireLock(lockId: string, release: string) {
    lockGranted = false;
    lockToRelease = lockId;
    // Not cancellable: a cancel must find the request delivered, so that its release reaches the lock after it.
    await CancellationScope.nonCancellable(() =>
      acts.quick.requestProductionLock({ lockWorkflowId: lockId, release, requesterWorkflowId: info.workflowId, taskQueue: info.taskQueue }),
    );
    await condition(() => lockGranted);
  }

  async function releaseLock() {
    if (!lockToRelease) return;
    const lockId = lockToRelease;
    lockToRelease = null;
    try {
      await getExternalWorkflowHandle(lockId).signal(releaseLockSignal, { workflowId: info.workflowId });
    } catch (err) {
      log.warn('could not release the production lock', { lock: lockId, error: String(err) });
    }
  }
}

function previewText(p: PreviewSummary): string {
  const rows = Object.entries(p.repos).map(
    ([repo, c]) => `| ${repo} | ${c.added.files} | ${c.changed.files} | ${c.deleted.files} | ${c.added.bytes + c.changed.bytes} |`,
  );
  return [
    `Production will get ${p.added.files} new, ${p.changed.files} changed and ${p.deleted.files} deleted files (${p.added.bytes + p.changed.bytes} bytes).`,
    p.guard.ok ? '' : `Deletion guard: ${p.guard.reason}`,
    '| repo | added | changed | deleted | bytes |',
    '|---|---|---|---|---|',
    ...rows,
  ]
    .filter(Boolean)
    .join('\n');
}

function howToDecide(release: string, sig: string): string {
  return `Approve with \`sigrelease approve ${release} ${sig} --comment "..."\` (or reject with \`sigrelease reject ${release} ${sig} --comment "..."\`).`;
}

function gateDetails(title: string, p: PreviewSummary, deadline: string): string {
  return `**${title}** waits for approval until ${deadline}.\n\nSend signal \`approve\` (or \`reject\`) with input {"by": "<you>", "comment": "..."}.\n\n${previewText(p)}`;
}

function innermostMessage(e: unknown): string {
  let err = e as { cause?: unknown; message?: string } | undefined;
  while (err?.cause) err = err.cause as typeof err;
  return err?.message ?? String(e);
}

/** One report for a production sync run as two calls (passes 1–2, then pass 3 after the grace period). */
function joinProductionSyncs(first: ProductionSyncResult, second: ProductionSyncResult): ProductionSyncResult {
  return {
    ...first,
    transferredFiles: first.transferredFiles + second.transferredFiles,
    transferredBytes: first.transferredBytes + second.transferredBytes,
    durationMs: first.durationMs + second.durationMs,
    passes: [...first.passes, ...second.passes],
    scratchRemoved: [...(first.scratchRemoved ?? []), ...(second.scratchRemoved ?? [])],
  };
}
