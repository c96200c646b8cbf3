// Digests for the `[Checksums <ALGO>]` sections: every algorithm in one read of each file.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compareUtf8, type ChecksumAlgorithm, type ChecksumSection } from './format.js';

const NODE_HASH_NAME: Record<ChecksumAlgorithm, string> = {
  SHA1: 'sha1',
  MD5: 'md5',
  SHA256: 'sha256',
  SHA512: 'sha512',
};

/** Feeds the same bytes to several hashes at once. */
export class MultiHasher {
  private readonly hashes: Hash[];

  constructor(readonly algorithms: readonly ChecksumAlgorithm[]) {
    this.hashes = algorithms.map((a) => createHash(NODE_HASH_NAME[a]));
  }

  update(chunk: Uint8Array): this {
    for (const h of this.hashes) h.update(chunk);
    return this;
  }

  /** Lowercase hex digests in the order of `algorithms`. */
  digests(): string[] {
    return this.hashes.map((h) => h.digest('hex'));
  }
}

const READ_CHUNK = 1 << 20;

/** Reads `file` (following symlinks) once and returns its digests in the order of `algorithms`. */
export function hashFile(file: string, algorithms: readonly ChecksumAlgorithm[]): string[] {
  const hasher = new MultiHasher(algorithms);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, READ_CHUNK, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digests();
}

/**
 * One section per algorithm, each listing every path (relative to `root`) sorted by UTF-8 bytes.
 * A file that disappeared since the walk fails the generation: a list must not claim a checksum it lacks.
 */
export function checksumSections(
  root: string,
  relPaths: readonly string[],
  algorithms: readonly ChecksumAlgorithm[],
): ChecksumSection[] {
  const sorted = [...relPaths].sort(compareUtf8);
  const rows = algorithms.map(() => [] as { path: string; digest: string }[]);
  for (const rel of sorted) {
    let digests: string[];
    try {
      digests = hashFile(path.join(root, rel), algorithms);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new Error(
        `Could not read ${JSON.stringify(rel)} under ${root} to checksum it (${code}); ` +
          'it changed during the walk: run the file-list generation again once the tree is quiet.',
      );
    }
    digests.forEach((digest, i) => rows[i]!.push({ path: rel, digest }));
  }
  return algorithms.map((algorithm, i) => ({ algorithm, rows: rows[i]! }));
}
