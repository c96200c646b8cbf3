// Small file operations the compose activities share: every write goes to a temporary name in the same
// folder and is renamed into place, so a reader (or a crash) never sees half a file.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { syncToDiskAsync } from '../durable.js';

const tmpName = (target: string) => path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`);

/** Writes `data` to `target` atomically (temp + rename); `mtime` keeps a remote file's time (`curl -R`). */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mtime?: Date): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpName(target);
  try {
    await fs.writeFile(tmp, data);
    if (mtime) await fs.utimes(tmp, mtime, mtime);
    // Data on disk before the rename makes it visible: after a power cut the name holds the old or the new file.
    await syncToDiskAsync(tmp);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Copies `source` to `target` atomically, keeping the source's mtime. */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpName(target);
  try {
    await fs.copyFile(source, tmp);
    const st = await fs.stat(source);
    await fs.utimes(tmp, st.atime, st.mtime);
    await syncToDiskAsync(tmp);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export class FetchError extends Error {
  override name = 'FetchError';
  constructor(
    message: string,
    /** 4xx other than 408/429: asking again will not help. */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface FetchedFile {
  body: Uint8Array;
  /** From Last-Modified, when the server sent one. */
  lastModified: Date | null;
}

/** GETs a URL (http(s) or file://) into memory; for keys and extra files, which are small. */
export async function fetchSmallFile(url: string, opts: { timeoutMs?: number; maxBytes?: number; signal?: AbortSignal } = {}): Promise<FetchedFile> {
  const maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
  if (url.startsWith('file://')) {
    const file = new URL(url);
    try {
      const [body, st] = await Promise.all([fs.readFile(file), fs.stat(file)]);
      return { body, lastModified: st.mtime };
    } catch (e) {
      throw new FetchError(`cannot read ${url}: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code === 'ENOENT');
    }
  }
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 60_000), ...(opts.signal ? [opts.signal] : [])];
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new FetchError(`cannot fetch ${url}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`, false);
  }
  if (!res.ok) {
    await res.body?.cancel();
    const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    throw new FetchError(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`, permanent);
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.byteLength > maxBytes) throw new FetchError(`${url} is ${body.byteLength} bytes, more than the ${maxBytes} expected for a key or extra file`, true);
  const lm = res.headers.get('last-modified');
  const lastModified = lm ? new Date(lm) : null;
  return { body, lastModified: lastModified && !Number.isNaN(lastModified.getTime()) ? lastModified : null };
}

/** The file name a URL's path ends in (`…/RPM-GPG-KEY-Rocky-SIG-Core` → `RPM-GPG-KEY-Rocky-SIG-Core`). */
export function urlBasename(url: string): string {
  // Checked after percent-decoding: `%2e%2e` is `..` and `%2F` a slash once decoded, and the decoded name is
  // what becomes a path.
  let name: string;
  try {
    name = decodeURIComponent(path.posix.basename(new URL(url).pathname));
  } catch {
    throw new Error(`URL ${JSON.stringify(url)} is not a URL with a file name`);
  }
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.startsWith('.')) {
    throw new Error(`URL ${JSON.stringify(url)} does not end in a plain file name (got ${JSON.stringify(name)})`);
  }
  return name;
}
