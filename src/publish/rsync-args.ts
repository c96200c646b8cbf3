// rsync argument builders. Pure: every rsync command line the publish activities run is decided here.
//
// Mirror semantics follow the seed (`rsync -a --delete`, `--chown=10004:10005`; reference/seed-systems.md §2, §6.4)
// with what the seed lacks: -H (hard links survive), a partial dir (a killed attempt's finished files stay, and
// the retry skips them), --delay-updates where several files must appear together, and --max-delete as a backstop
// behind the deletion guard (the preview's exact count: if the source grew deletions since, rsync stops with 25).
import path from 'node:path';
import { ITEMIZE_OUT_FORMAT } from './itemize.js';
import type { Owner } from './types.js';

/** Where rsync keeps partially transferred files (and, with --delay-updates, finished ones until the end). */
export const PARTIAL_DIR = '.rsync-partial';
/** rsync's default --delay-updates dir, excluded in case another tool left one in a source tree. */
export const DELAY_UPDATES_DEFAULT_DIR = '.~tmp~';
/** rsync's own scratch dirs never travel from staging to production, and are never deleted on the target. */
export const SCRATCH_DIR_FILTERS: readonly string[] = [`- ${PARTIAL_DIR}/`, `- ${DELAY_UPDATES_DEFAULT_DIR}/`];

export interface RsyncMirrorOptions {
  /** Directory whose *contents* are mirrored (a trailing slash is added). Must be absolute. */
  source: string;
  /** Directory that becomes a copy of `source` (a trailing slash is added). Must be absolute. */
  target: string;
  owner?: Owner | null;
  dryRun?: boolean;
  /**
   * Deletion of extraneous target files: `during` (rsync's default order), `delay` (found during the
   * transfer, deleted after it: the target never lacks a file while the transfer still runs), or false.
   */
  delete?: false | 'during' | 'delay';
  /** Put updated files in place together at the end of the transfer. */
  delayUpdates?: boolean;
  /** Print one itemize line per changed entry in `ITEMIZE_OUT_FORMAT`. */
  itemize?: boolean;
  /** `--info=progress2` with a fixed total (`--no-inc-recursive`). */
  progress?: boolean;
  stats?: boolean;
  /** rsync filter rules (`- pattern`, `+ pattern`), in order; SCRATCH_DIR_FILTERS always come first. */
  filters?: readonly string[];
  /** `--max-delete=N`: rsync deletes at most N entries (dirs included) and exits 25 if it had to skip some. */
  maxDelete?: number;
  /** Compare by checksum instead of size and mtime (only for small file sets: it reads both sides). */
  checksum?: boolean;
  /** `--bwlimit` in KiB/s (tests slow a sync down with it). */
  bwlimitKiB?: number;
}

/** `dir/` exactly once: rsync copies a source dir's contents (not the dir itself) when it ends in a slash. */
export function withTrailingSlash(dir: string): string {
  return dir.replace(/\/+$/, '') + '/';
}

function assertAbsolute(what: string, p: string) {
  // A relative path with a colon (`host:dir`) would make rsync talk to a remote host; only absolute paths are taken.
  if (!path.isAbsolute(p)) throw new TypeError(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  if (p.includes('\n')) throw new TypeError(`${what} must not contain a newline: ${JSON.stringify(p)}`);
}

export function ownerArg(owner: Owner | null | undefined): string[] {
  if (!owner) return [];
  for (const [k, v] of Object.entries(owner)) {
    if (!Number.isInteger(v) || v < 0) throw new TypeError(`owner.${k} must be a non-negative integer, got ${String(v)}`);
  }
  return [`--chown=${owner.uid}:${owner.gid}`];
}

export function buildRsyncArgs(o: RsyncMirrorOptions): string[] {
  assertAbsolute('source', o.source);
  assertAbsolute('target', o.target);
  // --modify-window=-1: compare mtimes to the nanosecond. rsync's quick check otherwise compares whole seconds,
  // and a repomd.xml regenerated within the same second at the same size would be skipped as unchanged.
  const args = ['-a', '-H', '--modify-window=-1', ...ownerArg(o.owner)];
  // A dry run writes nothing, so it has no partial files to keep; given --partial-dir anyway, rsync 3.2's dry run
  // took twice as long on the bench's 50k tree (1.6 s against 0.8 s) with the same itemized list. The scratch
  // dirs' filters below stay either way: a real run's leftovers are neither listed nor deleted.
  if (!o.dryRun) args.push(`--partial-dir=${PARTIAL_DIR}`);
  if (o.checksum) args.push('--checksum');
  if (o.delayUpdates) args.push('--delay-updates');
  if (o.delete === 'during') args.push('--delete');
  else if (o.delete === 'delay') args.push('--delete-delay');
  if (o.maxDelete !== undefined) {
    if (!Number.isInteger(o.maxDelete) || o.maxDelete < 0) throw new TypeError(`maxDelete must be a non-negative integer, got ${o.maxDelete}`);
    args.push(`--max-delete=${o.maxDelete}`);
  }
  for (const rule of [...SCRATCH_DIR_FILTERS, ...(o.filters ?? [])]) args.push(`--filter=${rule}`);
  if (o.itemize) args.push(`--out-format=${ITEMIZE_OUT_FORMAT}`);
  if (o.progress) args.push('--info=progress2', '--no-inc-recursive');
  if (o.stats) args.push('--stats');
  if (o.bwlimitKiB !== undefined) args.push(`--bwlimit=${o.bwlimitKiB}`);
  if (o.dryRun) args.push('--dry-run');
  args.push(withTrailingSlash(o.source), withTrailingSlash(o.target));
  return args;
}

/** Dry run of a full mirror (`-a --delete`) that itemizes every change: the preview for staging and production. */
export function previewArgs(o: { source: string; target: string; owner?: Owner | null; filters?: readonly string[] }): string[] {
  return buildRsyncArgs({ ...o, dryRun: true, delete: 'during', itemize: true });
}

/** The staging sync: the whole SIG tree of the compose, deletions after the transfer, capped at the previewed count. */
export function stagingSyncArgs(o: { source: string; target: string; owner?: Owner | null; maxDelete: number; bwlimitKiB?: number }): string[] {
  return buildRsyncArgs({ ...o, delete: 'delay', progress: true, stats: true });
}
