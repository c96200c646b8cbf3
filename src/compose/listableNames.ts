// Names the mirror file lists cannot carry (TAB, newline, bytes that are not UTF-8), found in the compose before
// `latest` flips. Otherwise such a name travels to staging and production, and only the file-list stage, after
// production was written, refuses it; the stale lists then fail every later release of the category.
// What a list can carry is decided by src/filelists/names.ts: this module only asks it, per name.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { badNameReason, escapeNameBytes, type BadNameReason } from '../filelists/names.js';

export interface UnlistableName {
  /** `./<path>` below the checked root, escaped (`\t`, `\n`, `\xNN`) so it is safe to print. */
  path: string;
  reason: BadNameReason;
}

const REASON_TEXT: Record<BadNameReason, string> = {
  tab: 'contains a TAB',
  newline: 'contains a newline',
  'invalid-utf8': 'is not valid UTF-8',
};

/**
 * The unlistable names among one folder's entries (raw bytes, as readdir gives them with `encoding: 'buffer'`),
 * in byte order. `relDir` is the folder's printable path below the root (`''` or ending in `/`). Pure.
 */
export function unlistableNamesIn(relDir: string, names: readonly Buffer[]): UnlistableName[] {
  const out: UnlistableName[] = [];
  for (const name of [...names].sort(Buffer.compare)) {
    const reason = badNameReason(name);
    if (reason !== null) out.push({ path: `./${relDir}${escapeNameBytes(name)}`, reason });
  }
  return out;
}

/** One line per name for a failure message: `./a\tb.rpm contains a TAB`. Pure. */
export function describeUnlistableName(n: UnlistableName): string {
  return `file name ${n.path} ${REASON_TEXT[n.reason]}, which the mirror file lists cannot carry; rename or remove it upstream`;
}

/**
 * Every unlistable name below `root` (up to `limit`), depth first. A folder with a bad name is reported and not
 * entered: everything under it would be reported for the same reason. A missing root has none.
 */
export async function findUnlistableNames(root: string, limit = 20): Promise<UnlistableName[]> {
  const found: UnlistableName[] = [];
  // Paths are kept as bytes joined with '/', so names that are not UTF-8 are read back exactly.
  const stack: Array<{ abs: Buffer; rel: string }> = [{ abs: Buffer.from(root), rel: '' }];
  while (stack.length > 0 && found.length < limit) {
    const { abs, rel } = stack.pop()!;
    let entries;
    try {
      entries = await readdir(abs, { encoding: 'buffer', withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw e;
    }
    const names = entries.map((e) => e.name);
    const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const bad = unlistableNamesIn(rel, names);
    found.push(...bad.slice(0, limit - found.length));
    for (const name of subdirs.sort(Buffer.compare).reverse()) {
      if (badNameReason(name) !== null) continue;
      stack.push({ abs: Buffer.concat([abs, Buffer.from(path.sep), name]), rel: `${rel}${name.toString('utf8')}/` });
    }
  }
  return found;
}
