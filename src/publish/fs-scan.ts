// File-system reads the publish activities need around rsync (not pure, but read-only).
import { lstatSync, type Dirent } from 'node:fs';
import { opendir, rm } from 'node:fs/promises';
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
 * Every entry below `root` with its path relative to it, depth first. rsync's scratch dirs are yielded but not
 * entered. Folders that vanish (or turn into files) while we walk, and a missing root, are passed over.
 */
async function* entriesBelow(root: string): AsyncGenerator<{ rel: string; ent: Dirent }> {
  const stack: string[] = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    let dir;
    try {
      dir = await opendir(path.join(root, rel));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    for await (const ent of dir) {
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      yield { rel: childRel, ent };
      if (ent.isDirectory() && !SKIP_DIRS.has(ent.name)) stack.push(childRel);
    }
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
  for await (const { rel, ent } of entriesBelow(root)) {
    const top = rel.split('/', 1)[0]!;
    const keptDir = keep.includes(top) ? kept.get(top) ?? kept.set(top, { dir: top, files: 0, bytes: 0 }).get(top)! : null;
    if (ent.isDirectory()) continue;
    let size: number;
    try {
      size = lstatSync(path.join(root, rel)).size;
    } catch {
      continue;
    }
    if (keptDir) {
      keptDir.files++;
      keptDir.bytes += size;
      continue;
    }
    total++;
    bytes += size;
    const key = repoKeyOf(rel, false);
    byRepo.set(key, (byRepo.get(key) ?? 0) + 1);
  }
  return { total, bytes, byRepo, kept: [...kept.values()].sort((a, b) => a.dir.localeCompare(b.dir)) };
}

/**
 * Removes rsync's scratch dirs (`.rsync-partial/`, `.~tmp~/`) anywhere under `root` and returns their paths
 * relative to it. Run only after a sync finished: what is left in them then is stale (a partial file whose
 * source vanished, say), and a mirror syncing the tree would otherwise fetch it. A missing root has none.
 */
export async function removeScratchDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { rel, ent } of entriesBelow(root)) if (ent.isDirectory() && SKIP_DIRS.has(ent.name)) found.push(rel);
  for (const rel of found) await rm(path.join(root, rel), { recursive: true, force: true });
  return found.sort();
}
