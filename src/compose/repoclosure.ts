// Reading `dnf repoclosure` output (repo-tools-on-debian.md §5). Pure. The seed had `--repoclosure` but
// never ran it (reference/seed-systems.md §3); here it is an optional verification step.

/**
 * Problems found by one repoclosure run, one per unresolved dependency:
 * `repoclosure: needy-1.0-1.aarch64 needs libmissing.so.1()(64bit)`. A failure without a report (dnf could not
 * run, metadata unreadable) is one problem quoting dnf's error line.
 */
export function parseRepoclosureOutput(exitCode: number | null, output: string): string[] {
  const problems: string[] = [];
  let pkg: string | null = null;
  let inDeps = false;
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const p = /^package:\s+(\S+)\s+from\s+\S+/.exec(line);
    if (p) {
      pkg = p[1]!;
      inDeps = false;
      continue;
    }
    if (/^\s+unresolved deps/.test(line)) {
      inDeps = true;
      continue;
    }
    if (inDeps && pkg && /^\s{3,}\S/.test(line)) {
      problems.push(`repoclosure: ${pkg} needs ${line.trim()}`);
      continue;
    }
    inDeps = false;
  }
  if (exitCode !== 0 && problems.length === 0) {
    const err = output.split(/\r?\n/).find((l) => l.startsWith('Error:')) ?? output.trim().split(/\r?\n/).slice(-1)[0] ?? '';
    problems.push(`repoclosure could not run (exit ${exitCode ?? 'killed'}): ${err.trim()}`);
  }
  return problems;
}
