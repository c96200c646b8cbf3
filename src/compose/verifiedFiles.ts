// What verification of a repo folder found good, by file identity, so the next compose need not read those bytes
// again: for each file (by its href in the repo's metadata), the (dev, inode, size, mtime) it had and the checksum
// it was checked against.
//
// Why trusting an unchanged identity is sound: a compose seeded or carried over from `latest` holds latest's files
// by hard link, which share the inode (same dev and inode number, same bytes). Nothing we run writes a shared file
// in place (src/compose/seed.ts keeps dnf away from every name it would rewrite; keys and lists are replaced by
// rename), and a file written anew (a download, a rename over the name) is a new inode. While latest's folder keeps
// its link the inode cannot be reused for another file, and size and mtime must match too. So a file whose
// identity equals the one latest verified, listed now with the same checksum, has the bytes latest verified.
// (A write in place that also restores the old mtime would pass: only a person with root on the compose host
// can do that, and they could rewrite the metadata as well.)
import type { BigIntStats } from 'node:fs';

export interface VerifiedFile {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  /** Node's hash name (`sha256`) and the hex checksum the file matched. */
  algorithm: string;
  checksum: string;
}

/** href → identity and checksum; serialised as a plain object. */
export type VerifiedFiles = Map<string, VerifiedFile>;

export function identityOf(st: BigIntStats, algorithm: string, checksum: string): VerifiedFile {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), algorithm, checksum: checksum.toLowerCase() };
}

/** Whether `href`, as it is now (`st`) and as the metadata lists it now, is a file the record verified. */
export function alreadyVerified(record: VerifiedFiles | undefined, href: string, st: BigIntStats, algorithm: string, checksum: string): boolean {
  const was = record?.get(href);
  if (!was) return false;
  const now = identityOf(st, algorithm, checksum);
  return was.dev === now.dev && was.ino === now.ino && was.size === now.size && was.mtimeNs === now.mtimeNs && was.algorithm === now.algorithm && was.checksum === now.checksum;
}

export const serializeVerified = (files: VerifiedFiles): string => JSON.stringify({ version: 1, files: Object.fromEntries([...files].sort(([a], [b]) => a.localeCompare(b))) });

/** A record as read back; anything malformed is an empty record (everything is hashed again). */
export function parseVerified(text: string | null): VerifiedFiles {
  const out: VerifiedFiles = new Map();
  if (!text) return out;
  try {
    const parsed = JSON.parse(text) as { version?: unknown; files?: Record<string, unknown> };
    if (parsed.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null) return out;
    for (const [href, v] of Object.entries(parsed.files)) {
      const f = v as Partial<VerifiedFile>;
      const fields = [f.dev, f.ino, f.size, f.mtimeNs, f.algorithm, f.checksum];
      if (fields.every((x) => typeof x === 'string' && x.length > 0)) out.set(href, f as VerifiedFile);
    }
  } catch {
    return new Map();
  }
  return out;
}
