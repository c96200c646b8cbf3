// The approval gate's state and rules, in one small object (the shape of samples-typescript
// message-passing/safe-message-handlers): who may decide and when, what a decision records, when reminders
// fall due and when the gate closes. No Temporal calls in here, so every rule has a unit test without a
// server (test/gate/gate.test.ts); the workflow wires the messages to it and does the side effects.
import { markdownText } from '../src/markdown.js';
import type { Decision, PreviewSummary, RecordedDecision, Stage, Starter, VerifiedSigner } from './messages.js';
import { MAX_COMMENT, MAX_SIGNATURE, PRINCIPAL, signedAtProblem, signingHint, type DecisionSubject } from './signedMessages.js';
import { humanBytes } from '../src/publish/guard.js';

/** What the site and the request say about deciding; known once the release is resolved. */
export interface GateRules {
  /** Names that may decide; empty: anyone who says who they are. */
  approvers: readonly string[];
  /** The request itself allows a deletion beyond the guard (`--allow-large-deletion` at start). */
  allowLargeDeletion: boolean;
  /** approval.requireSignature: only a decision signed by a key in approval.allowedSigners counts. */
  requireSignature?: boolean;
  /** approval.forbidSelfApproval: whoever started the run may not approve it. */
  forbidSelfApproval?: boolean;
  /** Who started the run (null: not known, a run started before starts were recorded). */
  starter?: Starter | null;
  /** For the signing hint: `sigrelease approve <release> <sig>`. */
  release?: string;
  sig?: string;
}

/** What the gate needs to know about the run when a decision arrives. */
export interface RunView {
  stage: Stage;
  productionPreview: PreviewSummary | null;
  /** Workflow clock, ms (signed decisions only). */
  now?: number;
}

/** Reminders one gate sends at most; after them it waits for the deadline without posting. */
export const MAX_REMINDERS = 30;

/** Signature checks one gate runs at most. */
export const MAX_VERIFICATIONS = 50;

/** Refused-signal warnings kept in the status; the rest are only counted (a flood must not grow the state). */
export const MAX_REFUSAL_WARNINGS = 20;

export class ApprovalGate {
  decision: RecordedDecision | null = null;
  remindersSent = 0;
  /** ISO time after which nobody can decide any more (workflow clock); null until the gate opens. */
  deadline: string | null = null;
  rules: GateRules = { approvers: [], allowLargeDeletion: false };
  /** When the gate opened (workflow clock, ms); a signature older than that belongs to another decision. */
  openedAt: number | null = null;
  /** What a signed decision must name (null until the gate opens). */
  subject: DecisionSubject | null = null;
  /** Signature checks started at this gate: bounded, so that a flood of signals cannot start unbounded work. */
  verifications = 0;
  /** Distinct warnings about refused signals, at most MAX_REFUSAL_WARNINGS, and how many more there were. */
  readonly refusals: string[] = [];
  refusalsNotShown = 0;

  /** `title` names the release in every message: "core 9". */
  constructor(readonly title: string) {}

  /**
   * Why `d` cannot be taken now, or null. Pure: update validators call it and must not change state. `legacy`:
   * the rules of runs that took decisions before bounds and signatures existed (replay only).
   */
  refusal(d: Decision | undefined, approving: boolean, run: RunView, opts: { legacy?: boolean } = {}): string | null {
    const done = this.decision;
    if (done) return `${this.title} was already ${done.approved ? 'approved' : 'rejected'} by ${done.by} at ${done.at}`;
    if (run.stage !== 'awaiting-approval') return `${this.title} is not waiting for approval (stage: ${run.stage})`;
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'say who decides: {"by": "<name>", "comment": "..."}';
    const bounds = opts.legacy ? null : boundsProblem(d);
    if (bounds) return bounds;
    const allowed = this.rules.approvers;
    if (allowed.length > 0 && !allowed.includes(d.by.trim())) {
      return `"${d.by}" may not approve or reject ${this.title}; allowed approvers: ${allowed.join(', ')}`;
    }
    const guard = run.productionPreview?.guard;
    if (approving && guard && !guard.ok && d.allowLargeDeletion !== true && !this.rules.allowLargeDeletion) {
      return `the production preview tripped the deletion guard; approve with allowLargeDeletion: true if these deletions are intended. ${guard.reason ?? ''}`.trim();
    }
    if (opts.legacy) return null;
    if (this.verifications >= MAX_VERIFICATIONS) return `${this.title} has checked ${MAX_VERIFICATIONS} signatures at this gate already; no more are taken`;
    return this.signatureRefusal(d, approving, run);
  }

  /** The signature rules that need no verification: present when required, plausible, made for this gate. */
  private signatureRefusal(d: Decision, approving: boolean, run: RunView): string | null {
    const hint = this.signingHint(approving);
    if (d.signature === undefined) {
      if (this.rules.requireSignature) return `${this.title} takes only signed decisions (approval.requireSignature); ${hint}`;
      return null;
    }
    if (typeof d.signature !== 'string' || d.signature.length > MAX_SIGNATURE || !d.signature.includes('BEGIN SSH SIGNATURE')) {
      return `the signature is not an armored SSH signature (ssh-keygen -Y sign); ${hint}`;
    }
    if (this.openedAt !== null && run.now !== undefined) {
      const when = signedAtProblem(d.signedAt, this.openedAt, run.now);
      if (when) return `${when}; ${hint}`;
    }
    if (approving && this.rules.forbidSelfApproval && this.rules.requireSignature && this.rules.starter?.kind !== 'signed' && this.rules.starter?.kind !== 'schedule') {
      return `${this.title} was started without a signature, so nobody can approve it while self-approval is forbidden (approval.forbidSelfApproval); reject it and start a new run with \`sigrelease start --key ...\``;
    }
    return null;
  }

  /**
   * What the verified signature still has to pass: it must be by the named approver, and not by whoever started
   * the run when self-approval is forbidden. `signer` null: an unsigned decision on a site that allows them.
   */
  verifiedRefusal(d: Decision, approving: boolean, signer: VerifiedSigner | null): string | null {
    if (!signer) return this.rules.requireSignature ? `${this.title} takes only signed decisions (approval.requireSignature); ${this.signingHint(approving)}` : null;
    if (signer.principal !== d.by.trim()) return `the signature is by ${signer.principal}, but the decision says it is by ${d.by}; ${this.signingHint(approving)}`;
    const starter = this.rules.starter;
    if (approving && this.rules.forbidSelfApproval && starter?.kind === 'signed' && starter.principal === signer.principal) {
      return `${signer.principal} started ${this.title} and may not approve it too (approval.forbidSelfApproval); ask another approver`;
    }
    return null;
  }

  /**
   * A signature the worker could not verify (ssh-keygen's reason, or no allowed_signers), with the way to sign:
   * every refusal of an unsigned or badly signed decision tells the sender what to run instead.
   */
  unverifiedRefusal(problem: string, approving: boolean): string {
    return `${problem}; ${this.signingHint(approving)}`;
  }

  /** One line: the command that signs this decision, for this run's release and SIG. */
  signingHint(approving: boolean): string {
    return signingHint(approving ? 'approve' : 'reject', this.rules.release ?? '<release>', this.rules.sig ?? '<sig>');
  }

  /** Keeps a refused signal's warning once; past MAX_REFUSAL_WARNINGS only counts it. */
  noteRefusedSignal(warning: string): void {
    if (this.refusals.includes(warning)) return;
    if (this.refusals.length < MAX_REFUSAL_WARNINGS) this.refusals.push(warning);
    else this.refusalsNotShown++;
  }

  /** The refused-signal warnings as `status` shows them. */
  refusalWarnings(): string[] {
    return this.refusalsNotShown > 0 ? [...this.refusals, `${this.refusalsNotShown} more refused decision signals not shown`] : [...this.refusals];
  }

  /** Takes an accepted decision: who, when (workflow clock), why, and how it arrived. */
  record(d: Decision, approved: boolean, via: RecordedDecision['via'], at: string, signer?: VerifiedSigner | null): RecordedDecision {
    this.decision = {
      by: d.by.trim(),
      ...(typeof d.comment === 'string' && d.comment !== '' ? { comment: d.comment } : {}),
      ...(d.allowLargeDeletion === true ? { allowLargeDeletion: true } : {}),
      approved,
      at,
      via,
      ...(signer ? { signed: signer } : {}),
    };
    return this.decision;
  }

  /** The warning `status` shows for a refused signal (a signal cannot be refused to its sender). */
  static ignoredSignal(d: Decision | undefined, approving: boolean, why: string): string {
    return `ignored ${approving ? 'approve' : 'reject'} signal from ${shown(d?.by) || '(nobody)'}: ${why}`;
  }
}

/** Why a decision's fields are out of bounds, naming the field; null when they are not. */
export function boundsProblem(d: Decision): string | null {
  if (!PRINCIPAL.test(d.by.trim())) return `"by" must be a principal name (letters, digits and ._@-, at most 64 characters), got ${JSON.stringify(shown(d.by))}`;
  if (d.comment !== undefined && typeof d.comment !== 'string') return `"comment" must be text, got ${JSON.stringify(d.comment)}`;
  if (typeof d.comment === 'string' && d.comment.length > MAX_COMMENT) return `"comment" is ${d.comment.length} characters long; at most ${MAX_COMMENT} are kept`;
  if (d.allowLargeDeletion !== undefined && typeof d.allowLargeDeletion !== 'boolean') return `"allowLargeDeletion" must be true or false, got ${JSON.stringify(d.allowLargeDeletion)}`;
  return null;
}

/** At most 80 characters of a value people sent, for messages. */
function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v) ?? '';
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** One wait at the gate: until `wakeAt` (ms, workflow clock); `closes` when that wake is the deadline. */
export interface GateWake {
  wakeAt: number;
  closes: boolean;
}

/**
 * When the gate wakes while nobody decides: reminder k at `opened + k × every`, never one at the deadline
 * itself (whatever a late timer does to the clock), at most `maxReminders` of them, and the last wake at the
 * deadline. `every` ≤ 0: no reminders.
 */
export function* gateWakes(opened: number, every: number, deadline: number, maxReminders = Infinity): Generator<GateWake, void, void> {
  const step = every > 0 ? every : Infinity;
  let reminders = 0;
  for (let reminderAt = opened + step; ; reminderAt += step) {
    const closes = reminderAt >= deadline || reminders >= maxReminders;
    yield { wakeAt: closes ? deadline : reminderAt, closes };
    if (closes) return;
    reminders++;
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
  return `${verb} the release waiting at the approval gate: the JSON \`sigrelease ${verb.toLowerCase()} <release> <sig> --key <file> --print-signed\` prints ({"by", "comment", "signedAt", "signature"}); unsigned {"by": "<name>", "comment": "..."} only where the site does not require signatures`;
}
