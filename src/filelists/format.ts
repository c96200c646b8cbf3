// The `fullfiletimelist` format, version 2, as quick-fedora-mirror clients and MirrorManager read it
// (reference/mirror-file-lists.md §1.1–1.5). Pure text building: stats come in, lines go out.

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IRGRP = 0o040;
export const S_IROTH = 0o004;

/** Everything before the first `[Files]` row. */
export const TIMELIST_HEADER = '[Version]\n2\n\n[Files]\n';
/** Everything after the last checksum section; clients reject a list without `[End]` as half-written. */
export const TIMELIST_TRAILER = '\n[End]\n';

export const CHECKSUM_ALGORITHMS = ['SHA1', 'MD5', 'SHA256', 'SHA512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
/** What Fedora serves since 2024 (four sections); upstream quick-fedora-mirror wrote SHA1 only. */
export const DEFAULT_CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = CHECKSUM_ALGORITHMS;
export const SHA1_ONLY: readonly ChecksumAlgorithm[] = ['SHA1'];

/** The lstat fields a `[Files]` row is made of; times in nanoseconds as `{ bigint: true }` stats give them. */
export interface TimelistStat {
  mode: number | bigint;
  size: number | bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface TimelistEntry {
  /** Relative to the scanned directory, `/`-separated, no `./`. */
  path: string;
  /** lstat of the entry itself. */
  stat: TimelistStat;
  /** True when some directory above the entry lacks other-read (the `*` marker). */
  inRestricted: boolean;
}

export interface ChecksumRow {
  path: string;
  /** Lowercase hex. */
  digest: string;
}

export interface ChecksumSection {
  algorithm: ChecksumAlgorithm;
  rows: readonly ChecksumRow[];
}

const NS_PER_S = 1_000_000_000n;

/** Python's float view of a stat time: `sec + nsec * 1e-9` in double precision. */
function pythonStatSeconds(ns: bigint): number {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  // struct timespec keeps tv_nsec in [0, 1e9) even before the epoch.
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_S;
  }
  return Number(sec) + Number(nsec) * 1e-9;
}

/**
 * `int(max(st_mtime, st_ctime))` exactly as the peer computes it: an instant within ~120 ns of the next
 * second rounds up to it in double precision, so integer-only arithmetic would disagree there.
 */
export function timelistTimestamp(mtimeNs: bigint, ctimeNs: bigint): number {
  return Math.trunc(Math.max(pythonStatSeconds(mtimeNs), pythonStatSeconds(ctimeNs)));
}

/**
 * timelistTimestamp from seconds and nanoseconds as separate numbers (what the raw lstat of rawstat.ts
 * gives): the same double arithmetic, no BigInt. Nanoseconds are normalised into [0, 1e9) like timespec.
 */
export function timelistTimestampFromParts(mtimeSec: number, mtimeNsec: number, ctimeSec: number, ctimeNsec: number): number {
  if (mtimeNsec < 0 || mtimeNsec >= 1e9 || ctimeNsec < 0 || ctimeNsec >= 1e9) {
    return timelistTimestamp(BigInt(mtimeSec) * NS_PER_S + BigInt(mtimeNsec), BigInt(ctimeSec) * NS_PER_S + BigInt(ctimeNsec));
  }
  const m = mtimeSec + mtimeNsec * 1e-9;
  const c = ctimeSec + ctimeNsec * 1e-9;
  return Math.trunc(m > c ? m : c);
}

/** How close (in ms) to the next second a millisecond stat time must be before only nanoseconds can decide. */
const MS_ROUNDING_MARGIN = 0.01;

/**
 * The same timestamp from the millisecond doubles of ordinary (non-bigint) stats, which are cheaper to get;
 * null when the newer time lies within 10 µs of a second boundary, on either side (the ms double itself can
 * round up onto the boundary), or before the epoch: then use timelistTimestamp on `{ bigint: true }` stats.
 */
export function timelistTimestampFromMs(mtimeMs: number, ctimeMs: number): number | null {
  const newer = mtimeMs > ctimeMs ? mtimeMs : ctimeMs;
  const withinSecond = newer % 1000;
  if (!(newer >= 0) || withinSecond < MS_ROUNDING_MARGIN || withinSecond >= 1000 - MS_ROUNDING_MARGIN) return null;
  return Math.floor(newer / 1000);
}

/** `l` symlink, `d` directory, `f` everything else (fifos, sockets and devices included). */
export function entryTypeLetter(mode: number): 'f' | 'd' | 'l' {
  const fmt = mode & S_IFMT;
  if (fmt === S_IFLNK) return 'l';
  if (fmt === S_IFDIR) return 'd';
  return 'f';
}

/** `-` when the entry itself is not world-readable, else `*` below such a directory; `-` wins. */
export function accessMarker(mode: number, inRestricted: boolean): '' | '-' | '*' {
  if ((mode & S_IROTH) === 0) return '-';
  return inRestricted ? '*' : '';
}

/** One `[Files]` row, newline included: `<timestamp>\t<type><marker>\t<size>\t<path>\n`. */
export function filesRow(timestamp: number, mode: number, inRestricted: boolean, size: number | bigint, path: string): string {
  return `${timestamp}\t${entryTypeLetter(mode)}${accessMarker(mode, inRestricted)}\t${size}\t${path}\n`;
}

/** The row of a ready-made record (lstat with nanosecond times). */
export function formatFilesRow(entry: TimelistEntry): string {
  const { stat } = entry;
  return filesRow(timelistTimestamp(stat.mtimeNs, stat.ctimeNs), Number(stat.mode), entry.inRestricted, stat.size, entry.path);
}

/** Python sorts str by code point, which is UTF-8 byte order; JS's default sort uses UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The checksum sections, each preceded by its blank line; rows sorted by the UTF-8 bytes of the path. */
export function formatChecksumSections(sections: readonly ChecksumSection[]): string {
  let out = '';
  for (const section of sections) {
    out += `\n[Checksums ${section.algorithm}]\n`;
    const rows = [...section.rows].sort((a, b) => compareUtf8(a.path, b.path));
    for (const row of rows) out += `${row.digest}\t${row.path}\n`;
  }
  return out;
}

/** A whole list from ready-made records, in the given row order (the walker streams the same pieces instead). */
export function formatTimelist(entries: Iterable<TimelistEntry>, sections: readonly ChecksumSection[]): string {
  let out = TIMELIST_HEADER;
  for (const entry of entries) out += formatFilesRow(entry);
  return out + formatChecksumSections(sections) + TIMELIST_TRAILER;
}
