// The traversal itself, shared by the single-threaded walk (walk.ts) and the parallel one (parallel.ts,
// walk-worker.ts): one TreeWalker applies the skip rules of reference §1.3 to both lists, whichever thread
// runs it and wherever in the tree it starts, so there is only one copy of the rules.
import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import {
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IRGRP,
  S_IROTH,
  filesRow,
  timelistTimestamp,
  timelistTimestampFromMs,
  timelistTimestampFromParts,
} from './format.js';
import { BadFileNameError, readDirectoryNames } from './names.js';
import { RAW_CTIME_NSEC, RAW_CTIME_SEC, RAW_MODE, RAW_MTIME_NSEC, RAW_MTIME_SEC, RAW_SIZE, rawLstatFor, type RawLstat } from './rawstat.js';
import type { TextSink } from './sink.js';

/** rsync --delay-updates scratch directory; skipped from the timelist at any depth. */
const RSYNC_TMP_DIR = '.~tmp~';
/** NFS silly-rename prefix; skipped from the timelist at any depth. */
const NFS_PREFIX = '.nfs';

/**
 * A directory where a walk starts: the root, or the top of a work unit of the parallel walk. Plain data,
 * so it can be posted to a worker thread.
 */
export interface StartFrame {
  /** Absolute path, no trailing `/`. */
  abs: string;
  /** Path relative to the root, `''` (the root) or ending in `/`. */
  rel: string;
  /** Whether the directory's entries belong in the timelist. */
  listed: boolean;
  /** Whether the directory or one above it lacks other-read. */
  restricted: boolean;
}

/**
 * Receives, instead of a walk into it, every subdirectory of the start frame (the parallel walk's planner:
 * each becomes a work unit). `row` is the directory's own timelist row, null when it is not listed.
 */
export type CutHandler = (dir: StartFrame, row: string | null) => void;

export interface TreeWalkerOptions {
  skipTopLevel: (name: string) => boolean;
  checksumNames: ReadonlySet<string>;
  warn: (message: string) => void;
  /** chdir walk (main thread only, see GenerateFileListsOptions.chdir). */
  chdir: boolean;
  rawLstat: boolean;
  /**
   * lstat paths relative to the root, the process's working directory (the parallel walk of the CLI: see
   * ParallelWalkOptions.cwdIsRoot): fewer path components for the kernel to look up than absolute paths.
   */
  fromRoot?: boolean;
  /** Where to start; default the root. */
  start?: StartFrame;
  /** Set: do not descend, hand each subdirectory of the start frame to this instead. */
  cut?: CutHandler | null;
}

interface DirFrame {
  /** Absolute path ending in `/`. */
  abs: string;
  /** Path relative to the root, `''` or ending in `/`. */
  rel: string;
  names: string[];
  next: number;
  /** Whether this directory's entries belong in the timelist (false below skipped entries). */
  listed: boolean;
  /** Whether this directory or one above it lacks other-read: children get `*`. */
  restricted: boolean;
  /** This directory's own row, written once its contents are (post-order). */
  row: string | null;
}

/**
 * The traversal state, advanced a slice at a time. The hot loop is a plain synchronous method with its
 * counters in locals, which V8 runs markedly faster than the same loop inside an async function.
 */
export class TreeWalker {
  entries = 0;
  filelistEntries = 0;
  warnings = 0;
  readonly checksumPaths: string[] = [];
  private readonly stack: DirFrame[];
  /** The root's frame when the walk starts there (top-level skip names apply only to it), else null. */
  private readonly topFrame: DirFrame | null;
  private readonly skipTop: (name: string) => boolean;
  private readonly checksumNames: ReadonlySet<string>;
  private readonly warn: (message: string) => void;
  private readonly cut: CutHandler | null;
  /** The working directory to return to, when walking by chdir; null when lstat gets absolute paths. */
  private readonly home: string | null;
  /** The frame whose directory is the current working directory, during a slice. */
  private cwdFrame: DirFrame | null = null;
  /** Allocation-free lstat, or null to use fs.lstatSync. */
  private readonly rawLstat: RawLstat | null;
  /** lstat `rel` (the working directory is the root) instead of the absolute path. */
  private readonly fromRoot: boolean;

  constructor(
    private readonly root: string,
    private readonly tl: TextSink,
    private readonly fl: TextSink | null,
    opts: TreeWalkerOptions,
  ) {
    this.skipTop = opts.skipTopLevel;
    this.checksumNames = opts.checksumNames;
    this.warn = opts.warn;
    this.cut = opts.cut ?? null;
    this.home = opts.chdir && isMainThread ? currentDirectory() : null;
    this.rawLstat = opts.rawLstat ? rawLstatFor(root) : null;
    this.fromRoot = this.home === null && opts.fromRoot === true;
    const start = opts.start ?? { abs: root, rel: '', listed: true, restricted: false };
    // The start directory's own row is its parent's business (the caller's, for a work unit).
    const frame: DirFrame = {
      abs: `${start.abs}/`,
      rel: start.rel,
      names: this.readNames(start.abs, start.rel, start.listed),
      next: 0,
      listed: start.listed,
      restricted: start.restricted,
      row: null,
    };
    this.topFrame = start.rel === '' ? frame : null;
    this.stack = [frame];
  }

  get done(): boolean {
    return this.stack.length === 0;
  }

  /** Handles up to `budget` names, stopping early once `stopAtEntries` rows have been written. */
  runSlice(budget: number, stopAtEntries: number): void {
    const { stack, tl, fl, topFrame, checksumNames, rawLstat } = this;
    let entries = this.entries;
    let filelistEntries = this.filelistEntries;
    try {
      while (stack.length > 0 && budget > 0 && entries < stopAtEntries) {
        const frame = stack[stack.length - 1]!;
        if (frame.next >= frame.names.length) {
          stack.pop();
          if (frame.row !== null) tl.write(frame.row);
          continue;
        }
        budget--;
        const name = frame.names[frame.next++]!;
        if (frame === topFrame && this.skipTop(name)) continue;

        const rel = frame.rel + name;
        if (fl !== null) {
          fl.write(`./${rel}\n`);
          filelistEntries++;
        }
        let statPath = name;
        if (this.home !== null) {
          if (this.cwdFrame !== frame && !this.enter(frame, rel)) continue;
        } else {
          statPath = this.fromRoot ? rel : frame.abs + name;
        }
        let mode: number;
        let size: number | bigint;
        let timestamp: number | null;
        try {
          if (rawLstat !== null) {
            const raw = rawLstat(statPath);
            // Gone between readdir and lstat: nothing to list (find would have printed the name, and so did we).
            if (raw === undefined) continue;
            mode = raw[RAW_MODE]!;
            size = raw[RAW_SIZE]!;
            timestamp = timelistTimestampFromParts(raw[RAW_MTIME_SEC]!, raw[RAW_MTIME_NSEC]!, raw[RAW_CTIME_SEC]!, raw[RAW_CTIME_NSEC]!);
          } else {
            const st = fs.lstatSync(statPath, { throwIfNoEntry: false });
            if (st === undefined) continue;
            mode = st.mode;
            size = st.size;
            timestamp = timelistTimestampFromMs(st.mtimeMs, st.ctimeMs);
          }
        } catch (err) {
          this.statFailed(frame, rel, err);
          continue;
        }
        const fmt = mode & S_IFMT;
        const isDir = fmt === S_IFDIR;

        // Below a skipped directory only the plain list (which skips nothing) has anything to collect.
        if (!frame.listed || name === RSYNC_TMP_DIR || name.startsWith(NFS_PREFIX)) {
          if (isDir && fl !== null) this.descend(frame.abs + name, rel, false, false, null);
          continue;
        }

        // Group-read is tested on the target: a link to an unreadable file is skipped like the file.
        let targetMode = mode;
        if (fmt === S_IFLNK) {
          const target = this.followLink(statPath, rel);
          if (target === null) continue;
          targetMode = target;
        }
        if ((targetMode & S_IRGRP) === 0) {
          if (isDir && fl !== null) this.descend(frame.abs + name, rel, false, false, null);
          continue;
        }

        if (timestamp === null) {
          // Within microseconds of a second boundary (rare): only nanoseconds give the peer's rounding.
          const exact = fs.lstatSync(statPath, { bigint: true, throwIfNoEntry: false });
          if (exact === undefined) continue;
          timestamp = timelistTimestamp(exact.mtimeNs, exact.ctimeNs);
          size = exact.size;
        }
        const row = filesRow(timestamp, mode, frame.restricted, size, rel);
        entries++;
        if (isDir) {
          this.descend(frame.abs + name, rel, true, frame.restricted || (mode & S_IROTH) === 0, row);
        } else {
          tl.write(row);
          if ((targetMode & S_IFMT) === S_IFREG && checksumNames.has(name)) this.checksumPaths.push(rel);
        }
      }
    } finally {
      this.entries = entries;
      this.filelistEntries = filelistEntries;
      if (this.cwdFrame !== null) {
        this.cwdFrame = null;
        process.chdir(this.home!);
      }
    }
  }

  /** chdir into the frame's directory; false (rest of the frame skipped, with a warning) when that fails. */
  private enter(frame: DirFrame, rel: string): boolean {
    try {
      process.chdir(frame.abs);
    } catch (err) {
      this.statFailed(frame, rel, err);
      frame.next = frame.names.length;
      return false;
    }
    this.cwdFrame = frame;
    return true;
  }

  /** lstat failed with something other than ENOENT (e.g. EACCES): fatal for the timelist, a warning below skips. */
  private statFailed(frame: DirFrame, rel: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (frame.listed) {
      throw new Error(
        `Cannot list ./${rel} under ${this.root}: lstat failed (${code}). ` +
          'Run the generation as a user that can read the whole published tree.',
      );
    }
    this.warnings++;
    this.warn(`Could not lstat ./${rel} (${code}); listed in the plain list only by name.`);
  }

  /** The mode a symlink points to, or null (with the peer's warning) when it dangles. */
  private followLink(abs: string, rel: string): number | null {
    try {
      return fs.statSync(abs).mode;
    } catch {
      this.warnings++;
      this.warn(`Could not stat ./${rel}.  Dangling symlink?`);
      return null;
    }
  }

  /** Walks into a subdirectory next (its row is written when its frame is popped), or hands it to `cut`. */
  private descend(abs: string, rel: string, listed: boolean, restricted: boolean, row: string | null): void {
    if (this.cut !== null) {
      this.cut({ abs, rel: `${rel}/`, listed, restricted }, row);
      return;
    }
    this.stack.push({ abs: `${abs}/`, rel: `${rel}/`, names: this.readNames(abs, `${rel}/`, listed), next: 0, listed, restricted, row });
  }

  /** Names of a directory in byte order; unreadable directories outside the timelist only warn, like find. */
  private readNames(abs: string, rel: string, listed: boolean): string[] {
    try {
      return readDirectoryNames(abs, rel, this.root);
    } catch (err) {
      if (err instanceof BadFileNameError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (!listed) {
        this.warnings++;
        this.warn(`Could not read directory ./${rel} (${code}); its contents are missing from the plain list.`);
        return [];
      }
      throw new Error(
        `Cannot list ./${rel} under ${this.root}: reading the directory failed (${code}). ` +
          'Run the generation as a user that can read the whole published tree.',
      );
    }
  }
}

/** What a walk started at a work unit reports back (walk-worker.ts posts it to the main thread). */
export interface UnitResult {
  entries: number;
  filelistEntries: number;
  /** The warning messages, in walk order (the main thread replays them in unit order). */
  warnings: string[];
  checksumPaths: string[];
}

export interface WalkUnitOptions {
  root: string;
  start: StartFrame;
  checksumNames: ReadonlySet<string>;
  rawLstat: boolean;
  /** See TreeWalkerOptions.fromRoot. */
  fromRoot?: boolean;
  /** Called with the unit's rows so far, about every `progressEvery` rows (walkUnit). */
  onProgress?: (entries: number) => void;
  progressEvery: number;
}

/** A walker started at a work unit, collecting its warnings: the worker drives it to the end, the main thread in slices. */
export function unitWalker(tl: TextSink, fl: TextSink | null, opts: WalkUnitOptions): { walker: TreeWalker; warnings: string[] } {
  const warnings: string[] = [];
  const walker = new TreeWalker(opts.root, tl, fl, {
    skipTopLevel: () => false,
    checksumNames: opts.checksumNames,
    warn: (m) => warnings.push(m),
    chdir: false, // chdir would move the whole process, other threads included
    rawLstat: opts.rawLstat,
    fromRoot: opts.fromRoot ?? false,
    start: opts.start,
  });
  return { walker, warnings };
}

/**
 * Walks one work unit to the end, synchronously (a worker thread has nothing else to do), with absolute
 * paths. The unit directory's own row and line are not written: they are its parent's.
 */
export function walkUnit(tl: TextSink, fl: TextSink | null, opts: WalkUnitOptions): UnitResult {
  const { walker, warnings } = unitWalker(tl, fl, opts);
  let nextProgress = opts.progressEvery;
  while (!walker.done) {
    walker.runSlice(Number.POSITIVE_INFINITY, nextProgress);
    if (walker.entries >= nextProgress) {
      nextProgress += opts.progressEvery;
      opts.onProgress?.(walker.entries);
    }
  }
  tl.flush();
  fl?.flush();
  return { entries: walker.entries, filelistEntries: walker.filelistEntries, warnings, checksumPaths: walker.checksumPaths };
}

/** process.cwd(), or null when it has been deleted (then there is nowhere safe to return to). */
function currentDirectory(): string | null {
  try {
    return process.cwd();
  } catch {
    return null;
  }
}
