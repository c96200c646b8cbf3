// Stale snapshots made visible: for each repo a compose synced, the age of its source metadata (repomd.xml's
// revision and newest timestamp), flagged when it is older than `compose.staleAfter` or unchanged since the
// previous compose (a `--hashed` snapshot nobody refreshed goes through silently otherwise). Pure.

/** What a compose recorded of one repo's source metadata (in its manifest, `sourceMetadata`). */
export interface SourceMetadata {
  /** `x86_64/core-common`, as the compose's folders. */
  relDir: string;
  revision: string | null;
  /** Newest `<timestamp>` of repomd.xml's entries, seconds since the epoch. */
  timestamp: number | null;
  /** sha256 of the repomd.xml bytes (absent in older manifests): the next compose carries the folder over when upstream's is the same. */
  repomdSha256?: string | null;
  /** The compose this folder was carried over from, whole, without dnf (activities/composeReposync.ts). */
  carriedOverFrom?: string;
}

export interface RepoStaleness extends SourceMetadata {
  /** Milliseconds between the metadata's timestamp (else its revision, when a number) and `now`; null when neither is known. */
  ageMs: number | null;
  /** Revision and timestamp equal to the previous compose's for this repo. */
  unchangedSincePrevious: boolean;
  olderThanLimit: boolean;
}

export interface StaleReport {
  staleAfterMs: number;
  /** The compose compared with, when there was one with recorded metadata. */
  previousComposeId: string | null;
  repos: RepoStaleness[];
  /** Repos flagged for either reason. */
  flagged: number;
  /** Set instead of repos when the ages could not be read (the gate still opens). */
  problem?: string;
}

/** The revision is a time too in createrepo_c's default (seconds since the epoch). */
function sourceTimeMs(m: SourceMetadata): number | null {
  if (m.timestamp !== null) return m.timestamp * 1000;
  return m.revision !== null && /^\d{9,11}$/.test(m.revision) ? Number(m.revision) * 1000 : null;
}

export function assessStaleness(current: SourceMetadata[], previous: { composeId: string; repos: SourceMetadata[] } | null, nowMs: number, staleAfterMs: number): StaleReport {
  const before = new Map((previous?.repos ?? []).map((m) => [m.relDir, m]));
  const repos = [...current]
    .sort((a, b) => a.relDir.localeCompare(b.relDir))
    .map((m) => {
      const t = sourceTimeMs(m);
      const ageMs = t === null ? null : Math.max(0, nowMs - t);
      const p = before.get(m.relDir);
      const known = m.revision !== null || m.timestamp !== null;
      return { ...m, ageMs, unchangedSincePrevious: !!p && known && p.revision === m.revision && p.timestamp === m.timestamp, olderThanLimit: ageMs !== null && ageMs > staleAfterMs };
    });
  return { staleAfterMs, previousComposeId: previous && previous.repos.length > 0 ? previous.composeId : null, repos, flagged: repos.filter((r) => r.unchangedSincePrevious || r.olderThanLimit).length };
}

/** `3d 4h`, `5h 2m`, `40s`: two units at most, for people. */
export function formatAge(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  let left = ms;
  for (const [u, f] of units) {
    if (left >= f || (parts.length === 0 && u === 's')) {
      parts.push(`${Math.floor(left / f)}${u}`);
      left %= f;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** One line per repo, flagged ones marked; empty when nothing was recorded. */
export function staleLines(report: StaleReport): string[] {
  return report.repos.map((r) => {
    const flags = [r.olderThanLimit ? `older than ${formatAge(report.staleAfterMs)}` : '', r.unchangedSincePrevious ? `unchanged since ${report.previousComposeId}` : ''].filter(Boolean);
    const age = r.ageMs === null ? 'age unknown' : `${formatAge(r.ageMs)} old`;
    const carried = r.carriedOverFrom ? `, carried over from ${r.carriedOverFrom}` : '';
    return `${flags.length ? 'STALE ' : ''}${r.relDir}: metadata revision ${r.revision ?? '?'}, ${age}${carried}${flags.length ? ` (${flags.join('; ')})` : ''}`;
  });
}

/** The gate's paragraph: a headline when repos are flagged, then one line per repo. */
export function staleText(report: StaleReport | null | undefined): string {
  if (report?.problem) return report.problem;
  if (!report || report.repos.length === 0) return '';
  const head = report.flagged > 0 ? `**Stale source metadata: ${report.flagged} of ${report.repos.length} repos** (check the build system's snapshot before approving)` : `Source metadata of ${report.repos.length} repos:`;
  return [head, ...staleLines(report).map((l) => `- ${l}`)].join('\n');
}
