// Verification of a synced repo folder against its own metadata: what the seed never checked before
// flipping `latest` (reference/seed-systems.md §7 risk 1). Reads files, changes nothing.
//   - repodata/repomd.xml exists;
//   - every <data> file exists with the <checksum> (of the file as stored) and <size>, when given;
//   - primary metadata (plain, gzip, zstd, xz or bzip2: src/compose/metadataFile.ts) matches its open-checksum and
//     lists packages, and each package file exists with its <size package> and <checksum>.
// The XML is read by a streaming parser (src/compose/repodata.ts), package by package: memory does not grow with
// the size of primary.xml, only with the number of packages (their locations are kept to check them).
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { runBounded } from './bounded.js';
import { readMetadataFile } from './metadataFile.js';
import { parseRepomd, PrimaryPackageReader, type PrimaryPackage, type RepomdEntry } from './repodata.js';
import { alreadyVerified, identityOf, type VerifiedFiles } from './verifiedFiles.js';

export type { PrimaryPackage, RepomdEntry } from './repodata.js';

export interface RepoDirVerification {
  repo: string;
  packages: number;
  bytes: number;
  problems: string[];
}

export interface VerifyOptions {
  /** Hash every package (default true); false checks existence and size only. */
  checksums?: boolean;
  /** Stop listing after this many problems (default 200); the count is still reported. */
  maxProblems?: number;
  /** Packages hashed at once (default 4). */
  concurrency?: number;
  /** What the compose this one was seeded from verified (src/compose/verifiedFiles.ts): those files are not hashed again. */
  trusted?: VerifiedFiles;
  /** Filled with every file that passed with a checksum: the record the next compose may trust. */
  verified?: VerifiedFiles;
}

interface FileTrust {
  checksums: boolean;
  trusted?: VerifiedFiles;
  verified?: VerifiedFiles;
}

// createrepo_c and yum write `sha` for SHA-1.
const HASHES: Record<string, string> = { sha: 'sha1', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', md5: 'md5' };
export const nodeHashName = (type: string | null): string | null => (type ? (HASHES[type.toLowerCase()] ?? null) : null);

export async function hashFile(file: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A repo href must stay inside the repo folder. */
function localPath(repoDir: string, href: string): string | null {
  if (!href || href.includes('\0')) return null;
  const p = path.resolve(repoDir, href);
  return p.startsWith(path.resolve(repoDir) + path.sep) ? p : null;
}

const short = (s: string) => (s.length > 16 ? `${s.slice(0, 12)}…` : s);

async function checkFile(
  file: string | null,
  href: string,
  what: string,
  expected: { size: number | null; checksumType: string | null; checksum: string | null },
  trust: FileTrust,
): Promise<{ size: number; problem: string | null }> {
  if (!file) return { size: 0, problem: `${href}: ${what} location is outside the repo folder` };
  const big = await fs.stat(file, { bigint: true }).catch(() => null);
  if (!big?.isFile()) return { size: 0, problem: `${href}: missing (listed in ${what})` };
  const size = Number(big.size);
  if (expected.size !== null && size !== expected.size) return { size, problem: `${href}: size ${size} but ${what} says ${expected.size}` };
  if (trust.checksums && expected.checksum) {
    const algo = nodeHashName(expected.checksumType);
    if (!algo) return { size, problem: `${href}: unsupported checksum type ${JSON.stringify(expected.checksumType)} in ${what}` };
    const want = expected.checksum.toLowerCase();
    if (!alreadyVerified(trust.trusted, href, big, algo, want)) {
      const got = await hashFile(file, algo);
      if (got !== want) return { size, problem: `${href}: ${expected.checksumType} ${short(got)} but ${what} says ${short(expected.checksum)}` };
    }
    trust.verified?.set(href, identityOf(big, algo, want));
  }
  return { size, problem: null };
}

/** Verifies one synced repo folder. Never throws for a broken repo: everything wrong is in `problems`. */
export async function verifyRepoDir(repoDir: string, opts: VerifyOptions = {}): Promise<RepoDirVerification> {
  const checksums = opts.checksums ?? true;
  const trust: FileTrust = { checksums, trusted: opts.trusted, verified: opts.verified };
  const maxProblems = opts.maxProblems ?? 200;
  const problems: string[] = [];
  let dropped = 0;
  const problem = (p: string) => (problems.length < maxProblems ? problems.push(p) : dropped++);
  const result = (packages: number, bytes: number): RepoDirVerification => {
    if (dropped > 0) problems.push(`… and ${dropped} more problems`);
    return { repo: repoDir, packages, bytes, problems };
  };

  const entries = await readRepomd(repoDir, problem);
  if (!entries) return result(0, 0);
  for (const e of entries) {
    const r = await checkFile(localPath(repoDir, e.href), e.href || `(${e.type} without href)`, `repomd.xml (${e.type})`, e, { ...trust, checksums: true });
    if (r.problem) problem(r.problem);
  }
  const primary = entries.find((e) => e.type === 'primary');
  if (!primary) {
    problem('repodata/repomd.xml has no primary metadata');
    return result(0, 0);
  }
  const primaryFile = localPath(repoDir, primary.href);
  if (!primaryFile || !(await fs.stat(primaryFile).catch(() => null))) return result(0, 0); // already reported
  const packages = await readPrimary(primaryFile, primary, problem);
  if (!packages) return result(0, 0);

  let bytes = 0;
  await runBounded(packages, opts.concurrency ?? 4, async (p) => {
    if (!p.href) {
      problem(`package ${p.name}.${p.arch} has no location in primary metadata`);
      return;
    }
    const r = await checkFile(localPath(repoDir, p.href), p.href, 'primary metadata', p, trust);
    if (r.problem) problem(r.problem);
    else bytes += r.size;
  });
  return result(packages.length, bytes);
}

/**
 * The packages a repo folder's own metadata lists, by location; null when its repomd.xml or primary metadata is
 * missing or unreadable (the problems are what verifyRepoDir would report).
 */
export async function packagesOfRepo(repoDir: string): Promise<Map<string, PrimaryPackage> | null> {
  const problems: string[] = [];
  const entries = await readRepomd(repoDir, (p) => problems.push(p));
  const primary = entries?.find((e) => e.type === 'primary');
  const file = primary && localPath(repoDir, primary.href);
  if (!primary || !file || !(await fs.stat(file).catch(() => null))) return null;
  const packages = await readPrimary(file, primary, (p) => problems.push(p));
  if (!packages || problems.length > 0) return null;
  return new Map(packages.map((p) => [p.href, p]));
}

/** The entries of repodata/repomd.xml, or null (with the problem reported) when it is missing or not XML. */
async function readRepomd(repoDir: string, problem: (p: string) => void): Promise<RepomdEntry[] | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(repoDir, 'repodata', 'repomd.xml'), 'utf8');
  } catch {
    problem('repodata/repomd.xml is missing');
    return null;
  }
  let entries: RepomdEntry[];
  try {
    entries = parseRepomd(text);
  } catch (e) {
    problem(`repodata/repomd.xml is not well-formed XML: ${(e as Error).message}`);
    return null;
  }
  if (entries.length === 0) problem('repodata/repomd.xml lists no metadata files');
  return entries;
}

/**
 * The packages primary metadata lists, checking its uncompressed content against the open-checksum on the way;
 * null (with the problem reported) when it cannot be decompressed or parsed.
 */
async function readPrimary(file: string, entry: RepomdEntry, problem: (p: string) => void): Promise<PrimaryPackage[] | null> {
  const openAlgo = nodeHashName(entry.openChecksumType);
  const openHash = entry.openChecksum && openAlgo ? createHash(openAlgo) : null;
  const reader = new PrimaryPackageReader();
  const decoder = new StringDecoder('utf8');
  const packages: PrimaryPackage[] = [];
  try {
    await readMetadataFile(file, (chunk) => {
      openHash?.update(chunk);
      packages.push(...reader.write(decoder.write(chunk)));
    });
    packages.push(...reader.write(decoder.end()), ...reader.close());
  } catch (e) {
    problem(`${entry.href}: cannot be decompressed or read: ${(e as Error).message}`);
    return null;
  }
  if (openHash && entry.openChecksum && openHash.digest('hex') !== entry.openChecksum.toLowerCase()) {
    problem(`${entry.href}: the uncompressed content does not match its open-checksum in repomd.xml`);
  }
  return packages;
}
