// Parses rsync `--info=progress2` output and the `--stats` summary. Pure.
//
// progress2 writes one line rewritten with `\r` (reference/repo-tools-on-debian.md §7):
//   "\r     20,971,520  33%    1.08GB/s    0:00:00 (xfr#1, to-chk=2/4)"
//   "\r      1,063,840  70% 1000.90kB/s    0:00:00  "                  (mid-file: no counters)
//   "…(xfr#0, ir-chk=1000/1020)"                                       (incremental recursion still scanning)
// Numbers carry thousands separators (`,` under LC_ALL=C; `.` or `'` in some locales).
import type { Progress2 } from './types.js';

const RECORD_RE =
  /^\s*([\d,.']+)\s+(\d{1,3})%\s+(\S+\/s)\s+(\d+:\d{2}:\d{2})(?:\s+\(xfr#(\d+),\s*(to|ir)-chk=(\d+)\/(\d+)\))?\s*$/;

const num = (s: string) => Number(s.replace(/[,.']/g, ''));

/** Parses one progress2 record (text between `\r`/`\n` separators). Null when it is not one. */
export function parseProgress2Record(record: string): Progress2 | null {
  const m = RECORD_RE.exec(record);
  if (!m) return null;
  const [, bytes, percent, rate, , xfr, chkKind, chk, total] = m;
  return {
    bytes: num(bytes!),
    percent: Number(percent),
    rate: rate!,
    filesTransferred: xfr === undefined ? null : Number(xfr),
    toCheck: chk === undefined ? null : Number(chk),
    total: total === undefined ? null : Number(total),
    incremental: chkKind === 'ir',
  };
}

/** Parses every record in a chunk of output (records separated by `\r` or `\n`). */
export function parseProgress2(output: string): Progress2[] {
  const out: Progress2[] = [];
  for (const rec of output.split(/[\r\n]/)) {
    const p = parseProgress2Record(rec);
    if (p) out.push(p);
  }
  return out;
}

/**
 * Streaming parser: feed stdout chunks as they arrive (records may be split across chunks). Keeps the latest state,
 * carrying `xfr#`/`to-chk` forward through mid-file records that do not print them.
 */
export class Progress2Tracker {
  private pending = '';
  private state: Progress2 | null = null;
  /** Non-progress lines (itemize output, stats) seen so far, kept only up to `keepTextChars` at the end. */
  private text = '';

  constructor(private readonly keepTextChars = 64 * 1024) {}

  /** Returns the records completed by this chunk (already merged with the carried-forward counters). */
  push(chunk: string): Progress2[] {
    const data = this.pending + chunk;
    const parts = data.split(/([\r\n])/);
    // The last part has no separator yet: keep it for the next chunk.
    this.pending = parts.pop() ?? '';
    const out: Progress2[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const rec = parts[i]!;
      const sep = parts[i + 1];
      const p = this.consume(rec, sep === '\n');
      if (p) out.push(p);
    }
    return out;
  }

  /** Flushes a trailing record without separator (end of stream). */
  end(): Progress2[] {
    const rest = this.pending;
    this.pending = '';
    const p = rest ? this.consume(rest, true) : null;
    return p ? [p] : [];
  }

  private consume(rec: string, endsLine: boolean): Progress2 | null {
    const p = parseProgress2Record(rec);
    if (!p) {
      if (rec.trim() !== '' || endsLine) this.appendText(rec + (endsLine ? '\n' : ''));
      return null;
    }
    const prev = this.state;
    const merged: Progress2 = {
      ...p,
      filesTransferred: p.filesTransferred ?? prev?.filesTransferred ?? null,
      toCheck: p.toCheck ?? prev?.toCheck ?? null,
      total: p.total ?? prev?.total ?? null,
      incremental: p.filesTransferred === null ? (prev?.incremental ?? false) : p.incremental,
    };
    this.state = merged;
    return merged;
  }

  private appendText(s: string) {
    this.text += s;
    if (this.text.length > this.keepTextChars * 2) this.text = this.text.slice(-this.keepTextChars);
  }

  get latest(): Progress2 | null {
    return this.state;
  }

  /** The non-progress text seen (the tail of it): where `--stats` output ends up. */
  get otherText(): string {
    return this.text.length > this.keepTextChars ? this.text.slice(-this.keepTextChars) : this.text;
  }
}

export interface RsyncStats {
  /** `Number of regular files transferred`. */
  regularFilesTransferred: number | null;
  /** `Total transferred file size` (bytes). */
  transferredBytes: number | null;
  /** `Number of deleted files` (everything, dirs included). */
  deletedFiles: number | null;
  /** `Number of files` (the source side, everything). */
  files: number | null;
}

/** Parses rsync `--stats` output (LC_ALL=C formatting). Missing lines give null. */
export function parseRsyncStats(output: string): RsyncStats {
  const grab = (label: string): number | null => {
    const m = new RegExp(`^${label}:\\s*([\\d,.']+)`, 'm').exec(output);
    return m?.[1] === undefined ? null : num(m[1]);
  };
  return {
    regularFilesTransferred: grab('Number of regular files transferred'),
    transferredBytes: grab('Total transferred file size'),
    deletedFiles: grab('Number of deleted files'),
    files: grab('Number of files'),
  };
}
