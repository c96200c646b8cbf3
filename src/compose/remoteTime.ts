// Workaround for a dnf 4.14 / libdnf 0.69 behaviour found while testing: with `repo_gpgcheck=1`,
// `reposync --remote-time` keeps the server's mtime on repodata but NOT on packages (they get the download
// time). Without repo_gpgcheck the times are kept. The seed runs with repo_gpgcheck on by default, so its
// composes most likely carry download times too; we restore what `--remote-time` asks for.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface RemoteTimeResult {
  /** Package files downloaded by this attempt (mtime at or after `since`). */
  checked: number;
  restored: number;
  /** `<href>: <why>` for files whose remote time could not be read (their mtime stays as is). */
  failed: string[];
}

async function packagesNewerThan(repoDir: string, since: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.rpm')) {
        const st = await fs.stat(p);
        // A file with other links was seeded from the previous compose (src/compose/seed.ts): its time is that
        // compose's, and a touch would change the previous compose's file too.
        if (st.mtimeMs >= since && st.nlink === 1) out.push(path.relative(repoDir, p));
      }
    }
  };
  await walk(path.join(repoDir, 'Packages'));
  return out.sort();
}

/** The server's Last-Modified for one URL; a one-byte GET, because yumrepofs redirects packages to URLs presigned for GET. */
async function lastModified(url: string, signal?: AbortSignal): Promise<Date> {
  const res = await fetch(url, { headers: { Range: 'bytes=0-0' }, redirect: 'follow', signal: AbortSignal.any([AbortSignal.timeout(30_000), ...(signal ? [signal] : [])]) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const lm = res.headers.get('last-modified');
  const d = lm ? new Date(lm) : null;
  if (!d || Number.isNaN(d.getTime())) throw new Error('no Last-Modified header');
  return d;
}

/** Sets each package downloaded since `since` (epoch ms) to the mtime the server reports for it. */
export async function restoreRemoteMtimes(repoDir: string, baseUrl: string, since: number, opts: { concurrency?: number; signal?: AbortSignal } = {}): Promise<RemoteTimeResult> {
  // Whole seconds: the filesystem may round the download time down.
  const hrefs = await packagesNewerThan(repoDir, Math.floor(since / 1000) * 1000);
  const result: RemoteTimeResult = { checked: hrefs.length, restored: 0, failed: [] };
  const base = baseUrl.replace(/\/*$/, '/');
  let next = 0;
  const lane = async () => {
    while (next < hrefs.length) {
      const href = hrefs[next++]!;
      try {
        const url = base + href.split(path.sep).map(encodeURIComponent).join('/');
        let when: Date | undefined;
        for (let attempt = 1; !when; attempt++) {
          try {
            when = await lastModified(url, opts.signal);
          } catch (e) {
            if (attempt >= 4 || opts.signal?.aborted) throw e;
            await new Promise((r) => setTimeout(r, 250 * attempt));
          }
        }
        await fs.utimes(path.join(repoDir, href), when, when);
        result.restored++;
      } catch (e) {
        result.failed.push(`${href}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, hrefs.length)) }, lane));
  return result;
}
