// Which compose folders of one SIG and release `sigrelease prune` removes: everything but the newest `keep`,
// except the folders something still needs (latest, the source of staging and of production, running releases).
// Pure: the activity (activities/retention.ts) gathers the facts, this decides, tests check it without a disk.

/** Why a compose is kept whatever its age. */
export type KeepReason = 'latest' | 'staging' | 'production' | 'running';

export interface ComposeFolder {
  /** The folder's name in `<composeRoot>/<release>`: `SIG-<sig>-<revision>-<stamp>`. */
  name: string;
  /** `YYYYMMDD.HHMMSS`, UTC: sorts as time does. */
  stamp: string;
}

const STAMP = /\d{8}\.\d{6}/;
const STAMP_ANYWHERE = /\d{8}\.\d{6}/g;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The compose folder a name stands for, or null when it is not a dated compose of this SIG (any revision: a
 * release's revision moves on at a minor bump, and older composes keep the old one in their name).
 */
export function parseComposeFolder(name: string, sig: string): ComposeFolder | null {
  const m = new RegExp(`^SIG-${escape(sig)}-[0-9]+\\.[0-9]+-(\\d{8}\\.\\d{6})$`).exec(name);
  return m ? { name, stamp: m[1]! } : null;
}

/**
 * The compose stamp a record names (a compose folder name or path, a compose ID `<sig>-<rel>-<stamp>`, a
 * marker file's first line), or null when it names none.
 */
export function stampOf(record: string | null | undefined): string | null {
  if (!record) return null;
  return STAMP.exec(record)?.[0] ?? null;
}

/**
 * Every compose stamp a running release's status names (its compose child's ID carries its stamp; a run that
 * re-stages or rolls back names the compose it took). Reading them all errs on the side of keeping.
 */
export function stampsNamedIn(status: unknown): string[] {
  return [...new Set(JSON.stringify(status ?? null).match(STAMP_ANYWHERE) ?? [])];
}

export interface ProtectedInput {
  /** The folder `latest-SIG-<sig>-<rel>` points to. */
  latest: string | null;
  /** Where staging and production came from (their source records, src/lifecycle/sources.ts). */
  staging: string | null;
  production: string | null;
  /** Compose stamps or IDs that running releases of this SIG and release use. */
  running: string[];
}

/** Stamp → why it is kept. */
export function protectedComposes(input: ProtectedInput): Map<string, KeepReason[]> {
  const out = new Map<string, KeepReason[]>();
  const add = (record: string | null, reason: KeepReason) => {
    const stamp = stampOf(record);
    if (!stamp) return;
    const reasons = out.get(stamp) ?? [];
    if (!reasons.includes(reason)) reasons.push(reason);
    out.set(stamp, reasons);
  };
  add(input.latest, 'latest');
  add(input.staging, 'staging');
  add(input.production, 'production');
  for (const r of input.running) add(r, 'running');
  return out;
}

export interface PrunePlan {
  /** Newest first, with why each is kept (`newest` for the `keep` newest). */
  kept: Array<ComposeFolder & { reasons: Array<KeepReason | 'newest'> }>;
  /** Oldest first. */
  removed: ComposeFolder[];
}

/** The newest `keep` stay, and every protected one; the rest go. */
export function planPrune(folders: ComposeFolder[], keep: number, protect: Map<string, KeepReason[]>): PrunePlan {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a whole number of at least 1 (got ${keep})`);
  const newestFirst = [...folders].sort((a, b) => b.stamp.localeCompare(a.stamp) || b.name.localeCompare(a.name));
  const kept: PrunePlan['kept'] = [];
  const removed: ComposeFolder[] = [];
  newestFirst.forEach((f, i) => {
    const reasons: Array<KeepReason | 'newest'> = [...(i < keep ? (['newest'] as const) : []), ...(protect.get(f.stamp) ?? [])];
    if (reasons.length > 0) kept.push({ ...f, reasons });
    else removed.push(f);
  });
  return { kept, removed: removed.reverse() };
}

/** One file's identity and what it costs, as lstat reports it. */
export interface FileLink {
  dev: number;
  ino: number;
  /** Hard links to the inode anywhere on its file system. */
  nlink: number;
  size: number;
}

/**
 * The bytes that removing these files gives back: an inode's data is freed only when its last link goes, so a
 * file counts only when every one of its links is among `files` (composes seeded from each other share most
 * packages by hard links). Each inode is counted once. Folders' own blocks are not counted.
 */
export function bytesFreed(files: Iterable<FileLink>): { bytes: number; files: number; sharedFiles: number } {
  const seen = new Map<string, { nlink: number; size: number; links: number }>();
  for (const f of files) {
    const key = `${f.dev}:${f.ino}`;
    const s = seen.get(key);
    if (s) s.links++;
    else seen.set(key, { nlink: f.nlink, size: f.size, links: 1 });
  }
  let bytes = 0;
  let freed = 0;
  let shared = 0;
  for (const s of seen.values()) {
    if (s.links >= s.nlink) {
      bytes += s.size;
      freed++;
    } else shared++;
  }
  return { bytes, files: freed, sharedFiles: shared };
}
