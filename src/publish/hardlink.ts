// util-linux `hardlink` (2.38) command line and summary parsing. Pure.
// The seed runs `hardlink -x '.*\.xml.*' <production>/mirror/pub/sig/<rel>` over every SIG of a release
// (reference/seed-systems.md §2 stage 4). The regex is matched against the full path, so any path containing
// ".xml" (repomd.xml, *.xml.gz, *.xml.asc, comps*.xml) is never linked. Summary format: repo-tools-on-debian.md §8.
import path from 'node:path';

export const DEFAULT_HARDLINK_EXCLUDE = '.*\\.xml.*';

export function hardlinkArgs(dir: string, excludeRegex: string = DEFAULT_HARDLINK_EXCLUDE, opts: { dryRun?: boolean } = {}): string[] {
  if (!path.isAbsolute(dir)) throw new TypeError(`hardlink dir must be an absolute path, got ${JSON.stringify(dir)}`);
  if (excludeRegex === '') throw new TypeError('excludeRegex must not be empty (it would exclude nothing or everything, depending on the build)');
  return [...(opts.dryRun ? ['--dry-run'] : []), '--exclude', excludeRegex, '--', dir];
}

export interface HardlinkSummary {
  /** `Files:` files considered (after excludes). */
  files: number;
  /** `Linked: N files`. */
  linked: number;
  /** `Saved:` converted to bytes (hardlink prints 3 significant digits, e.g. `150.11 KiB`). */
  savedBytes: number;
  /** `Saved:` as printed. */
  saved: string;
  dryRun: boolean;
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, PiB: 1024 ** 5, EiB: 1024 ** 6 };

/** Parses a size as util-linux prints it (`0 B`, `4.88 KiB`, `1.2 GiB`). */
export function parseHumanSize(s: string): number | null {
  const m = /^\s*([\d.]+)\s*([KMGTPE]iB|B)?\s*$/.exec(s);
  if (!m?.[1]) return null;
  const factor = UNITS[m[2] ?? 'B'];
  return factor === undefined ? null : Math.round(Number(m[1]) * factor);
}

/** Parses hardlink's summary. Throws when the `Linked:` line is missing (another hardlink implementation?). */
export function parseHardlinkSummary(stdout: string): HardlinkSummary {
  const field = (label: string) => new RegExp(`^${label}:\\s+(.*?)\\s*$`, 'm').exec(stdout)?.[1];
  const linked = /^Linked:\s+(\d+)\s+files?\s*$/m.exec(stdout)?.[1];
  if (linked === undefined) {
    throw new Error(
      `hardlink printed no "Linked: N files" line; expected util-linux hardlink (2.36 or later). Output was:\n${stdout.slice(0, 2000)}`,
    );
  }
  const saved = field('Saved') ?? '0 B';
  return {
    files: Number(field('Files') ?? 0),
    linked: Number(linked),
    savedBytes: parseHumanSize(saved) ?? 0,
    saved,
    dryRun: /^Mode:\s+dry-run/m.test(stdout),
  };
}
