// The state one sigRelease run keeps and shows: its status (the `status` query), its result, its gate, and
// the notifications it sends on the way. The pipeline steps (sigRelease.ts, promotion.ts) change it only
// through these methods, so the stage, the search attribute and the Web UI's details never disagree.
import { CancellationScope, log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { HardlinkReleaseResult, ProductionSyncResult, SyncResult } from '../activities/publish.js';
import type { PublishFileListsResult } from '../activities/filelists.js';
import { markdownText } from '../src/markdown.js';
import { runModeOf, type RunMode } from '../src/lifecycle/names.js';
import { notifier } from './activityOptions.js';
import type { ComposeResult } from './compose.js';
import { innermostMessage } from './failures.js';
import { ApprovalGate } from './gate.js';
import { SEARCH_ATTRIBUTES, type ApprovalFingerprint, type NotificationEvent, type PreviewSummary, type RecordedDecision, type ReleaseStatus, type Stage } from './messages.js';

export type Outcome = 'promoted' | 'composed' | 'dry-run' | 'rejected' | 'expired' | 'published' | 'vaulted' | 'skipped';

export interface ReleaseResult {
  outcome: Outcome;
  /** What the run did (src/lifecycle/names.ts): a release, a re-stage, a rollback, a gate, lists, a vault. */
  mode: RunMode;
  /** A rollback: the compose it asked for, as the request named it. */
  rollbackTo?: string;
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
  /** Why a scheduled run ended without doing anything (another pipeline of its SIG and release was running). */
  skipped?: string;
  warnings: string[];
}

export class ReleaseRun {
  readonly title: string;
  readonly gate: ApprovalGate;
  private readonly status: ReleaseStatus;
  readonly result: ReleaseResult;
  /** What an approval approves (workflows/approvedStaging.ts); null before the gate and for older runs. */
  fingerprint: ApprovalFingerprint | null = null;
  /** Compose a decision must name, when it names one; null: not checked (before the gate, older runs). */
  composeAtGate: string | null = null;
  // Notifications go out one after another in the background: a slow or dead webhook never holds the pipeline
  // and never fails it. The run waits for the last one before it closes (`settled`).
  private notices: Promise<void> = Promise.resolve();
  /** What the run gives back when it ends, however it ends (the pipeline turn). */
  private readonly endings: Array<() => Promise<void>> = [];

  constructor(
    request: { release: unknown; sig: unknown; from?: unknown; composeId?: unknown },
    stamp: string,
    private readonly workflowId: string,
    /** Set by workflows other than sigRelease (a vault); sigRelease's mode follows its request. */
    modeOverride?: RunMode,
  ) {
    const release = String(request.release);
    const sig = String(request.sig);
    const mode = modeOverride ?? runModeOf(request);
    const rollbackTo = mode === 'rollback' ? { rollbackTo: String(request.composeId) } : {};
    this.title = mode === 'release' || mode === 'vault' ? `${sig} ${release}` : `${sig} ${release} (${mode === 'rollback' ? `rollback to ${String(request.composeId)}` : mode})`;
    this.gate = new ApprovalGate(this.title);
    this.status = {
      release,
      sig,
      mode,
      ...rollbackTo,
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
    this.result = {
      outcome: 'composed',
      mode,
      ...rollbackTo,
      release,
      sig,
      composeId: `${sig}-${release}-${stamp}`,
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
      warnings: this.status.warnings,
    };
  }

  get stage(): Stage {
    return this.status.stage;
  }

  /** What the `status` query answers: the run's status with the gate's state. */
  view(): ReleaseStatus {
    return {
      ...this.status,
      fingerprint: this.fingerprint,
      decision: this.gate.decision,
      remindersSent: this.gate.remindersSent,
      approvalDeadline: this.gate.deadline,
      signing: this.gate.subject,
      warnings: [...this.status.warnings, ...this.gate.refusalWarnings()],
    };
  }

  setStage(stage: Stage, details?: string): void {
    this.status.stage = stage;
    this.status.stageSince = new Date().toISOString();
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: stage }]);
    setCurrentDetails(details ?? `**${markdownText(this.title)}**: ${stage}`);
  }

  /** Fills in what later steps report: compose child, previews, the grace period's deletion time. */
  note(fields: Partial<Pick<ReleaseStatus, 'composeWorkflowId' | 'stagingPreview' | 'productionPreview' | 'deletionsAt' | 'error' | 'startedBy' | 'requestOverrides' | 'sourceMetadata' | 'pipelineTurn'>>): void {
    Object.assign(this.status, fields);
  }

  /** The run ends without doing anything, for `reason` (shown in status, the Web UI's details and the result). */
  skip(reason: string): void {
    this.result.skipped = reason;
    this.setStage('skipped', `**${markdownText(this.title)}**: ${markdownText(reason)}`);
  }

  /** Registers what to give back when the run ends (close, failure, cancel); `settled` runs it once. */
  onEnd(giveBack: () => Promise<void>): void {
    this.endings.push(giveBack);
  }

  warn(...warnings: string[]): void {
    this.status.warnings.push(...warnings);
  }

  /** The result as it stands, with the gate's decision, deadline and reminders. */
  private finish(outcome: Outcome): ReleaseResult {
    return Object.assign(this.result, {
      outcome,
      decision: this.gate.decision,
      approvalDeadline: this.gate.deadline,
      remindersSent: this.gate.remindersSent,
      warnings: [...this.status.warnings, ...this.gate.refusalWarnings()],
    });
  }

  notify(event: NotificationEvent, text: string): void {
    const notification = { event, text, sig: this.status.sig, release: this.status.release, workflowId: this.workflowId };
    this.notices = this.notices.then(() =>
      CancellationScope.nonCancellable(() => notifier.notify(notification)).then(
        () => undefined,
        (e) => log.warn('notification not delivered', { event, error: innermostMessage(e) }),
      ),
    );
  }

  /** Ends the run with `outcome`, once every notification was delivered or given up on. */
  async close(outcome: Outcome): Promise<ReleaseResult> {
    const result = this.finish(outcome);
    await this.settled();
    return result;
  }

  /**
   * Resolves once the run has given back what it holds (even when cancelled) and every notification was delivered
   * or given up on. Every way a run ends passes here: `close`, and the failure and cancel path of sigRelease.
   */
  async settled(): Promise<void> {
    for (const giveBack of this.endings.splice(0)) await CancellationScope.nonCancellable(giveBack);
    return this.notices;
  }
}
