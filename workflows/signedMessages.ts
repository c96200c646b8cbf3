// The exact bytes a person signs with `ssh-keygen -Y sign` to approve, reject or start a release, built by one
// function each so that the signer (our CLI), the verifier (the checkSignedDecision activity) and the tests
// cannot disagree. A decision names this run, this compose and what the production preview said it would do,
// so a signature for another run, compose, preview or verdict never verifies here. Pure: the workflow, the
// activities and the CLI import it.
import type { PreviewSummary } from './messages.js';

/** `ssh-keygen -n`: a decision signature is good for nothing else (not git, not a file, not a start). */
export const DECISION_NAMESPACE = 'sigrelease-decision';
export const START_NAMESPACE = 'sigrelease-start';

/** Who may be named in `by` and in allowed_signers: letters, digits and `._@-`, at most 64 characters. */
export const PRINCIPAL = /^[A-Za-z0-9._@-]{1,64}$/;
export const MAX_COMMENT = 2000;
/** An armored SSH signature of an Ed25519 or RSA-4096 key is well under this. */
export const MAX_SIGNATURE = 8192;
/** How far a signature's time may be ahead of the workflow clock (clocks of people's machines drift). */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** How long before the run started a signed start may have been made. */
export const START_SIGNATURE_MAX_AGE_MS = 15 * 60_000;

/** What the run shows at the gate and a signer binds: the status query's `signing` field. */
export interface DecisionSubject {
  workflowId: string;
  runId: string;
  composeId: string;
  /** The production preview's counts. */
  preview: PreviewCounts;
  /** The staging tree's digest the gate bound the approval to (workflows/approvedStaging.ts); absent in older runs. */
  stagingDigest?: string;
}
export interface PreviewCounts {
  added: { files: number; bytes: number };
  changed: { files: number; bytes: number };
  deleted: { files: number; bytes: number };
}

/** The signed part of a decision as the person sends it (besides the signature itself). */
export interface DecisionClaims {
  by: string;
  comment?: string;
  allowLargeDeletion?: boolean;
  /** ISO time the signer's machine made the signature. */
  signedAt: string;
}

export type Verdict = 'approve' | 'reject';

export function previewCounts(p: PreviewSummary): PreviewCounts {
  const c = (x: { files: number; bytes: number }) => ({ files: x.files, bytes: x.bytes });
  return { added: c(p.added), changed: c(p.changed), deleted: c(p.deleted) };
}

/** The bytes signed for a decision: one line of JSON, keys in a fixed order, every field present. */
export function decisionMessage(subject: DecisionSubject, verdict: Verdict, claims: DecisionClaims): string {
  return (
    JSON.stringify({
      kind: DECISION_NAMESPACE,
      version: 1,
      workflowId: subject.workflowId,
      runId: subject.runId,
      composeId: subject.composeId,
      preview: subject.preview,
      // Only when the run took one, so a decision signed for an older run's subject still verifies.
      ...(subject.stagingDigest !== undefined ? { stagingDigest: subject.stagingDigest } : {}),
      verdict,
      by: claims.by,
      comment: claims.comment ?? '',
      allowLargeDeletion: claims.allowLargeDeletion === true,
      signedAt: claims.signedAt,
    }) + '\n'
  );
}

/** What a signed start binds: the workflow ID and the request exactly as started (no run ID exists yet). */
export interface StartClaims {
  by: string;
  signedAt: string;
}

/** The bytes signed for a start. The request's keys are sorted, so the same request always signs the same. */
export function startMessage(workflowId: string, request: Record<string, unknown>, claims: StartClaims): string {
  return JSON.stringify({ kind: START_NAMESPACE, version: 1, workflowId, request: sortedKeys(request), by: claims.by, signedAt: claims.signedAt }) + '\n';
}

function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Why a signature's time cannot belong to a decision taken now at a gate that opened at `opened`, or null. */
export function signedAtProblem(signedAt: unknown, opened: number, now: number): string | null {
  const t = typeof signedAt === 'string' && /^\d{4}-\d\d-\d\dT/.test(signedAt) ? Date.parse(signedAt) : NaN;
  if (!Number.isFinite(t)) return `signedAt ${JSON.stringify(signedAt)} is not an ISO time`;
  if (t < opened - CLOCK_SKEW_MS) return `signed at ${signedAt}, before this gate opened (${new Date(opened).toISOString()}): a signature from an earlier decision`;
  if (t > now + CLOCK_SKEW_MS) return `signed at ${signedAt}, in the future (workflow clock ${new Date(now).toISOString()})`;
  return null;
}

/** How to sign, in one line, for refusals. */
export function signingHint(verb: Verdict, release: string, sig: string): string {
  return `sign it: \`sigrelease ${verb} ${release} ${sig} --key ~/.ssh/id_ed25519 --comment "..."\` (add --print-signed for the Web UI or \`temporal workflow signal --input\`)`;
}
