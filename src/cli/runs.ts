// `sigrelease list` and `sigrelease cancel`: finding runs by SIG, release and stage through the search attributes
// every run carries (SigName, SigRelease, SigStage, SigApprover), and cancelling one. Runs started by hand have
// the ID sigrelease-<sig>-<release>; runs started by a schedule have the scheduled time appended, so both
// commands look runs up by search attribute rather than by ID.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { defineSearchAttributeKey, SearchAttributeType, type TypedSearchAttributes } from '@temporalio/common';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { CliError, EXIT, connectClient, releaseStatus, releaseWorkflowId } from '../client.js';
import { SEARCH_ATTRIBUTES, type Decision, type Stage } from '../../workflows/messages.js';
import { DECISION_NAMESPACE, decisionMessage, type Verdict } from '../../workflows/signedMessages.js';
import { signWithKeyOrAgent } from '../approval/keys.js';
import { SigningError } from '../approval/sshsig.js';
import { FINAL_STAGES, checkFilter, checkRelease, checkSig } from './runs-command.js';
import { modeOfRun, type RunMode } from '../lifecycle/names.js';

export { FINAL_STAGES, STAGES, badInputExit, registerRunsCommands } from './runs-command.js';

/** Once production promotion has started it finishes; a cancel request waits for it (workflows/sigRelease.ts). */
const PROMOTION_STAGES: readonly string[] = ['promoting', 'publishing-lists'];

/** Set by the server on every run a schedule starts. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

export interface RunFilter {
  stage?: string;
  sig?: string;
  release?: string;
  /** Closed runs too (default: only running ones, unless `stage` is a final stage). */
  all?: boolean;
  limit?: number;
}

export interface RunRow {
  workflowId: string;
  runId: string;
  sig: string | null;
  release: string | null;
  stage: string | null;
  /** Temporal's execution status, lower case: running, completed, failed, cancelled, terminated, timed_out. */
  status: string;
  startTime: string;
  closeTime: string | null;
  approver: string | null;
  /** The schedule that started the run, if one did. */
  scheduledBy: string | null;
  /** release, restage, rollback, gate, lists or vault (src/lifecycle/names.ts). */
  mode: RunMode;
}

/** A visibility query for sigRelease runs; every value is checked first, so nothing can be injected into it. */
export function runsQuery(f: RunFilter): string {
  checkFilter(f);
  // Vaults (workflows/vault.ts) are listed with the releases, under the pseudo-SIG "vault".
  const parts = [`(WorkflowType = "sigRelease" OR WorkflowType = "sigVault")`];
  if (f.stage !== undefined) parts.push(`${SEARCH_ATTRIBUTES.stage.name} = "${f.stage}"`);
  if (f.sig !== undefined) parts.push(`${SEARCH_ATTRIBUTES.sig.name} = "${f.sig}"`);
  if (f.release !== undefined) parts.push(`${SEARCH_ATTRIBUTES.release.name} = "${f.release}"`);
  const closedStage = f.stage !== undefined && FINAL_STAGES.includes(f.stage as Stage);
  if (!f.all && !closedStage) parts.push(`ExecutionStatus = "Running"`);
  return parts.join(' AND ');
}

export async function listRuns(client: Client, f: RunFilter): Promise<RunRow[]> {
  const query = runsQuery(f);
  const limit = f.limit ?? 100;
  const rows: RunRow[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    rows.push(rowOf(wf));
    if (rows.length >= limit) break;
  }
  return rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
}

/**
 * The running runs of one SIG and release: by search attribute (scheduled runs included), plus the
 * hand-started ID itself, which answers even before visibility has caught up with a fresh start.
 */
export async function runningRuns(client: Client, release: string, sig: string): Promise<RunRow[]> {
  const rows = await listRuns(client, { sig, release });
  const id = releaseWorkflowId(sig, release);
  if (!rows.some((r) => r.workflowId === id)) {
    const d = await client.workflow.getHandle(id).describe().catch(() => null);
    if (d && d.status.name === 'RUNNING' && d.type === 'sigRelease') rows.push(rowOf(d));
  }
  return rows;
}

export interface CancelResult {
  workflowId: string;
  runId: string;
  /** The stage when the cancellation was requested. */
  stage: string | null;
  reason: string;
  /** Set when production promotion was under way: the run finishes promoting and ends as promoted. */
  note: string | null;
  /** With --wait: how the run ended. */
  final?: { status: string; stage: string | null };
}

/** Requests cancellation of the one running run of a SIG and release (or of `workflowId`), with a reason in history. */
export async function cancelRun(
  client: Client,
  release: string,
  sig: string,
  opts: { reason?: string; workflowId?: string; wait?: boolean } = {},
): Promise<CancelResult> {
  checkRelease(release);
  checkSig(sig);
  let target: RunRow;
  if (opts.workflowId) {
    const d = await client.workflow.getHandle(opts.workflowId).describe().catch(() => null);
    const row = d ? rowOf(d) : null;
    if (!row || row.status !== 'running' || d?.type !== 'sigRelease' || row.sig !== sig || row.release !== release) {
      throw new CliError(`no running release of ${sig} ${release} with workflow ID ${opts.workflowId}`, EXIT.notFound);
    }
    target = row;
  } else {
    const running = await runningRuns(client, release, sig);
    if (running.length === 0) throw new CliError(`no running release of ${sig} ${release}; see \`sigrelease list --all --sig ${sig} --release ${release}\``, EXIT.notFound);
    if (running.length > 1) {
      throw new CliError(
        `${running.length} runs of ${sig} ${release} are running (${running.map((r) => r.workflowId).join(', ')}); say which with --workflow-id`,
        EXIT.badInput,
      );
    }
    target = running[0]!;
  }
  // The stage as the run itself has it now (visibility, which found the run, may lag behind by a moment).
  const before = await client.workflow.getHandle(target.workflowId, target.runId).describe().then(rowOf, () => target);
  const reason = opts.reason ?? `cancelled with sigrelease cancel by ${process.env.SUDO_USER ?? process.env.USER ?? 'unknown'}`;
  try {
    // handle.cancel() takes no reason; the service call records it in the WorkflowExecutionCancelRequested event.
    await client.workflowService.requestCancelWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: target.workflowId, runId: target.runId },
      identity: `sigrelease cancel@${os.hostname()}`,
      requestId: randomUUID(),
      reason,
    });
  } catch (e) {
    if ((e as { code?: number }).code === GRPC_NOT_FOUND) throw new CliError(`the run ${target.workflowId} is no longer running`, EXIT.notFound);
    throw e;
  }
  const result: CancelResult = {
    workflowId: target.workflowId,
    runId: target.runId,
    stage: before.stage,
    reason,
    note: PROMOTION_STAGES.includes(before.stage ?? '') ? 'production promotion is under way and finishes first; the run then ends as promoted, not cancelled' : null,
  };
  if (opts.wait) {
    const handle = client.workflow.getHandle(target.workflowId, target.runId);
    for (;;) {
      const d = rowOf(await handle.describe());
      if (d.status !== 'running') {
        result.final = { status: d.status, stage: d.stage };
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return result;
}
const GRPC_NOT_FOUND = 5;

export function formatRuns(rows: RunRow[], f: RunFilter = {}): string {
  if (rows.length === 0) {
    const what = [f.sig, f.release].filter(Boolean).join(' ');
    return `no ${f.all ? '' : 'running '}releases${what ? ` of ${what}` : ''}${f.stage ? ` in stage ${f.stage}` : ''}`;
  }
  const head = ['WORKFLOW ID', 'SIG', 'REL', 'MODE', 'STAGE', 'STATUS', 'STARTED', 'APPROVER', 'SCHEDULE'];
  const cells = rows.map((r) => [r.workflowId, r.sig ?? '-', r.release ?? '-', r.mode, r.stage ?? '-', r.status, r.startTime.replace(/\.\d+Z$/, 'Z'), r.approver ?? '-', r.scheduledBy ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}

function rowOf(wf: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes' | 'memo' | 'type'>): RunRow {
  const sa: TypedSearchAttributes = wf.typedSearchAttributes;
  return {
    workflowId: wf.workflowId,
    mode: modeOfRun(wf.type, wf.memo),
    runId: wf.runId,
    sig: sa.get(SEARCH_ATTRIBUTES.sig) ?? null,
    release: sa.get(SEARCH_ATTRIBUTES.release) ?? null,
    stage: sa.get(SEARCH_ATTRIBUTES.stage) ?? null,
    status: wf.status.name.toLowerCase(),
    startTime: wf.startTime.toISOString(),
    closeTime: wf.closeTime?.toISOString() ?? null,
    approver: sa.get(SEARCH_ATTRIBUTES.approver) ?? null,
    scheduledBy: sa.get(SCHEDULED_BY) ?? null,
  };
}

/**
 * Signs `decision` for the run waiting at the gate: the message names the run, its compose, its production
 * preview and (when the run took one) its staging digest as the run itself reports them (`status`), so the
 * signature is good for this decision only.
 */
export async function signedDecision(client: Client, release: string, sig: string, verb: Verdict, decision: Decision, keyFile: string | undefined): Promise<Decision> {
  const st = await releaseStatus(client, release, sig);
  if (st.stage !== 'awaiting-approval' || !st.signing) throw new CliError(`${sig} ${release} is not waiting for approval (stage: ${st.stage}); nothing to sign`, EXIT.badInput);
  const claims = { ...decision, signedAt: new Date().toISOString() };
  try {
    const signature = await signWithKeyOrAgent(decisionMessage(st.signing, verb, claims), DECISION_NAMESPACE, keyFile);
    return { ...claims, signature };
  } catch (e) {
    if (e instanceof SigningError) throw new CliError(e.message, EXIT.badInput);
    throw e;
  }
}
