// Ends `./dev test`: prints the one line CI reads, "N passed, N failed[, N skipped]", and exits non-zero when
// anything failed. Anything that makes the run fail counts, so the line and the exit status never disagree:
//   - a failed test;
//   - a test file that failed to load or whose hooks failed (no failed test of its own): one each;
//   - vitest exiting non-zero with none of the above (an unhandled error, a crash of its main process): one;
//   - the type check failing: one;
//   - no report at all: one.
// usage: node scripts/test-summary.mjs <vitest.json> <vitest exit status> <type-check exit status>
import { readFileSync } from 'node:fs';

export function summarize(report, vitestStatus, typecheckStatus) {
  const typecheck = typecheckStatus !== 0 ? 1 : 0;
  if (report === undefined) {
    return { passed: 0, failed: 1 + typecheck, skipped: 0, notes: ['no test report was written (vitest did not finish)'] };
  }
  const notes = [];
  const files = report.testResults ?? [];
  const brokenFiles = files.filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  let failed = (report.numFailedTests ?? 0) + brokenFiles;
  if (failed === 0 && vitestStatus !== 0) {
    failed = 1;
    notes.push(`vitest exited ${vitestStatus} without a failed test: an unhandled error or a crash (see its output above)`);
  }
  if (typecheck) notes.push('the type check (tsc --noEmit) failed');
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  return { passed: report.numPassedTests ?? 0, failed: failed + typecheck, skipped, notes };
}

export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '');
}

function main([path, vitestStatus, typecheckStatus]) {
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    report = undefined;
  }
  const summary = summarize(report, Number(vitestStatus), Number(typecheckStatus));
  for (const note of summary.notes) console.log(note);
  console.log(summaryLine(summary));
  process.exitCode = summary.failed > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
