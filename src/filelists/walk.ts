// One traversal writes both lists: the `fullfiletimelist` (post-order, skip rules of reference §1.3) and
// the plain `fullfilelist` exactly as Rocky's `find .` has it (pre-order, nothing skipped, §1.8).
// Names are visited in byte order so the output only changes when the tree does.
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { checksumSections } from './checksums.js';
import {
  DEFAULT_CHECKSUM_ALGORITHMS,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IRGRP,
  S_IROTH,
  TIMELIST_HEADER,
  TIMELIST_TRAILER,
  filesRow,
  formatChecksumSections,
  timelistTimestamp,
  timelistTimestampFromMs,
  type ChecksumAlgorithm,
} from './format.js';
import { BadFileNameError, readDirectoryNames } from './names.js';
import type { TextSink } from './sink.js';

export const DEFAULT_CHECKSUM_NAMES: readonly string[] = ['repomd.xml'];
/** rsync --delay-updates scratch directory; skipped from the timelist at any depth. */
const RSYNC_TMP_DIR = '.~tmp~';
/** NFS silly-rename prefix; skipped from the timelist at any depth. */
const NFS_PREFIX = '.nfs';

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
}

export interface GenerateFileListsResult {
  /** `[Files]` rows written. */
  entries: number;
  /** Lines of the plain list (the `.` line included) when one was written, else 0. */
  filelistEntries: number;
  /** Files that got checksum rows. */
  checksummed: number;
  warnings: number;
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

/** Rows between two yields to the event loop: keeps a Temporal worker responsive during long walks. */
const SLICE = 2048;

/**
 * Walks `root` once, synchronously in slices, streaming both lists into their sinks. Only the paths to
 * checksum are kept, so memory does not grow with the tree. Throws BadFileNameError (names.ts) at the first
 * name containing TAB, newline or invalid UTF-8; the sinks then hold a partial list the caller must discard.
 */
export async function generateFileLists(opts: GenerateFileListsOptions): Promise<GenerateFileListsResult> {
  const root = path.resolve(opts.root);
  const rootStat = fs.statSync(root, { throwIfNoEntry: false });
  if (!rootStat?.isDirectory()) {
    throw new Error(`Cannot list ${root}: it is not a directory (check the --dir / dir setting).`);
  }
  const tl = opts.timelist;
  const fl = opts.filelist ?? null;
  const skipTop = opts.skipTopLevel ?? (() => false);
  const checksumNames = new Set(opts.checksumNames ?? DEFAULT_CHECKSUM_NAMES);
  const algorithms = opts.checksumAlgorithms ?? DEFAULT_CHECKSUM_ALGORITHMS;
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`${m}\n`));
  const progressEvery = Math.max(1, opts.progressEvery ?? 5000);
  const checksumPaths: string[] = [];
  let entries = 0;
  let filelistEntries = 0;
  let warnings = 0;
  let sinceYield = 0;
  let nextProgress = progressEvery;

  const warnOnce = (message: string) => {
    warnings++;
    warn(message);
  };

  /** Names of a directory in byte order; unreadable directories outside the timelist only warn, like find. */
  const readNames = (abs: string, rel: string, listed: boolean): string[] => {
    try {
      return readDirectoryNames(abs, rel, root);
    } catch (err) {
      if (err instanceof BadFileNameError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (!listed) {
        warnOnce(`Could not read directory ./${rel} (${code}); its contents are missing from the plain list.`);
        return [];
      }
      throw new Error(
        `Cannot list ./${rel} under ${root}: reading the directory failed (${code}). ` +
          'Run the generation as a user that can read the whole published tree.',
      );
    }
  };

  const dirFrame = (abs: string, rel: string, listed: boolean, restricted: boolean, row: string | null): DirFrame => ({
    abs: `${abs}/`,
    rel: `${rel}/`,
    names: readNames(abs, `${rel}/`, listed),
    next: 0,
    listed,
    restricted,
    row,
  });

  opts.signal?.throwIfAborted();
  tl.write(TIMELIST_HEADER);
  if (fl) {
    fl.write('.\n');
    filelistEntries++;
  }

  const stack: DirFrame[] = [
    { abs: `${root}/`, rel: '', names: readNames(root, '', true), next: 0, listed: true, restricted: false, row: null },
  ];
  const rootFrame = stack[0];

  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.names.length) {
      stack.pop();
      if (frame.row !== null) tl.write(frame.row);
      continue;
    }
    if (++sinceYield >= SLICE) {
      sinceYield = 0;
      await yieldToEventLoop();
      opts.signal?.throwIfAborted();
    }
    const name = frame.names[frame.next++]!;
    if (frame === rootFrame && skipTop(name)) continue;

    const rel = frame.rel + name;
    const abs = frame.abs + name;
    if (fl) {
      fl.write(`./${rel}\n`);
      filelistEntries++;
    }
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    // Gone between readdir and lstat: nothing to list (find would have printed the name, and so did we).
    if (st === undefined) continue;
    const mode = st.mode;
    const fmt = mode & S_IFMT;
    const isDir = fmt === S_IFDIR;

    // Below a skipped directory only the plain list (which skips nothing) has anything to collect.
    if (!frame.listed || name === RSYNC_TMP_DIR || name.startsWith(NFS_PREFIX)) {
      if (isDir && fl) stack.push(dirFrame(abs, rel, false, false, null));
      continue;
    }

    // Group-read is tested on the target: a link to an unreadable file is skipped like the file.
    let targetFmt = fmt;
    let targetMode = mode;
    if (fmt === S_IFLNK) {
      let target: fs.Stats | undefined;
      try {
        target = fs.statSync(abs);
      } catch {
        target = undefined;
      }
      if (target === undefined) {
        warnOnce(`Could not stat ./${rel}.  Dangling symlink?`);
        continue;
      }
      targetMode = target.mode;
      targetFmt = targetMode & S_IFMT;
    }
    if ((targetMode & S_IRGRP) === 0) {
      if (isDir && fl) stack.push(dirFrame(abs, rel, false, false, null));
      continue;
    }

    let timestamp = timelistTimestampFromMs(st.mtimeMs, st.ctimeMs);
    let size: number | bigint = st.size;
    if (timestamp === null) {
      // Within microseconds of a second boundary (rare): only nanoseconds give the peer's rounding.
      const exact = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (exact === undefined) continue;
      timestamp = timelistTimestamp(exact.mtimeNs, exact.ctimeNs);
      size = exact.size;
    }
    const row = filesRow(timestamp, mode, frame.restricted, size, rel);
    entries++;
    if (isDir) {
      stack.push(dirFrame(abs, rel, true, frame.restricted || (mode & S_IROTH) === 0, row));
    } else {
      tl.write(row);
      if (targetFmt === S_IFREG && checksumNames.has(name)) checksumPaths.push(rel);
    }

    if (entries >= nextProgress) {
      nextProgress += progressEvery;
      opts.onProgress?.(entries);
      opts.signal?.throwIfAborted();
    }
  }

  tl.write(formatChecksumSections(checksumSections(root, checksumPaths, algorithms)));
  tl.write(TIMELIST_TRAILER);
  tl.flush();
  fl?.flush();
  opts.onProgress?.(entries);
  return { entries, filelistEntries, checksummed: checksumPaths.length, warnings };
}
