// Parses rsync `--itemize-changes` output (a dry run) into a SyncPreview. Pure: no file system access.
//
// Two line formats are understood (reference/repo-tools-on-debian.md §7):
//   sized:  --out-format='%i %l %n%L'   ">f+++++++++ 4 x86_64/core-common/Packages/a/a b.rpm"
//   plain:  -i (rsync's default)        ">f+++++++++ x86_64/core-common/Packages/a/a b.rpm"
// The first 11 characters are the itemize flags `YXcstpoguax`, or the message `*deleting  `.
// `%l` is 0 on deletion lines, so deleted sizes come from the caller (who can stat the target).
// `%L` appends ` -> target` for symlinks and ` => target` for hard links (with -H).
// rsync escapes unprintable bytes in names as `\#ooo` (octal); names may contain spaces and tabs.
import type { ChangeCount, KeptDir, RepoChanges, SyncPreview } from './types.js';

export type ItemizeKind = 'deleted' | 'added' | 'changed' | 'attributes' | 'unchanged';
export type ItemizeFileType = 'file' | 'dir' | 'symlink' | 'device' | 'special' | 'unknown';

export interface ItemizeEntry {
  /** The 11 itemize characters as printed. */
  flags: string;
  kind: ItemizeKind;
  /** For deletions rsync prints no type: a trailing `/` means dir, anything else is `unknown` (file or symlink). */
  fileType: ItemizeFileType;
  /** Path relative to the transfer root, decoded, without trailing slash (`.` for the root itself). */
  path: string;
  /** `%l` when the sized format is used (0 for deletions); null in the plain format. */
  size: number | null;
  /** Symlink or hard-link target from `%L`. */
  linkTarget?: string;
}

export type ItemizeFormat = 'sized' | 'plain';

/** The `--out-format` that `parseItemizeLine(..., 'sized')` expects. */
export const ITEMIZE_OUT_FORMAT = '%i %l %n%L';

const FLAGS_RE = /^(?:\*deleting  |[<>ch.][fdLDS][ .+?a-zA-Z]{9})$/;
const TYPE_OF: Record<string, ItemizeFileType> = { f: 'file', d: 'dir', L: 'symlink', D: 'device', S: 'special' };

/** Decodes rsync's `\#ooo` escapes (octal byte values) back into a UTF-8 string. */
export function decodeRsyncName(name: string): string {
  if (!name.includes('\\#')) return name;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; ) {
    const m = /^\\#([0-7]{3})/.exec(name.slice(i, i + 5));
    if (m?.[1] !== undefined) {
      bytes.push(parseInt(m[1], 8));
      i += 5;
    } else {
      const cp = name.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses one line of itemized output. Returns null for lines that are not itemize records
 * (blank lines, `created directory …`, `--stats` output, warnings).
 */
export function parseItemizeLine(line: string, format: ItemizeFormat = 'sized'): ItemizeEntry | null {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.length < 13 || text[11] !== ' ') return null;
  const flags = text.slice(0, 11);
  if (!FLAGS_RE.test(flags)) return null;
  let rest = text.slice(12);
  let size: number | null = null;
  if (format === 'sized') {
    const m = /^(\d+) /.exec(rest);
    if (!m?.[1]) return null;
    size = Number(m[1]);
    rest = rest.slice(m[0].length);
  }
  if (rest.length === 0) return null;

  if (flags.startsWith('*deleting')) {
    const isDir = rest.endsWith('/');
    return { flags, kind: 'deleted', fileType: isDir ? 'dir' : 'unknown', path: normalise(decodeRsyncName(rest)), size };
  }

  const fileType = TYPE_OF[flags[1]!] ?? 'unknown';
  let linkTarget: string | undefined;
  // `%L` appends " -> target" (symlink) or " => target" (hard link, Y = 'h'). A name may itself contain
  // " -> ", so split at the first arrow only for entries that can carry one; rsync escapes nothing here,
  // so a symlink whose *name* contains " -> " is ambiguous and we take the first arrow (rare; reported as-is).
  const arrow = fileType === 'symlink' ? ' -> ' : flags[0] === 'h' ? ' => ' : null;
  if (arrow !== null) {
    const at = rest.indexOf(arrow);
    if (at > 0) {
      linkTarget = decodeRsyncName(rest.slice(at + arrow.length));
      rest = rest.slice(0, at);
    }
  }
  const attrs = flags.slice(2);
  let kind: ItemizeKind;
  if (/^\++$/.test(attrs)) kind = 'added';
  else if (flags[0] === '>' || flags[0] === '<' || flags[0] === 'c' || flags[0] === 'h') kind = 'changed';
  else if (/^[. ]+$/.test(attrs)) kind = 'unchanged';
  else kind = 'attributes';
  const entry: ItemizeEntry = { flags, kind, fileType, path: normalise(decodeRsyncName(rest)), size };
  if (linkTarget !== undefined) entry.linkTarget = linkTarget;
  return entry;
}

function normalise(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' ? '.' : trimmed.replace(/^\.\//, '');
}

/**
 * The repository an entry belongs to: the first two path components (`x86_64/core-common`), `metadata` for the
 * SIG's metadata folder, `<arch>` for a file directly inside an arch dir, `.` for a top-level file.
 * `isDir` matters only for paths of one or two components (a dir `x86_64/core-common` *is* the repo).
 */
export function repoKeyOf(relPath: string, isDir = false): string {
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return '.';
  if (parts[0] === 'metadata') return 'metadata';
  if (parts.length >= 3) return `${parts[0]}/${parts[1]}`;
  if (parts.length === 2) return isDir ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return isDir ? parts[0]! : '.';
}

const zero = (): ChangeCount => ({ files: 0, bytes: 0 });
const emptyRepo = (): RepoChanges => ({ added: zero(), changed: zero(), deleted: zero(), attributesOnly: 0, targetFiles: 0, status: 'unchanged' });

/** Is this key a repository root (`<arch>/<repo>` or `metadata`) as opposed to a bucket of loose files? */
const isRepoRootKey = (key: string) => key === 'metadata' || key.split('/').length === 2;

/**
 * Accumulates itemize entries into a SyncPreview. Feed it every line (in any order), tell it what the target holds,
 * then `build()`.
 */
export class SyncPreviewBuilder {
  private readonly added = zero();
  private readonly changed = zero();
  private readonly deleted = zero();
  private attributesOnly = 0;
  private readonly dirs = { added: 0, deleted: 0 };
  private deleteEntries = 0;
  private itemizedLines = 0;
  private readonly repos = new Map<string, RepoChanges>();
  private readonly createdRepoDirs = new Set<string>();
  private readonly removedRepoDirs = new Set<string>();
  private targetFiles = 0;

  constructor(private readonly format: ItemizeFormat = 'sized') {}

  private repo(key: string): RepoChanges {
    let r = this.repos.get(key);
    if (!r) this.repos.set(key, (r = emptyRepo()));
    return r;
  }

  /** Parses and adds one output line; returns the entry (null when the line is not an itemize record). */
  addLine(line: string, deletedSize?: (entry: ItemizeEntry) => number): ItemizeEntry | null {
    const entry = parseItemizeLine(line, this.format);
    if (entry) this.add(entry, entry.kind === 'deleted' && entry.fileType !== 'dir' ? deletedSize?.(entry) : undefined);
    return entry;
  }

  /** Adds one entry. For deletions, pass the size the file has in the target (rsync prints 0). */
  add(entry: ItemizeEntry, deletedBytes?: number): void {
    this.itemizedLines++;
    const isDir = entry.fileType === 'dir';
    const key = repoKeyOf(entry.path, isDir);
    if (isDir) {
      if (entry.kind === 'deleted') {
        this.dirs.deleted++;
        this.deleteEntries++;
        if (isRepoRootKey(key) && key === entry.path) {
          this.removedRepoDirs.add(key);
          this.repo(key);
        }
      } else if (entry.kind === 'added' && entry.path !== '.') {
        this.dirs.added++;
        if (isRepoRootKey(key) && key === entry.path) {
          this.createdRepoDirs.add(key);
          this.repo(key);
        }
      }
      return;
    }
    const size = entry.size ?? 0;
    switch (entry.kind) {
      case 'deleted': {
        const bytes = deletedBytes ?? 0;
        this.deleteEntries++;
        bump(this.deleted, bytes);
        bump(this.repo(key).deleted, bytes);
        break;
      }
      case 'added':
        bump(this.added, size);
        bump(this.repo(key).added, size);
        break;
      case 'changed':
        bump(this.changed, size);
        bump(this.repo(key).changed, size);
        break;
      case 'attributes':
        this.attributesOnly++;
        this.repo(key).attributesOnly++;
        break;
      case 'unchanged':
        break;
    }
  }

  /** Adds the target-side size of a deletion that was added without it (sizes known only after an lstat). */
  addDeletedBytes(entry: ItemizeEntry, bytes: number): void {
    if (entry.kind !== 'deleted' || entry.fileType === 'dir') return;
    this.deleted.bytes += bytes;
    this.repo(repoKeyOf(entry.path, false)).deleted.bytes += bytes;
  }

  /** Records how many non-directory entries the target holds now, overall and per repo key (see `repoKeyOf`). */
  setTargetFiles(total: number, byRepo: ReadonlyMap<string, number> | Record<string, number>): void {
    this.targetFiles = total;
    const entries = byRepo instanceof Map ? [...byRepo.entries()] : Object.entries(byRepo);
    for (const [key, n] of entries) this.repo(key).targetFiles = n;
  }

  build(meta: { source: string; target: string; targetExists: boolean; reportFile: string; targetBytes?: number; kept?: KeptDir[] }): SyncPreview {
    const repos: Record<string, RepoChanges> = {};
    for (const key of [...this.repos.keys()].sort()) {
      const r = this.repos.get(key)!;
      const touched = r.added.files + r.changed.files + r.deleted.files + r.attributesOnly > 0;
      r.status = this.removedRepoDirs.has(key)
        ? 'removed'
        : this.createdRepoDirs.has(key)
          ? 'new'
          : touched
            ? 'changed'
            : 'unchanged';
      repos[key] = r;
    }
    return {
      source: meta.source,
      target: meta.target,
      targetExists: meta.targetExists,
      added: { ...this.added },
      changed: { ...this.changed },
      deleted: { ...this.deleted },
      attributesOnly: this.attributesOnly,
      dirs: { ...this.dirs },
      deleteEntries: this.deleteEntries,
      targetFiles: this.targetFiles,
      targetBytes: meta.targetBytes ?? 0,
      kept: meta.kept ?? [],
      repos,
      reportFile: meta.reportFile,
      itemizedLines: this.itemizedLines,
    };
  }
}

function bump(c: ChangeCount, bytes: number) {
  c.files++;
  c.bytes += bytes;
}

/** Convenience for tests and small outputs: the whole dry-run output at once. */
export function buildSyncPreview(
  output: string,
  meta: {
    source: string;
    target: string;
    targetExists?: boolean;
    reportFile?: string;
    targetFiles?: number;
    targetBytes?: number;
    targetFilesByRepo?: Record<string, number>;
    deletedSizes?: Record<string, number>;
    format?: ItemizeFormat;
  },
): SyncPreview {
  const b = new SyncPreviewBuilder(meta.format ?? 'sized');
  for (const line of output.split('\n')) b.addLine(line, (e) => meta.deletedSizes?.[e.path] ?? 0);
  b.setTargetFiles(meta.targetFiles ?? 0, meta.targetFilesByRepo ?? {});
  return b.build({ source: meta.source, target: meta.target, targetExists: meta.targetExists ?? true, reportFile: meta.reportFile ?? '', targetBytes: meta.targetBytes ?? 0 });
}
