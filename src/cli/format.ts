// Human-readable status: the stage, compose progress (bars on a terminal) and the production preview.
import type { PreviewSummary, ReleaseStatus } from '../../workflows/messages.js';
import { humanBytes } from '../publish/guard.js';
import { staleText } from '../compose/staleness.js';

export function formatStatus(st: ReleaseStatus, opts: { tty?: boolean } = {}): string {
  const mode = st.mode && st.mode !== 'release' ? ` [${st.mode === 'rollback' ? `rollback to ${st.rollbackTo}` : st.mode}]` : '';
  const out = [`${st.sig} ${st.release}${mode}: ${st.stage} (since ${st.stageSince})`];
  if (st.startedBy) out.push(`started by ${starterText(st.startedBy)}`);
  if (st.pipelineTurn) out.push(turnText(st.pipelineTurn, `${st.sig} ${st.release}`));
  if (st.compose) {
    const done = st.compose.tasks.filter((t) => t.state === 'done').length;
    out.push(`compose ${st.compose.composeId}: ${done}/${st.compose.tasks.length} tasks done${st.compose.composeDir ? ` in ${st.compose.composeDir}` : ''}`);
    if (opts.tty) out.push(bar(done, st.compose.tasks.length));
    for (const t of st.compose.tasks.filter((x) => x.state !== 'done')) out.push(`  ${t.state.padEnd(8)} ${t.name}${t.error ? `: ${t.error.split('\n')[0]}` : ''}`);
  } else if (st.composeWorkflowId) {
    out.push(`compose: workflow ${st.composeWorkflowId}`);
  }
  if (st.requestOverrides?.length) {
    out.push('this request weakens checks:');
    for (const o of st.requestOverrides) out.push(`  ${o}`);
  }
  const stale = staleText(st.sourceMetadata);
  if (stale) out.push(stale.replace(/\*\*/g, '').replace(/^- /gm, '  '));
  if (st.stagingPreview) out.push(`staging: ${previewLine(st.stagingPreview)}`);
  if (st.productionPreview) {
    out.push(`production will get: ${previewLine(st.productionPreview)}`);
    out.push(previewTable(st.productionPreview));
    for (const k of st.productionPreview.kept ?? []) out.push(`  kept: ${k.dir}/ (${k.files} files, ${humanBytes(k.bytes)}): exists only in production, never deleted`);
    if (!st.productionPreview.guard.ok) out.push(`DELETION GUARD: ${st.productionPreview.guard.reason}`);
  }
  if (st.fingerprint) {
    out.push(`approval binds to compose ${st.fingerprint.composeId}, staging digest ${st.fingerprint.stagingDigest} (${st.fingerprint.stagingEntries} entries)`);
  }
  if (st.stage === 'awaiting-approval') {
    out.push(`waiting for approval until ${st.approvalDeadline} (${st.remindersSent} reminders sent)`);
    out.push(`  sigrelease approve ${st.release} ${st.sig} --key ~/.ssh/id_ed25519 --comment "..."   |   sigrelease reject ${st.release} ${st.sig} --key ~/.ssh/id_ed25519 --comment "..."`);
  }
  if (st.deletionsAt) out.push(`new metadata is live in production; what left staging stays there until ${st.deletionsAt} (publish.metadataGrace)`);
  if (st.decision) out.push(`${st.decision.approved ? 'approved' : 'rejected'} by ${st.decision.by} at ${st.decision.at} via ${st.decision.via}${st.decision.signed ? ` (signed, key ${st.decision.signed.keyFingerprint})` : ''}${st.decision.comment ? `: ${st.decision.comment}` : ''}`);
  if (st.error) out.push(`error: ${st.error}`);
  for (const w of st.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

/** The run's turn at its SIG and release (workflows/pipelineTurn.ts): held, or refused/skipped naming the holder. */
function turnText(t: NonNullable<ReleaseStatus['pipelineTurn']>, title: string): string {
  if (t.state === 'held') return `holds the pipeline turn of ${title} (${t.turnWorkflowId}): no other run of ${title} may compose or stage until this one ends`;
  const h = t.holder;
  return `${t.state}: another pipeline of ${title} holds the turn: workflow ${h?.workflowId ?? '?'} (run ${h?.runId ?? '?'}, since ${h?.since ?? '?'})`;
}

function starterText(s: NonNullable<ReleaseStatus['startedBy']>): string {
  if (s.kind === 'signed') return `${s.principal} (signed, key ${s.keyFingerprint})`;
  if (s.kind === 'schedule') return `schedule ${s.scheduleId}`;
  return `an unsigned start${s.claimed ? ` (says ${s.claimed})` : ''}`;
}

function previewLine(p: PreviewSummary): string {
  return `${p.added.files} new, ${p.changed.files} changed, ${p.deleted.files} deleted (${humanBytes(p.added.bytes + p.changed.bytes)} to copy, ${humanBytes(p.deleted.bytes)} to delete); full list: ${p.reportFile}`;
}

export function previewTable(p: PreviewSummary): string {
  const rows = Object.entries(p.repos).sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(4, ...rows.map(([r]) => r.length));
  return [
    `  ${'repo'.padEnd(w)}  added  changed  deleted  bytes`,
    ...rows.map(([r, c]) => `  ${r.padEnd(w)}  ${String(c.added.files).padStart(5)}  ${String(c.changed.files).padStart(7)}  ${String(c.deleted.files).padStart(7)}  ${humanBytes(c.added.bytes + c.changed.bytes)}`),
  ].join('\n');
}

export function bar(done: number, total: number, width = 30): string {
  const f = total === 0 ? width : Math.round((done / total) * width);
  return `  [${'#'.repeat(f)}${'.'.repeat(width - f)}] ${done}/${total}`;
}
