// The approval gate's state and rules, in one small object (the shape of samples-typescript
// message-passing/safe-message-handlers): who may decide and when, what a decision records, when reminders
// fall due and when the gate closes. No Temporal calls in here, so every rule has a unit test without a
// server (test/gate/gate.test.ts); the workflow wires the messages to it and does the side effects.
import { markdownText } from '../src/markdown.js';
import { humanBytes } from '../src/publish/guard.js';
import type { Decision, PreviewSummary, RecordedDecision, Stage } from './messages.js';

/** What the site and the request say about deciding; known once the release is resolved. */
export interface GateRules {
  /** Names that may decide; empty: anyone who says who they are. */
  approvers: readonly string[];
  /** The request itself allows a deletion beyond the guard (`--allow-large-deletion` at start). */
  allowLargeDeletion: boolean;
}

/** What the gate needs to know about the run when a decision arrives. */
export interface RunView {
  stage: Stage;
  productionPreview: PreviewSummary | null;
}

export class ApprovalGate {
  decision: RecordedDecision | null = null;
  remindersSent = 0;
  /** ISO time after which nobody can decide any more (workflow clock); null until the gate opens. */
  deadline: string | null = null;
  rules: GateRules = { approvers: [], allowLargeDeletion: false };

  /** `title` names the release in every message: "core 9". */
  constructor(readonly title: string) {}

  /** Why `d` cannot be taken now, or null. Pure: update validators call it and must not change state. */
  refusal(d: Decision | undefined, approving: boolean, run: RunView): string | null {
    const done = this.decision;
    if (done) return `${this.title} was already ${done.approved ? 'approved' : 'rejected'} by ${done.by} at ${done.at}`;
    if (run.stage !== 'awaiting-approval') return `${this.title} is not waiting for approval (stage: ${run.stage})`;
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'say who decides: {"by": "<name>", "comment": "..."}';
    const allowed = this.rules.approvers;
    if (allowed.length > 0 && !allowed.includes(d.by.trim())) {
      return `"${d.by}" may not approve or reject ${this.title}; allowed approvers: ${allowed.join(', ')}`;
    }
    const guard = run.productionPreview?.guard;
    if (approving && guard && !guard.ok && d.allowLargeDeletion !== true && !this.rules.allowLargeDeletion) {
      return `the production preview tripped the deletion guard; approve with allowLargeDeletion: true if these deletions are intended. ${guard.reason ?? ''}`.trim();
    }
    return null;
  }

  /** Takes an accepted decision: who, when (workflow clock), why, and how it arrived. */
  record(d: Decision, approved: boolean, via: RecordedDecision['via'], at: string): RecordedDecision {
    this.decision = {
      by: d.by.trim(),
      ...(typeof d.comment === 'string' && d.comment !== '' ? { comment: d.comment } : {}),
      ...(d.allowLargeDeletion === true ? { allowLargeDeletion: true } : {}),
      approved,
      at,
      via,
    };
    return this.decision;
  }

  /** The warning `status` shows for a refused signal (a signal cannot be refused to its sender). */
  static ignoredSignal(d: Decision | undefined, approving: boolean, why: string): string {
    return `ignored ${approving ? 'approve' : 'reject'} signal from ${d?.by || '(nobody)'}: ${why}`;
  }
}

/** One wait at the gate: until `wakeAt` (ms, workflow clock); `closes` when that wake is the deadline. */
export interface GateWake {
  wakeAt: number;
  closes: boolean;
}

/**
 * When the gate wakes while nobody decides: reminder k at `opened + k × every`, never one at the deadline
 * itself (whatever a late timer does to the clock), and the last wake at the deadline. `every` ≤ 0: no reminders.
 */
export function* gateWakes(opened: number, every: number, deadline: number): Generator<GateWake, void, void> {
  const step = every > 0 ? every : Infinity;
  for (let reminderAt = opened + step; ; reminderAt += step) {
    const closes = reminderAt >= deadline;
    yield { wakeAt: Math.min(reminderAt, deadline), closes };
    if (closes) return;
  }
}

// --- what people read about the gate (Web UI details, notifications).

export function previewText(p: PreviewSummary): string {
  const rows = Object.entries(p.repos).map(
    ([repo, c]) => `| ${markdownText(repo)} | ${c.added.files} | ${c.changed.files} | ${c.deleted.files} | ${c.added.bytes + c.changed.bytes} |`,
  );
  const kept = (p.kept ?? []).map((k) => `${markdownText(k.dir)}/ (${k.files} files, ${humanBytes(k.bytes)})`);
  return [
    `Production will get ${p.added.files} new, ${p.changed.files} changed and ${p.deleted.files} deleted files (${p.added.bytes + p.changed.bytes} bytes).`,
    p.deleted.files > 0 ? `The deleted files hold ${humanBytes(p.deleted.bytes)}.` : '',
    kept.length ? `Kept (exist only in production, never deleted): ${kept.join(', ')}.` : '',
    p.guard.ok ? '' : `Deletion guard: ${p.guard.reason}`,
    '| repo | added | changed | deleted | bytes |',
    '|---|---|---|---|---|',
    ...rows,
  ]
    .filter(Boolean)
    .join('\n');
}

/** The request's weakened checks as a Markdown list after a heading line, or '' when there are none. */
export function overridesText(overrides: readonly string[]): string {
  return overrides.length ? `**This request weakens checks:**\n${overrides.map((o) => `- ${markdownText(o)}`).join('\n')}` : '';
}

export function howToDecide(release: string, sig: string): string {
  return `Approve with \`sigrelease approve ${release} ${sig} --comment "..."\` (or reject with \`sigrelease reject ${release} ${sig} --comment "..."\`).`;
}

export function decisionUsage(verb: 'Approve' | 'Reject'): string {
  return `${verb} the release waiting at the approval gate: {"by": "<name>", "comment": "...", "allowLargeDeletion": false}`;
}
