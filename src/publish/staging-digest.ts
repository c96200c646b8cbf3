// The fingerprint of a staging tree: what the approver saw at the gate, checked again right before production
// is written. Every entry's path, type, size, mtime and link target go into one SHA-256, in a fixed order
// (names sorted byte-wise within each directory), so the same tree always gives the same digest and any
// change (a file rewritten with the same size, a link re-pointed, a file added or removed) gives another.
import { createHash } from 'node:crypto';
import { lstat, opendir, readlink } from 'node:fs/promises';
import path from 'node:path';

export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a tree, as the digest sees it. `path` is relative to the tree's root, with `/` separators. */
export interface TreeEntry {
  path: string;
  type: TreeEntryType;
  size: number;
  /** Modification time in whole milliseconds. */
  mtimeMs: number;
  /** Symlinks only: the target as stored in the link (not resolved). */
  linkTarget?: string;
}

/** The record of one entry: NUL-separated fields, so that no name can imitate a field boundary. */
export function entryRecord(e: TreeEntry): string {
  return [e.path, e.type, String(e.size), String(Math.trunc(e.mtimeMs)), e.linkTarget ?? ''].join('\0') + '\n';
}

/** Digest of entries given in walk order: `sha256:<hex>`. Pure apart from hashing. */
export async function digestEntries(entries: AsyncIterable<TreeEntry> | Iterable<TreeEntry>): Promise<{ digest: string; entries: number }> {
  const hash = createHash('sha256');
  let count = 0;
  for await (const e of entries) {
    hash.update(entryRecord(e));
    count++;
  }
  return { digest: `sha256:${hash.digest('hex')}`, entries: count };
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Streams a tree's entries depth first, names sorted byte-wise within each directory, without following
 * symlinks. Only one directory's names are held at a time per level, so memory follows the widest directory,
 * not the tree.
 */
export async function* walkTree(root: string, rel = ''): AsyncGenerator<TreeEntry> {
  const dir = await opendir(rel ? path.join(root, rel) : root);
  const names: string[] = [];
  for await (const d of dir) names.push(d.name);
  names.sort(byteOrder);
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(root, relPath));
    const type: TreeEntryType = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    const entry: TreeEntry = { path: relPath, type, size: type === 'dir' ? 0 : st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    if (type === 'symlink') entry.linkTarget = await readlink(path.join(root, relPath));
    yield entry;
    if (type === 'dir') yield* walkTree(root, relPath);
  }
}

/** The staging tree's digest (a directory's own size is left out: it depends on the file system, not the content). */
export function stagingDigest(root: string): Promise<{ digest: string; entries: number }> {
  return digestEntries(walkTree(root));
}
