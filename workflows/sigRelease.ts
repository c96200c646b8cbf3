// The release pipeline of one SIG and release, top to bottom:
//   validate → compose (child) → staging sync → approval gate → production lock → production sync
//   (content and repomd.xml; lock given back for the metadata grace timer; lock again; deletions)
//   → hardlink → mirror file lists.
// Deterministic code only: every side effect is an activity, every clock is Temporal's. This file is the
// outline; the gate is workflows/gate.ts + approval.ts, production is promotion.ts, the run's state releaseRun.ts.
import { ApplicationFailure, CancellationScope, executeChild, isCancellation, log, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ResolvedRelease, RunStart, SignedStart } from '../activities/release.js';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { markdownText } from '../src/markdown.js';
import { composeStamp, productionSigDir, stagingSigDir } from '../src/paths.js';
import { hostActivities, quick, type HostActivities } from './activityOptions.js';
import { republishFileLists } from './listsOnly.js';
import { fileListsWaitBound } from './releaseFileLists.js';
import { enterAfterCompose, folderName, recordTreeSource, refuseUnrecordedStaging, stageCompose, type GateSource } from './reentry.js';
import { staleSourceMetadata } from './staleness.js';
import { awaitApproval, listenForDecisions } from './approval.js';
import { decisionsNameCompose, fingerprintAtGate } from './approvedStaging.js';
import { composeSig, type ComposeResult } from './compose.js';
import { innermostMessage, isUnexpected } from './failures.js';
import { SEARCH_ATTRIBUTES, statusQuery } from './messages.js';
import { ProductionLockTurn, promoteToProduction } from './promotion.js';
import { ReleaseRun, type ReleaseResult } from './releaseRun.js';
import { takePipelineTurn } from './pipelineTurnTaker.js';
import { checkRuntimeOptions, type RuntimeOptions } from './runtimeOptions.js';

export type { Outcome, ReleaseResult } from './releaseRun.js';
export type { SignedStart } from '../activities/release.js';

/** Set by the server on every run a schedule starts. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
export type { RuntimeOptions } from './runtimeOptions.js';

/** The flat request (as typed on the `temporal` CLI) plus optional runtime knobs. */
export interface SigReleaseInput {
  release: string;
  sig: string;
  runtime?: RuntimeOptions;
  /** A start signed with `sigrelease start --key` (workflows/signedMessages.ts `startMessage`). */
  start?: SignedStart;
  [flag: string]: unknown;
}

export async function sigRelease(input: SigReleaseInput): Promise<ReleaseResult> {
  const { runtime: rawRuntime, start, ...request } = input;
  const stamp = composeStamp(Date.now());
  const run = new ReleaseRun(request, stamp, workflowInfo().workflowId);
  const lock = new ProductionLockTurn();
  // Every message handler before the first await, so that none is lost.
  listenForDecisions(run);
  lock.listen();
  setHandler(statusQuery, () => run.view(), { description: 'Stage, compose progress, the production preview, the decision, reminders' });

  try {
    run.setStage('validating');
    const runtime = patched('runtime-options-checked-first') ? checkRuntimeOptions(rawRuntime) : ((rawRuntime ?? {}) as RuntimeOptions);
    const r = await validate(run, request, stamp, start);
    if (!(await takePipelineTurn(run, r))) return run.close('skipped');
    const host = hostActivities(runtime.timeouts, runtime.hostTaskQueue ?? r.hostTaskQueue);

    if (r.entry?.from === 'lists') return await republishFileLists(run, r, host, lock, fileListsWaitBound(runtime.timeouts));
    const source = r.entry ? await enterAfterCompose(run, r, host, stamp) : await composeAndStage(run, r, runtime, stamp, host);
    if (typeof source === 'string') return run.close(source);

    const staging = stagingSigDir(r.roots, r.plan.release, r.plan.sig);
    const production = productionSigDir(r.roots, r.plan.release, r.plan.sig);
    const previews = source.previews;
    // The approval gate: a person sees what production would get, then approves or rejects before the deadline.
    const preview = await host.long.previewProduction({ source: staging, target: production, reportFile: `${previews}/production.txt`, guard: r.guard });
    refuseUnrecordedStaging(source, preview);
    run.note({ productionPreview: preview });
    run.result.productionPreview = preview;
    const sourceMetadata = await staleSourceMetadata(host, r, source.composeDir);
    run.note({ sourceMetadata });
    run.fingerprint = fingerprintAtGate(source.composeId, preview);
    if (decisionsNameCompose()) run.composeAtGate = source.composeId;
    const compose = { composeId: source.composeId, manifest: source.manifest };
    const decision = await awaitApproval(run, r, runtime, {
      composeId: compose.composeId,
      manifest: compose.manifest,
      preview,
      reports: { ...(run.result.staging ? { staging: run.result.staging.preview.reportFile } : {}), production: preview.reportFile },
      sourceMetadata,
    });
    if (!decision) {
      run.setStage('expired', `**${run.title}**: nobody approved before ${run.gate.deadline}; nothing went to production`);
      run.notify('expired', `**${run.title}**: nobody approved before ${run.gate.deadline} (${run.gate.remindersSent} reminders); nothing went to production`);
      return run.close('expired');
    }
    // Names and comments show as typed in the Web UI and in Mattermost (no markup, no mentions).
    const who = markdownText(`${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`);
    if (!decision.approved) {
      run.setStage('rejected', `**${run.title}**: rejected by ${who}`);
      run.notify('rejected', `**${run.title}**: rejected by ${who}; nothing went to production`);
      return run.close('rejected');
    }
    run.notify('approved', `**${run.title}**: approved by ${who}; promoting compose ${compose.composeId} to production`);

    await promoteToProduction(run, { r, host, lock, decision, staging, production, previews, preview, lockCheckEvery: runtime.lock?.checkEvery, listsWaitAtMostMs: fileListsWaitBound(runtime.timeouts) });
    // Production has the compose now, cancel or not: the record must say so (a cancel during promotion is only noted).
    if (patched('production-source-recorded')) await CancellationScope.nonCancellable(() => recordTreeSource(r, host, 'production', source));
    run.setStage('promoted', `**${run.title}**: compose ${compose.composeId} is in production; file lists published`);
    run.notify('promoted', `**${run.title}**: compose ${compose.composeId} is in production; file lists published`);
    return run.close('promoted');
  } catch (e) {
    if (isUnexpected(e)) {
      // Thrown at once, with nothing sent or awaited, so that the workflow task fails and a fixed worker
      // replays the run to this very point and carries on (failures.ts).
      log.error('unexpected error: failing the workflow task until a fixed worker is deployed', { error: String(e), stack: (e as Error)?.stack });
      throw e;
    }
    const failure = await failed(run, lock, e);
    await run.settled();
    throw failure;
  }
}

/** Checks the request against the worker's own catalogue and site config; names the run for `list` and `status`. */
async function validate(run: ReleaseRun, request: Record<string, unknown>, stamp: string, start: SignedStart | undefined): Promise<ResolvedRelease> {
  const info = workflowInfo();
  // Who started the run, checked by the worker: a signed start, a schedule, or unsigned (no self-approval).
  const scheduledBy = info.typedSearchAttributes.get(SCHEDULED_BY);
  const runStart: RunStart | null = patched('starter-recorded')
    ? { workflowId: info.workflowId, startedAt: info.runStartTime.toISOString(), ...(scheduledBy ? { scheduledBy } : {}), ...(start ? { start } : {}) }
    : null;
  const r = await quick.resolveRelease({ request, stamp, ...(runStart ? { run: runStart } : {}) });
  run.warn(...r.plan.warnings);
  if (r.starter) run.note({ startedBy: r.starter });
  // Flags that weaken a check are shown to whoever approves (gate details, status, notification).
  if (patched('gate-shows-request-overrides')) run.note({ requestOverrides: r.requestOverrides ?? [] });
  // Runs started without our CLI (`temporal workflow start`, the Web UI) carry no SigName/SigRelease until
  // the run sets them; set from the validated plan, never from the raw request.
  if (patched('search-attributes-from-workflow')) {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.sig, value: r.plan.sig },
      { key: SEARCH_ATTRIBUTES.release, value: r.plan.release },
    ]);
  }
  return r;
}

/**
 * The compose, then the staging sync of the compose it made; the outcome instead when the run stops after the
 * compose (dry run, compose only).
 */
async function composeAndStage(run: ReleaseRun, r: ResolvedRelease, runtime: RuntimeOptions, stamp: string, host: HostActivities): Promise<GateSource | 'dry-run' | 'composed'> {
  const compose = await composeRelease(run, r, runtime, stamp);
  if (r.plan.dryRun || r.composeOnly) {
    run.setStage('composed');
    run.notify('composed', `**${run.title}**: compose ${compose.composeId} finished (${r.plan.dryRun ? 'dry run' : 'compose only'})`);
    return r.plan.dryRun ? 'dry-run' : 'composed';
  }
  const source = { composeId: compose.composeId, compose: folderName(compose.composeDir), composeDir: compose.composeDir, manifest: compose.manifest, previews: `${compose.composeDir}/work/previews/${stamp}` };
  await stageCompose(run, r, host, source);
  return source;
}


/** The compose child, named after this run so that runs under other IDs never collide. */
async function composeRelease(run: ReleaseRun, r: ResolvedRelease, runtime: RuntimeOptions, stamp: string): Promise<ComposeResult> {
  const hostTaskQueue = runtime.hostTaskQueue ?? r.hostTaskQueue;
  const childId = `${workflowInfo().workflowId}-compose-${stamp}`;
  run.note({ composeWorkflowId: childId });
  run.setStage('composing', `**${run.title}**: composing ${r.plan.batches.flat().length} reposync tasks (compose ${r.plan.composeId})`);
  const compose = await executeChild(composeSig, {
    workflowId: childId,
    args: [{ plan: r.plan, roots: r.roots, ...(hostTaskQueue ? { hostTaskQueue } : {}), ...(runtime.timeouts ? { timeouts: runtime.timeouts } : {}) }],
  });
  Object.assign(run.result, {
    composeId: compose.composeId,
    composeDir: compose.composeDir,
    compose: {
      latestFlipped: compose.latestFlipped,
      manifest: compose.manifest,
      planned: compose.planned,
      tasks: compose.tasks.length,
      downloaded: compose.tasks.reduce((n, t) => n + t.downloaded, 0),
      skipped: compose.tasks.reduce((n, t) => n + t.skipped, 0),
    },
  });
  return compose;
}

/** What a known failure or a cancel does to the run: the production lock back, the reason shown and sent. */
async function failed(run: ReleaseRun, lock: ProductionLockTurn, e: unknown): Promise<unknown> {
  await CancellationScope.nonCancellable(() => lock.release());
  if (isCancellation(e)) {
    run.notify('cancelled', `**${run.title}**: cancelled during ${run.stage}`);
    run.setStage('cancelled');
    return e;
  }
  const failedAt = run.stage;
  const error = innermostMessage(e);
  run.note({ error });
  // The title and the error may hold a request's raw text (a run refused while validating).
  run.setStage('failed', `**${markdownText(run.title)}**: failed during ${failedAt}: ${markdownText(error)}`);
  run.notify('failed', `**${run.title}**: failed during ${failedAt}: ${error}`);
  if (e instanceof ApplicationFailure) return e;
  // An activity or the compose child failed for good: fail the run with the reason.
  return ApplicationFailure.create({ type: 'ReleaseFailed', nonRetryable: true, message: `failed during ${failedAt}: ${error}`, cause: e as Error });
}
