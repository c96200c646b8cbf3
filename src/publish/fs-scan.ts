// File-system reads the publish activities need around rsync (not pure, but read-only).
import { lstatSync, type Dirent } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { repoKeyOf } from './itemize.js';
import { DELAY_UPDATES_DEFAULT_DIR, PARTIAL_DIR } from './rsync-args.js';
import type { KeptDir } from './types.js';

export interface TargetCount {
  total: number;
  /** Sizes of the counted entries added up (what lstat says: a symlink counts its own size). */
  bytes: number;
  byRepo: Map<string, number>;
  /** The `keep` folders that exist, with what they hold; their entries are not in `total`, `bytes` or `byRepo`. */
  kept: KeptDir[];
}

const SKIP_DIRS = new Set([PARTIAL_DIR, DELAY_UPDATES_DEFAULT_DIR]);

/**
 * Calls `visit` with every directory below `root` (and `root` itself, as ''), its path relative to `root` and its
 * entries, depth first. One readdir per directory and nothing per entry: on a tree of small files, an
 * asynchronous call (or async-iterator step) per entry was most of the walk's time. rsync's scratch dirs are listed
 * but not entered. Folders that vanish (or turn into files) while we walk, and a missing root, are passed over.
 */
async function eachDirectory(root: string, visit: (rel: string, entries: Dirent[]) => void): Promise<void> {
  const stack: string[] = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(rel ? path.join(root, rel) : root, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    visit(rel, entries);
    for (const ent of entries) if (ent.isDirectory() && !SKIP_DIRS.has(ent.name)) stack.push(rel ? `${rel}/${ent.name}` : ent.name);
  }
}

/**
 * Counts the non-directory entries under `root` (files, symlinks, …) and their bytes, overall and per repo key
 * (`repoKeyOf`), skipping rsync's scratch dirs. Entries under the top-level folders named in `keep` (which no
 * sync deletes) are counted apart, so they do not water down the deletion guard's shares. A missing root counts
 * as empty; a file that vanishes while we count is passed over.
 */
export async function countTargetFiles(root: string, keep: readonly string[] = []): Promise<TargetCount> {
  const byRepo = new Map<string, number>();
  const kept = new Map<string, KeptDir>();
  let total = 0;
  let bytes = 0;
  const keptFor = (top: string) => (keep.includes(top) ? kept.get(top) ?? kept.set(top, { dir: top, files: 0, bytes: 0 }).get(top)! : null);
  await eachDirectory(root, (dirRel, entries) => {
    const dirPath = dirRel ? path.join(root, dirRel) : root;
    // What a file counts towards depends only on its folder: found once per folder, not per file.
    const dirKept = dirRel ? keptFor(dirRel.split('/', 1)[0]!) : null;
    const key = repoKeyOf(dirRel ? `${dirRel}/-` : '-', false);
    let files = 0;
    for (const ent of entries) {
      const keptDir = dirRel ? dirKept : keptFor(ent.name);
      if (ent.isDirectory()) continue;
      let size: number;
      try {
        // Synchronous: a few microseconds each on a warm tree; the event loop gets its turn between directories.
        size = lstatSync(`${dirPath}/${ent.name}`).size;
      } catch {
        continue;
      }
      if (keptDir) {
        keptDir.files++;
        keptDir.bytes += size;
        continue;
      }
      files++;
      bytes += size;
    }
    if (files > 0) byRepo.set(key, (byRepo.get(key) ?? 0) + files);
    total += files;
  });
  return { total, bytes, byRepo, kept: [...kept.values()].sort((a, b) => a.dir.localeCompare(b.dir)) };
}

/**
 * Removes rsync's scratch dirs (`.rsync-partial/`, `.~tmp~/`) anywhere under `root` and returns their paths
 * relative to it. Run only after a sync finished: what is left in them then is stale (a partial file whose
 * source vanished, say), and a mirror syncing the tree would otherwise fetch it. A missing root has none.
 */
export async function removeScratchDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  await eachDirectory(root, (rel, entries) => {
    for (const ent of entries) if (ent.isDirectory() && SKIP_DIRS.has(ent.name)) found.push(rel ? `${rel}/${ent.name}` : ent.name);
  });
  for (const rel of found) await rm(path.join(root, rel), { recursive: true, force: true });
  return found.sort();
}
