// Verification of a synced repo folder against its own metadata: what the seed never checked before
// flipping `latest` (reference/seed-systems.md §7 risk 1). Reads files, changes nothing.
//   - repodata/repomd.xml exists;
//   - every <data> file exists with the <checksum> (of the file as stored) and <size>, when given;
//   - primary metadata (plain, gzip; zstd only where this Node can read it) lists packages, and each
//     package file exists with its <size package> and <checksum>.
// Regular expressions over the XML text, streamed package by package: createrepo_c's output is regular,
// and no XML dependency is needed.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';

export interface RepomdEntry {
  type: string;
  href: string;
  checksumType: string | null;
  checksum: string | null;
  size: number | null;
  openChecksumType: string | null;
  openChecksum: string | null;
}

export interface PrimaryPackage {
  name: string;
  arch: string;
  href: string;
  size: number | null;
  checksumType: string | null;
  checksum: string | null;
}

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
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
export function decodeXmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (all, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? all;
  });
}

/** Attributes of the first `<tag …>` in `xml` (order-independent, either quote style). */
function attrsOf(xml: string, tag: string): Record<string, string> | null {
  const m = new RegExp(`<${tag}(\\s[^>]*?)?/?>`).exec(xml);
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const a of (m[1] ?? '').matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[a[1]!] = decodeXmlText(a[3] ?? a[4] ?? '');
  return out;
}

function elementText(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml);
  return m ? decodeXmlText(m[1]!.trim()) : null;
}

const toSize = (s: string | null | undefined): number | null => (s && /^\d+$/.test(s) ? Number(s) : null);

/** The `<data>` entries of a repomd.xml. */
export function parseRepomd(xml: string): RepomdEntry[] {
  const out: RepomdEntry[] = [];
  for (const m of xml.matchAll(/<data\s[^>]*?type\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/data>/g)) {
    const body = m[2]!;
    const loc = attrsOf(body, 'location');
    const sum = attrsOf(body, 'checksum');
    const open = attrsOf(body, 'open-checksum');
    out.push({
      type: m[1]!,
      href: loc?.['href'] ?? '',
      checksumType: sum?.['type'] ?? null,
      checksum: elementText(body, 'checksum'),
      size: toSize(elementText(body, 'size')),
      openChecksumType: open?.['type'] ?? null,
      openChecksum: elementText(body, 'open-checksum'),
    });
  }
  return out;
}

/** One `<package>…</package>` block of primary.xml. */
export function parsePrimaryPackage(block: string): PrimaryPackage {
  const loc = attrsOf(block, 'location');
  const size = attrsOf(block, 'size');
  const sum = attrsOf(block, 'checksum');
  return {
    name: elementText(block, 'name') ?? '',
    arch: elementText(block, 'arch') ?? '',
    href: loc?.['href'] ?? '',
    size: toSize(size?.['package']),
    checksumType: sum?.['type'] ?? null,
    checksum: elementText(block, 'checksum'),
  };
}

/** Cuts streamed primary.xml text into package blocks; keeps the unfinished tail for the next chunk. */
export class PrimaryPackageScanner {
  private buf = '';
  push(text: string): PrimaryPackage[] {
    this.buf += text;
    const out: PrimaryPackage[] = [];
    for (;;) {
      const start = this.buf.indexOf('<package');
      if (start < 0) {
        // Keep a short tail: `<package` may be split across chunks.
        this.buf = this.buf.slice(-16);
        return out;
      }
      const end = this.buf.indexOf('</package>', start);
      if (end < 0) {
        this.buf = this.buf.slice(start);
        return out;
      }
      out.push(parsePrimaryPackage(this.buf.slice(start, end)));
      this.buf = this.buf.slice(end + '</package>'.length);
    }
  }
}

// createrepo_c and yum write `sha` for SHA-1.
const HASHES: Record<string, string> = { sha: 'sha1', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', md5: 'md5' };
export const nodeHashName = (type: string | null): string | null => (type ? (HASHES[type.toLowerCase()] ?? null) : null);

export async function hashFile(file: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';
function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** A decompressing stream for the file, or a message saying why this Node cannot read it. */
async function openMetadata(file: string): Promise<Readable | string> {
  const fh = await fs.open(file);
  const head = Buffer.alloc(8);
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  const kind = sniffCompression(head);
  const raw = createReadStream(file);
  if (kind === 'none') return raw;
  if (kind === 'gzip') return raw.pipe(zlib.createGunzip());
  const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (kind === 'zstd' && zstd) return raw.pipe(zstd()) as unknown as Readable;
  raw.destroy();
  return `${path.basename(file)} is ${kind}-compressed, which this verifier cannot read (Node ${process.versions.node} reads plain and gzip${zstd ? ' and zstd' : ''}); ask the build system for gzip primary metadata`;
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
  checksums: boolean,
): Promise<{ size: number; problem: string | null }> {
  if (!file) return { size: 0, problem: `${href}: ${what} location is outside the repo folder` };
  const st = await fs.stat(file).catch(() => null);
  if (!st?.isFile()) return { size: 0, problem: `${href}: missing (listed in ${what})` };
  if (expected.size !== null && st.size !== expected.size) return { size: st.size, problem: `${href}: size ${st.size} but ${what} says ${expected.size}` };
  if (checksums && expected.checksum) {
    const algo = nodeHashName(expected.checksumType);
    if (!algo) return { size: st.size, problem: `${href}: unsupported checksum type ${JSON.stringify(expected.checksumType)} in ${what}` };
    const got = await hashFile(file, algo);
    if (got !== expected.checksum.toLowerCase()) {
      return { size: st.size, problem: `${href}: ${expected.checksumType} ${short(got)} but ${what} says ${short(expected.checksum)}` };
    }
  }
  return { size: st.size, problem: null };
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** Verifies one synced repo folder. Never throws for a broken repo: everything wrong is in `problems`. */
export async function verifyRepoDir(repoDir: string, opts: VerifyOptions = {}): Promise<RepoDirVerification> {
  const checksums = opts.checksums ?? true;
  const maxProblems = opts.maxProblems ?? 200;
  const problems: string[] = [];
  let dropped = 0;
  const problem = (p: string) => (problems.length < maxProblems ? problems.push(p) : dropped++);
  const result = (packages: number, bytes: number): RepoDirVerification => {
    if (dropped > 0) problems.push(`… and ${dropped} more problems`);
    return { repo: repoDir, packages, bytes, problems };
  };

  const repomdFile = path.join(repoDir, 'repodata', 'repomd.xml');
  let repomdText: string;
  try {
    repomdText = await fs.readFile(repomdFile, 'utf8');
  } catch {
    problem('repodata/repomd.xml is missing');
    return result(0, 0);
  }
  const entries = parseRepomd(repomdText);
  if (entries.length === 0) problem('repodata/repomd.xml lists no metadata files');
  for (const e of entries) {
    const r = await checkFile(localPath(repoDir, e.href), e.href || `(${e.type} without href)`, `repomd.xml (${e.type})`, e, true);
    if (r.problem) problem(r.problem);
  }
  const primary = entries.find((e) => e.type === 'primary');
  if (!primary) {
    problem('repodata/repomd.xml has no primary metadata');
    return result(0, 0);
  }
  const primaryFile = localPath(repoDir, primary.href);
  if (!primaryFile || !(await fs.stat(primaryFile).catch(() => null))) return result(0, 0); // already reported

  const stream = await openMetadata(primaryFile);
  if (typeof stream === 'string') {
    problem(stream);
    return result(0, 0);
  }
  const openAlgo = nodeHashName(primary.openChecksumType);
  const openHash = primary.openChecksum && openAlgo ? createHash(openAlgo) : null;
  const scanner = new PrimaryPackageScanner();
  const decoder = new StringDecoder('utf8');
  const packages: PrimaryPackage[] = [];
  try {
    for await (const chunk of stream) {
      openHash?.update(chunk as Buffer);
      packages.push(...scanner.push(decoder.write(chunk as Buffer)));
    }
    packages.push(...scanner.push(decoder.end()));
  } catch (e) {
    problem(`${primary.href}: cannot be decompressed or read: ${(e as Error).message}`);
    return result(0, 0);
  }
  if (openHash && primary.openChecksum && openHash.digest('hex') !== primary.openChecksum.toLowerCase()) {
    problem(`${primary.href}: the uncompressed content does not match its open-checksum in repomd.xml`);
  }

  let bytes = 0;
  await pool(packages, opts.concurrency ?? 4, async (p) => {
    if (!p.href) {
      problem(`package ${p.name}.${p.arch} has no location in primary metadata`);
      return;
    }
    const r = await checkFile(localPath(repoDir, p.href), p.href, 'primary metadata', p, checksums);
    if (r.problem) problem(r.problem);
    else bytes += r.size;
  });
  return result(packages.length, bytes);
}
