// One traversal writes both lists: the `fullfiletimelist` (post-order, skip rules of reference §1.3) and
// the plain `fullfilelist` exactly as Rocky's `find .` has it (pre-order, nothing skipped, §1.8).
// Names are visited in byte order so the output only changes when the tree does.
// Large trees are walked by worker threads in subtree units (parallel.ts); the bytes are the same.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { checksumSections } from './checksums.js';
import {
  DEFAULT_CHECKSUM_ALGORITHMS,
  TIMELIST_HEADER,
  TIMELIST_TRAILER,
  formatChecksumSections,
  type ChecksumAlgorithm,
} from './format.js';
import { walkInParallel } from './parallel.js';
import type { TextSink } from './sink.js';
import { TreeWalker } from './walker.js';

export const DEFAULT_CHECKSUM_NAMES: readonly string[] = ['repomd.xml'];

export interface GenerateFileListsOptions {
  /** Directory to scan; paths in the lists are relative to it. */
  root: string;
  /** Receives the whole `fullfiletimelist`. */
  timelist: TextSink;
  /** Receives the `find .`-style plain list; omit to skip it. */
  filelist?: TextSink | null;
  /** Top-level names left out of both lists (our own outputs, `-S` names). */
  skipTopLevel?: (name: string) => boolean;
  /** Basenames whose files get checksum rows, wherever they are. Default `repomd.xml`. */
  checksumNames?: Iterable<string>;
  /** Default the four sections Fedora serves: SHA1, MD5, SHA256, SHA512. */
  checksumAlgorithms?: readonly ChecksumAlgorithm[];
  /** Non-fatal remarks (dangling symlinks, unreadable skipped directories). Default: stderr. */
  onWarning?: (message: string) => void;
  /** Called with the number of `[Files]` rows so far, every `progressEvery` rows. */
  onProgress?: (entries: number) => void;
  progressEvery?: number;
  /** Checked after each progress report and whenever the walk yields to the event loop. */
  signal?: AbortSignal;
  /**
   * chdir into each directory and lstat bare names, like find's fstatat: about a quarter less kernel time
   * on deep trees. The working directory is restored before every yield, but native threads (libuv's pool)
   * could still see it change, so use it only in a process that does nothing else meanwhile (the CLI).
   * In the parallel walk the root is the working directory from start to end (every thread lstats paths
   * relative to it, as worker threads cannot chdir), restored when the walk ends or fails.
   * Ignored when called from a worker thread, where chdir is unavailable.
   */
  chdir?: boolean;
  /**
   * lstat without allocating a Stats object per entry (rawstat.ts), when this Node passes the self-check.
   * Default true; false forces fs.lstatSync (the tests run both).
   */
  rawLstat?: boolean;
  /**
   * Threads walking the tree: above 1, worker threads walk directory subtrees while this thread stitches
   * their output together in order (same bytes). Default min(2, available CPUs); 1 = the single-threaded walk.
   * Falls back to the single-threaded walk when no worker thread can start.
   */
  threads?: number;
  /** Trees with fewer entries than this (readdir-only probe) are walked single-threaded. Default 30000; 0 always splits. */
  parallelMinEntries?: number;
  /** How many subtree units the parallel walk aims for. Default 32 per thread; small values split test trees near the top. */
  parallelUnits?: number;
  /** Parent of the parallel walk's private scratch directory (removed afterwards, also on failure). Default os.tmpdir(). */
  tempDir?: string;
  /** Scratch bytes walked units may hold while they wait for an earlier one (tmpfs is memory). Default 256 MiB. */
  scratchLimitBytes?: number;
  /** Heap cap (MiB) of each worker thread; a unit that does not fit is walked again by this thread. Default 16. */
  workerHeapMb?: number;
  /**
   * Whether this thread walks units too while the workers start. Default false: the workers' heaps are capped,
   * this thread's is not, and a thread that walks grows its heap to V8's defaults (≈20 MB more).
   */
  mainThreadWalks?: boolean;
  /** Called when a worker thread died while walking a unit (it is walked again here): tests and logs. */
  onWorkerLost?: (unit: number, why: string) => void;
}

export interface GenerateFileListsResult {
  /** `[Files]` rows written. */
  entries: number;
  /** Lines of the plain list (the `.` line included) when one was written, else 0. */
  filelistEntries: number;
  /** Files that got checksum rows. */
  checksummed: number;
  warnings: number;
  /** Subtrees walked by worker threads; 0 when the walk was single-threaded. */
  units: number;
}

/** Names handled between two yields to the event loop: keeps a Temporal worker responsive during long walks. */
const SLICE = 2048;
/** Below this many entries (counted by a quick readdir-only probe) worker threads cost more than they save. */
const PARALLEL_MIN_ENTRIES = 30_000;
/** Work units per thread: enough that the last units finishing alone leave the other thread little idle time. */
const UNITS_PER_THREAD = 64;

/**
 * Walks `root` once, synchronously in slices (or in worker threads, see `threads`), streaming both lists
 * into their sinks. Only the paths to checksum are kept, so memory does not grow with the tree. Throws BadFileNameError (names.ts) at the first
 * name containing TAB, newline or invalid UTF-8; the sinks then hold a partial list the caller must discard.
 */
export async function generateFileLists(opts: GenerateFileListsOptions): Promise<GenerateFileListsResult> {
  const root = path.resolve(opts.root);
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`Cannot list ${root}: it is not a directory (check the --dir / dir setting).`);
  }
  const tl = opts.timelist;
  const fl = opts.filelist ?? null;
  const algorithms = opts.checksumAlgorithms ?? DEFAULT_CHECKSUM_ALGORITHMS;
  const progressEvery = Math.max(1, opts.progressEvery ?? 5000);
  opts.signal?.throwIfAborted();

  const checksumNames = new Set(opts.checksumNames ?? DEFAULT_CHECKSUM_NAMES);
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`${m}\n`));
  const skipTopLevel = opts.skipTopLevel ?? (() => false);
  const rawLstat = opts.rawLstat ?? true;
  const begin = () => {
    tl.write(TIMELIST_HEADER);
    fl?.write('.\n');
  };

  const threads = Math.max(1, Math.floor(opts.threads ?? Math.min(2, os.availableParallelism())));
  let walked: Walked | null = null;
  if (threads > 1 && treeHasAtLeast(root, opts.parallelMinEntries ?? PARALLEL_MIN_ENTRIES)) {
    walked = await walkInParallel({
      root,
      tl,
      fl,
      begin,
      skipTopLevel,
      checksumNames,
      warn,
      rawLstat,
      cwdIsRoot: opts.chdir ?? false,
      threads,
      units: Math.max(1, opts.parallelUnits ?? UNITS_PER_THREAD * threads),
      tempDir: opts.tempDir ?? os.tmpdir(),
      progressEvery,
      onProgress: opts.onProgress,
      signal: opts.signal,
      workerHeapMb: opts.workerHeapMb,
      onWorkerLost: opts.onWorkerLost,
      mainThreadWalks: opts.mainThreadWalks,
      scratchLimitBytes: opts.scratchLimitBytes,
    });
  }
  if (walked === null) {
    begin();
    const walker = new TreeWalker(root, tl, fl, { skipTopLevel, checksumNames, warn, chdir: opts.chdir ?? false, rawLstat });
    let nextProgress = progressEvery;
    for (;;) {
      walker.runSlice(SLICE, nextProgress);
      if (walker.entries >= nextProgress) {
        nextProgress += progressEvery;
        opts.onProgress?.(walker.entries);
        opts.signal?.throwIfAborted();
      }
      if (walker.done) break;
      await yieldToEventLoop();
      opts.signal?.throwIfAborted();
    }
    walked = { entries: walker.entries, filelistEntries: walker.filelistEntries, warnings: walker.warnings, checksumPaths: walker.checksumPaths, units: 0 };
  }

  // The sections are sorted by path, so the order the threads collected the paths in does not matter.
  tl.write(formatChecksumSections(checksumSections(root, walked.checksumPaths, algorithms)));
  tl.write(TIMELIST_TRAILER);
  tl.flush();
  fl?.flush();
  opts.onProgress?.(walked.entries);
  return {
    entries: walked.entries,
    filelistEntries: fl ? walked.filelistEntries + 1 : 0,
    checksummed: walked.checksumPaths.length,
    warnings: walked.warnings,
    units: walked.units,
  };
}

/** What either walk found, before the checksums. */
interface Walked {
  entries: number;
  filelistEntries: number;
  warnings: number;
  checksumPaths: readonly string[];
  units: number;
}

/**
 * Whether the tree has at least `min` entries, by readdir alone, breadth-first (stops as soon as it knows).
 * Unreadable directories are simply not counted: the walk proper reports them. The queue stays below `min` paths.
 */
function treeHasAtLeast(root: string, min: number): boolean {
  let count = 0;
  const queue = [root];
  for (let i = 0; i < queue.length && count < min; i++) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(queue[i]!, { withFileTypes: true });
    } catch {
      continue;
    }
    count += entries.length;
    for (const e of entries) if (e.isDirectory()) queue.push(path.join(queue[i]!, e.name));
  }
  return count >= min;
}
