// Publishing the lists mirrors poll: written next to the published ones under temp names, and renamed into
// place only when the content changed, so a mirror never sees a half-written list and an unchanged tree
// never triggers a full rsync on every mirror (reference §1.10, §2.2).
import fs from 'node:fs';
import path from 'node:path';
import { syncToDisk } from '../durable.js';
import type { ChecksumAlgorithm } from './format.js';
import { imagelistName, writeImagelistFromTimelist } from './imagelist.js';
import { FdSink } from './sink.js';
import { generateFileLists } from './walk.js';
import { ROOT_MARKER_FILE, ROOT_STATE_DIR } from '../config/roots.js';
import { FENCE_DIR } from '../lock/fence.js';

export const FILELIST_NAME = 'fullfilelist';
export const DEFAULT_TIMELIST_ALIASES: readonly string[] = ['fullfiletimelist'];
const OLD_SUFFIX = '-old';
const LIST_MODE = 0o644;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export const timelistName = (module: string) => `fullfiletimelist-${module}`;

export interface FileListOwner {
  uid: number;
  gid: number;
}

export interface PublishFileListsOptions {
  /** The tree to list; the lists are published at its top. */
  dir: string;
  /** Runs after the walk, before any list is replaced; if it throws, nothing is published (the fence's recheck). */
  beforePublish?: () => Promise<void>;
  /** `sig` → `fullfiletimelist-sig`. */
  module: string;
  /** Copies of the timelist under other names; default `fullfiletimelist`. */
  aliases?: readonly string[];
  /** chown every file written; null/absent keeps the process's own ids. */
  owner?: FileListOwner | null;
  /** Basenames to checksum; default `repomd.xml`. */
  checksumNames?: readonly string[];
  /** Default SHA1, MD5, SHA256, SHA512. */
  checksumAlgorithms?: readonly ChecksumAlgorithm[];
  onProgress?: (entries: number) => void;
  progressEvery?: number;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface PublishFileListsResult {
  dir: string;
  module: string;
  /** `[Files]` rows of the timelist. */
  entries: number;
  /** `./<path>` lines of `imagelist-<module>`. */
  images: number;
  /** Lists and aliases whose content was replaced (previous timelist and plain list kept as `<name>-old`). */
  changed: string[];
  /** Lists and aliases left exactly as they were. */
  unchanged: string[];
}

/** Names this module manages in `dir`; none of them (nor their temp files) may appear in the lists. */
export function managedNames(module: string, aliases: readonly string[]) {
  const timelist = timelistName(module);
  const imagelist = imagelistName(module);
  const lists = [FILELIST_NAME, timelist];
  // No `-old` of the image list: Fedora's wrapper keeps none, and the Rocky seed keeps `-old` only of what it writes.
  const all = new Set([...lists, ...lists.map((n) => n + OLD_SUFFIX), imagelist, ...aliases]);
  return { timelist, imagelist, all };
}

function assertSafeName(what: string, value: string): void {
  if (!SAFE_NAME.test(value)) {
    throw new Error(
      `Invalid ${what} ${JSON.stringify(value)}: use letters, digits, '.', '_', '+' or '-', ` +
        'starting with a letter or digit (it becomes a file name in the published directory).',
    );
  }
}

function validate(module: string, aliases: readonly string[]): void {
  assertSafeName('file-list module', module);
  const reserved = new Set([...[FILELIST_NAME, timelistName(module)].flatMap((n) => [n, n + OLD_SUFFIX]), imagelistName(module)]);
  for (const alias of aliases) {
    assertSafeName('timelist alias', alias);
    if (reserved.has(alias)) {
      throw new Error(
        `Invalid timelist alias ${JSON.stringify(alias)}: it is one of the lists this module writes ` +
          `(${[...reserved].join(', ')}); choose another name.`,
      );
    }
  }
}

let tempCounter = 0;
/** `.fullfiletimelist-sig.tmp-<pid>-<n>`: same directory (rename stays atomic), hidden, unique per call. */
const tempName = (name: string) => `.${name}.tmp-${process.pid}-${++tempCounter}`;

/** True when `b` exists and holds exactly the bytes of `a`. */
export function sameContent(a: string, b: string): boolean {
  let fdB: number;
  try {
    fdB = fs.openSync(b, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const fdA = fs.openSync(a, 'r');
  try {
    if (fs.fstatSync(fdA).size !== fs.fstatSync(fdB).size) return false;
    const size = 1 << 20;
    const bufA = Buffer.allocUnsafe(size);
    const bufB = Buffer.allocUnsafe(size);
    for (;;) {
      const nA = fs.readSync(fdA, bufA, 0, size, null);
      const nB = fs.readSync(fdB, bufB, 0, size, null);
      if (nA !== nB) return false;
      if (nA === 0) return true;
      if (!bufA.subarray(0, nA).equals(bufB.subarray(0, nB))) return false;
    }
  } finally {
    fs.closeSync(fdA);
    fs.closeSync(fdB);
  }
}

function settle(file: string, owner: FileListOwner | null): void {
  fs.chmodSync(file, LIST_MODE);
  if (owner) fs.chownSync(file, owner.uid, owner.gid);
}

/** Copies `src` to `dest` through a temp file and a rename, so readers see the old or the new file. */
function atomicCopy(dir: string, src: string, destName: string, owner: FileListOwner | null): void {
  const tmp = path.join(dir, tempName(destName));
  try {
    fs.copyFileSync(src, tmp);
    settle(tmp, owner);
    syncToDisk(tmp);
    fs.renameSync(tmp, path.join(dir, destName));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Generates `fullfilelist` and `fullfiletimelist-<module>` for `dir` in one walk (and `imagelist-<module>` from
 * the timelist) and publishes each one only
 * if its content changed: the previous list goes to `<name>-old`, the new one is renamed into place, then
 * the aliases are brought in line with the timelist. Unchanged files keep their inode and times. On any
 * error (e.g. BadFileNameError) the published files are left as they were and the temp files removed.
 */
export async function publishFileLists(opts: PublishFileListsOptions): Promise<PublishFileListsResult> {
  const dir = path.resolve(opts.dir);
  const aliases = opts.aliases ?? DEFAULT_TIMELIST_ALIASES;
  const owner = opts.owner ?? null;
  validate(opts.module, aliases);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`Cannot publish file lists in ${dir}: it is not a directory (check the dir setting).`);
  }
  const { timelist, imagelist, all } = managedNames(opts.module, aliases);
  const tempPrefixes = [...all].map((n) => `.${n}.tmp-`);
  // The root marker (sigrelease init-roots), the state folder and the lock's fence are ours, not the mirror's:
  // mirrors never copy them.
  const skipTopLevel = (name: string) =>
    all.has(name) || name === ROOT_MARKER_FILE || name === ROOT_STATE_DIR || name === FENCE_DIR || (name.startsWith('.') && tempPrefixes.some((p) => name.startsWith(p)));

  const tmpFilelist = path.join(dir, tempName(FILELIST_NAME));
  const tmpTimelist = path.join(dir, tempName(timelist));
  const tmpImagelist = path.join(dir, tempName(imagelist));
  const temps = [tmpFilelist, tmpTimelist, tmpImagelist];
  const fds: number[] = [];
  let entries: number;
  let images: number;
  try {
    const flFd = fs.openSync(tmpFilelist, 'wx', LIST_MODE);
    fds.push(flFd);
    const tlFd = fs.openSync(tmpTimelist, 'wx', LIST_MODE);
    fds.push(tlFd);
    const result = await generateFileLists({
      root: dir,
      timelist: new FdSink(tlFd),
      filelist: new FdSink(flFd),
      skipTopLevel,
      checksumNames: opts.checksumNames,
      checksumAlgorithms: opts.checksumAlgorithms,
      onProgress: opts.onProgress,
      progressEvery: opts.progressEvery,
      onWarning: opts.onWarning,
      signal: opts.signal,
    });
    entries = result.entries;
    const ilFd = fs.openSync(tmpImagelist, 'wx', LIST_MODE);
    fds.push(ilFd);
    images = writeImagelistFromTimelist(tmpTimelist, new FdSink(ilFd));
    for (const fd of fds.splice(0)) {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
  } catch (err) {
    for (const fd of fds) fs.closeSync(fd);
    for (const tmp of temps) fs.rmSync(tmp, { force: true });
    throw err;
  }

  const changed: string[] = [];
  const unchanged: string[] = [];
  try {
    await opts.beforePublish?.();
    for (const [name, tmp, keepOld] of [
      [FILELIST_NAME, tmpFilelist, true],
      [timelist, tmpTimelist, true],
      [imagelist, tmpImagelist, false],
    ] as const) {
      const published = path.join(dir, name);
      if (sameContent(tmp, published)) {
        fs.rmSync(tmp);
        unchanged.push(name);
        continue;
      }
      if (keepOld && fs.existsSync(published)) atomicCopy(dir, published, name + OLD_SUFFIX, owner);
      settle(tmp, owner);
      fs.renameSync(tmp, published);
      changed.push(name);
    }
    const publishedTimelist = path.join(dir, timelist);
    for (const alias of aliases) {
      if (sameContent(publishedTimelist, path.join(dir, alias))) {
        unchanged.push(alias);
      } else {
        atomicCopy(dir, publishedTimelist, alias, owner);
        changed.push(alias);
      }
    }
  } finally {
    for (const tmp of temps) fs.rmSync(tmp, { force: true });
  }
  // Makes the renames durable.
  if (changed.length > 0) syncToDisk(dir);
  return { dir, module: opts.module, entries, images, changed, unchanged };
}
