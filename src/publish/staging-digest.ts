// The fingerprint of a staging tree: what the approver saw at the gate, checked again right before production
// is written. Every entry's path, type, size, mtime and link target go into one SHA-256, in a fixed order
// (names sorted byte-wise within each directory), so the same tree always gives the same digest and any
// change (a file rewritten with the same size, a link re-pointed, a file added or removed) gives another.
import { createHash } from 'node:crypto';
import { lstatSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
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

/**
 * One directory's entries, names in byte order. The lstat calls are synchronous: on a warm tree one takes a few
 * microseconds, while an asynchronous one costs a thread-pool round trip each (most of the walk's time); one
 * directory at a time keeps the event loop (heartbeats, cancellation) free between directories.
 */
async function readLevel(root: string, rel: string): Promise<TreeEntry[]> {
  const dirPath = rel ? path.join(root, rel) : root;
  const names = (await readdir(dirPath)).map((name) => ({ name, bytes: Buffer.from(name) }));
  names.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return names.map(({ name }) => {
    const relPath = rel ? `${rel}/${name}` : name;
    const full = path.join(dirPath, name);
    const st = lstatSync(full);
    const type: TreeEntryType = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    const entry: TreeEntry = { path: relPath, type, size: type === 'dir' ? 0 : st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    if (type === 'symlink') entry.linkTarget = readlinkSync(full);
    return entry;
  });
}

/**
 * Streams a tree's entries depth first, names sorted byte-wise within each directory, without following
 * symlinks. One directory's entries are held per level of the current path, so memory follows the widest
 * directory, not the tree. An explicit stack, not nested generators: each entry passes one generator, not one
 * per level of depth.
 */
export async function* walkTree(root: string, rel = ''): AsyncGenerator<TreeEntry> {
  const stack: Array<{ entries: TreeEntry[]; next: number }> = [{ entries: await readLevel(root, rel), next: 0 }];
  while (stack.length > 0) {
    const level = stack.at(-1)!;
    if (level.next === level.entries.length) {
      stack.pop();
      continue;
    }
    const entry = level.entries[level.next++]!;
    yield entry;
    if (entry.type === 'dir') stack.push({ entries: await readLevel(root, entry.path), next: 0 });
  }
}

/** The staging tree's digest (a directory's own size is left out: it depends on the file system, not the content). */
export function stagingDigest(root: string): Promise<{ digest: string; entries: number }> {
  return digestEntries(walkTree(root));
}
