// dnf reposync, as data: the command line of one task, an incremental parser of what it prints, and the
// classification of how it ended. Pure; `runReposyncTask` feeds it the process output.
import path from 'node:path';
import type { ComposePlan, ReposyncProgress, ReposyncTask } from './types.js';
import type { TaskKind } from '../paths.js';

// ---------------------------------------------------------------------------------------------------------
// Command line

/**
 * Arches a binary/debug task keeps. `--forcearch` alone does not filter (repo-tools-on-debian.md §summary),
 * so we add `--arch`. x86_64 keeps i686 too: Peridot puts multilib i686 packages in x86_64 repos of projects
 * that enable multilib, and dropping them would publish metadata listing files we do not have.
 */
export function reposyncArchFilter(arch: string): string[] {
  return arch === 'x86_64' ? ['x86_64', 'i686', 'noarch'] : [arch, 'noarch'];
}

export interface ReposyncCommandInput {
  dnfConfigPath: string;
  /** Absolute destination folder: `<sigRoot>/<task.relDir>`. */
  destDir: string;
  /** Private rpm root holding the imported keys; required when the plan checks signatures. */
  rpmRoot: string | null;
  /** Absolute per-task dnf state folder (cache, logs, persist): parallel tasks never share a dnf lock. */
  stateDir: string;
}

/**
 * `dnf` arguments for one task (seed §6.2 step 6, §8 scenario 10):
 * `reposync --download-metadata --repoid=<section> -p <dest> [--forcearch A --arch A … --arch noarch]
 * --norepopath --remote-time --assumeyes [--gpgcheck --installroot=R] [--delete]`.
 * The source task has no `--forcearch`/`--arch` (seed `reposync-src.tmpl`).
 */
export function buildReposyncArgs(plan: Pick<ComposePlan, 'release' | 'gpgCheck' | 'cleanOldPackages'>, task: ReposyncTask, input: ReposyncCommandInput): string[] {
  if (plan.gpgCheck && !input.rpmRoot) throw new Error(`task ${task.name}: signature checking needs the private rpm root with the imported keys`);
  // Absolute, even with --installroot: dnf 4.14 then puts dnf.log under <root>/<state> but opens hawkey.log
  // and the repo cache at <state> itself, so the caller creates <state>/log beforehand.
  const state = input.stateDir;
  const args = [
    '-c', input.dnfConfigPath,
    // Silences "Unable to detect release version" and the platform-module warning (repo-tools §summary).
    `--releasever=${plan.release}`,
    `--setopt=module_platform_id=platform:el${plan.release}`,
    `--setopt=cachedir=${path.posix.join(state, 'cache')}`,
    `--setopt=logdir=${path.posix.join(state, 'log')}`,
    `--setopt=persistdir=${path.posix.join(state, 'persist')}`,
    'reposync',
    '--download-metadata',
    `--repoid=${task.section}`,
    '-p', input.destDir,
  ];
  if (task.kind !== 'source') {
    args.push('--forcearch', task.arch);
    for (const a of reposyncArchFilter(task.arch)) args.push('--arch', a);
  }
  args.push('--norepopath', '--remote-time', '--assumeyes');
  // reposync checks signatures only with the CLI flag, and only against the rpmdb of the install root.
  if (plan.gpgCheck && input.rpmRoot) args.push('--gpgcheck', `--installroot=${input.rpmRoot}`);
  if (plan.cleanOldPackages) args.push('--delete');
  return args;
}

// ---------------------------------------------------------------------------------------------------------
// Output parsing

const UNITS = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
/** dnf's format_number: 1024 steps, one decimal under 10 (`6.1 kB`, ` 12 kB`, `512  B`). */
export function parseDnfSize(number: string, unit: string): number {
  const i = UNITS.indexOf(unit);
  return Math.round(Number(number) * 1024 ** (i < 0 ? 0 : i));
}

// `<text> <rate>B/s | <size>B <time>`: dnf's end-of-download line (cli/progress.py `end`). The text is
// `(i/N): <file>` when the run has more than one file, else the bare file, truncated to 80 columns.
const FINISHED = /^(.*?)\s+[\d.]+\s*[kMGTPEZY]?B\/s\s*\|\s*([\d.]+)\s*([kMGTPEZY]?)B\s+(?:\d\d:)?\d\d:\d\d\s*$/;
const COUNTER = /^\((\d+)\/(\d+)\):\s*/;
const SKIPPED = /^\[SKIPPED\]\s+(.+?):\s+Already downloaded/;
const DELETED = /^\[DELETED\]\s+(.+?)\s*$/;
const FAILED = /^\[FAILED\]\s+(.+?):\s+(.*?)\s*$/;
const MIRROR = /^\[MIRROR\]\s+(.+?):\s+(.*?)\s*$/;
// reposync.py: `Removing {file}: {error}` after a failed signature check; the error is
// `Public key for X is not installed` or `Package X is not signed`.
const REMOVING = /^Removing\s+(.+?):\s+(.*?)\s*$/;
const NOTEWORTHY = /^(Error:|Errors during downloading|\s*- Curl error|Curl error|.*Status code: \d+|.*GPG|Unknown repo|No such command|Config error|.*is outside of download path)/;

export type OutputStream = 'stdout' | 'stderr';

/**
 * Reads reposync output chunk by chunk (both streams) and keeps the counters current. `metadataNames` are
 * the `name=` values of the sections (ours: the task name), so the metadata download line of a repo is not
 * taken for a package when a repo has a single package (dnf then prints no `(i/N)` counter).
 */
export class ReposyncOutputParser {
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly state: ReposyncProgress = { total: 0, downloaded: 0, skipped: 0, deleted: 0, bytes: 0, failedPackages: [], removedPackages: [] };
  private readonly removalReasons: string[] = [];
  private readonly notes: string[] = [];
  private mirrorErrors = 0;

  constructor(private readonly metadataNames: string[] = [], private readonly maxNotes = 40) {}

  /** Feeds a chunk; returns true when a counter changed (worth a heartbeat). */
  feed(stream: OutputStream, chunk: string): boolean {
    const text = this.partial[stream] + chunk;
    const lines = text.split(/\r\n|\n|\r/);
    this.partial[stream] = lines.pop() ?? '';
    let changed = false;
    for (const l of lines) changed = this.line(l) || changed;
    return changed;
  }

  /** Flushes the last unterminated lines (call when the process has exited). */
  end(): boolean {
    let changed = false;
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) changed = this.line(this.partial[s]) || changed;
      this.partial[s] = '';
    }
    return changed;
  }

  /** One complete line; returns true when a counter changed. */
  line(raw: string): boolean {
    const l = raw.trimEnd();
    if (!l) return false;
    let m: RegExpMatchArray | null;
    if ((m = l.match(SKIPPED))) {
      this.state.skipped++;
      return true;
    }
    if ((m = l.match(DELETED))) {
      this.state.deleted++;
      return true;
    }
    if ((m = l.match(FAILED))) {
      this.state.failedPackages.push(m[1]!);
      this.note(l);
      return true;
    }
    if ((m = l.match(MIRROR))) {
      this.mirrorErrors++;
      return false;
    }
    if ((m = l.match(REMOVING))) {
      this.state.removedPackages.push(m[1]!);
      this.removalReasons.push(m[2]!);
      this.note(l);
      return true;
    }
    if ((m = l.match(FINISHED))) {
      const text = m[1]!;
      const counter = text.match(COUNTER);
      if (counter) {
        this.state.total = Math.max(this.state.total, Number(counter[2]));
      } else if (this.isMetadataLine(text)) {
        return false;
      }
      this.state.downloaded++;
      this.state.bytes += parseDnfSize(m[2]!, m[3]!);
      return true;
    }
    if (NOTEWORTHY.test(l)) this.note(l);
    return false;
  }

  private isMetadataLine(text: string): boolean {
    const t = text.trim();
    return t.length > 0 && this.metadataNames.some((n) => n === t || n.startsWith(t));
  }

  private note(l: string): void {
    if (this.notes.length < this.maxNotes) this.notes.push(l.trim());
  }

  /** A copy of the counters; `total` is at least what was seen (all-skipped runs print no counter). */
  get progress(): ReposyncProgress {
    const s = this.state;
    const seen = s.downloaded + s.skipped + s.failedPackages.length;
    return { ...s, total: Math.max(s.total, seen), failedPackages: [...s.failedPackages], removedPackages: [...s.removedPackages] };
  }

  /** Error-ish lines worth classifying or quoting (`Error: …`, Curl errors, status codes, GPG). */
  get noteworthyLines(): string[] {
    return [...this.notes];
  }

  get reasonsForRemoval(): string[] {
    return [...this.removalReasons];
  }

  get mirrorErrorCount(): number {
    return this.mirrorErrors;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Outcome classification

export type ReposyncFailureType =
  | 'GpgKeyViolation'
  | 'PackageDownloadFailed'
  | 'UnknownRepo'
  | 'RepoNotFound'
  | 'RepoGpgVerificationFailed'
  | 'UnsafePackageLocation'
  | 'DnfConfigError'
  | 'ReposyncUnavailable'
  | 'MetadataDownloadFailed'
  | 'ReposyncFailed';

/** Failure types that no retry can fix: configuration, signatures, a repo that does not exist. */
export const NON_RETRYABLE_REPOSYNC_FAILURES: readonly ReposyncFailureType[] = [
  'GpgKeyViolation',
  'UnknownRepo',
  'RepoNotFound',
  'RepoGpgVerificationFailed',
  'UnsafePackageLocation',
  'DnfConfigError',
  'ReposyncUnavailable',
];

export type ReposyncOutcome =
  | { ok: true }
  | { ok: false; type: ReposyncFailureType; nonRetryable: boolean; reason: string; packages: string[] };

export interface ReposyncExit {
  kind: TaskKind;
  /** null when dnf was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  progress: ReposyncProgress;
  /** `ReposyncOutputParser.noteworthyLines` */
  noteworthyLines: string[];
  /** The task's baseurl, for messages. */
  baseUrl?: string;
}

function listNames(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function failure(type: ReposyncFailureType, reason: string, packages: string[] = []): ReposyncOutcome {
  return { ok: false, type, nonRetryable: NON_RETRYABLE_REPOSYNC_FAILURES.includes(type), reason, packages };
}

/**
 * How a reposync run ended (seed §6.2 step 7, §8 scenario 11), most specific evidence first:
 * packages removed by the signature check → `GpgKeyViolation` (every kind: the seed greps only binary/debug
 * logs, but its source task fails on the non-zero exit anyway); `[FAILED]` packages → `PackageDownloadFailed`
 * (retryable: a flaky build system), even with exit 0; then a non-zero exit, named by its error lines.
 */
export function classifyReposyncOutcome(exit: ReposyncExit): ReposyncOutcome {
  const { progress, noteworthyLines: notes } = exit;
  if (progress.removedPackages.length > 0) {
    return failure(
      'GpgKeyViolation',
      `${progress.removedPackages.length} package(s) failed the signature check and were removed: ${listNames(progress.removedPackages)} ` +
        '(is the SIG key in gpgKeys, and are the packages signed with it?)',
      progress.removedPackages,
    );
  }
  if (progress.failedPackages.length > 0) {
    return failure(
      'PackageDownloadFailed',
      `${progress.failedPackages.length} package(s) did not download: ${listNames(progress.failedPackages)}`,
      progress.failedPackages,
    );
  }
  if (exit.exitCode === 0 && !exit.signal) return { ok: true };

  const text = notes.join('\n');
  const has = (re: RegExp) => re.test(text);
  const firstError = notes.find((l) => l.startsWith('Error:')) ?? notes[notes.length - 1] ?? '';
  const how = exit.signal ? `dnf was killed by ${exit.signal}` : `dnf reposync exited with status ${exit.exitCode}`;
  const detail = firstError ? `: ${firstError}` : '';
  if (has(/Unknown repo/)) return failure('UnknownRepo', `${how}${detail}`);
  if (has(/No such command: reposync/)) return failure('ReposyncUnavailable', `${how}${detail} (install dnf-plugins-core)`);
  if (has(/is outside of download path/)) return failure('UnsafePackageLocation', `${how}${detail}`);
  if (has(/Config error|Parsing file .* failed|Error parsing/)) return failure('DnfConfigError', `${how}${detail}`);
  if (has(/Status code: 404 for \S*repomd\.xml/)) {
    return failure(
      'RepoNotFound',
      `${how}: the repository does not exist at ${exit.baseUrl ?? 'its URL'} (404 for repomd.xml); ` +
        'for --hashed, the hashed-<repo> variant must be created in Peridot first',
    );
  }
  if (has(/repomd\.xml GPG signature verification error|Bad GPG signature|GPG signature is not available|repomd\.xml\.asc/)) {
    return failure('RepoGpgVerificationFailed', `${how}${detail} (repo_gpgcheck: the repo metadata signature did not verify)`);
  }
  if (has(/Curl error|Cannot download repomd\.xml|Failed to download metadata|Cannot download|Status code: 5\d\d|timed out|Timeout/i)) {
    return failure('MetadataDownloadFailed', `${how}${detail}`);
  }
  return failure('ReposyncFailed', `${how}${detail}`);
}

// ---------------------------------------------------------------------------------------------------------

/** Keeps the last `size` lines of both output streams (the tail quoted in failure messages). */
export class LastLines {
  private readonly lines: string[] = [];
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  constructor(private readonly size = 15) {}
  push(stream: OutputStream, chunk: string): void {
    const parts = (this.partial[stream] + chunk).split(/\r\n|\n|\r/);
    this.partial[stream] = parts.pop() ?? '';
    for (const p of parts) this.add(p);
  }
  private add(l: string): void {
    if (!l.trim()) return;
    this.lines.push(l.trimEnd());
    if (this.lines.length > this.size) this.lines.shift();
  }
  get tail(): string[] {
    const out = [...this.lines];
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s].trim()) out.push(this.partial[s].trimEnd());
    return out.slice(-this.size);
  }
}
