// Seeding a new compose folder from the one `latest` points to, by hard links, so an update downloads only what
// changed (an unchanged SIG: nothing) while `latest` and its tree stay exactly as they were until the new folder
// is verified and `latest` flips to it.
//
// The one danger of a hard link is a write in place: the linked file IS latest's file. Checked on this machine
// (dnf 4.14, librepo): reposync skips a package whose size and checksum match its metadata ("Already
// downloaded"), deletes with unlink (--delete) and replaces repodata/ with new files, but a package present under
// the name upstream lists with DIFFERENT content is resumed/rewritten in place. So:
//   - repodata/ is never linked (dnf downloads fresh metadata);
//   - a package is linked only when upstream's current metadata lists it with the same size and checksum, or
//     (in-place runs, which keep what left upstream unless --clean-old-packages) when upstream does not list it
//     at all, so dnf never writes to its name;
//   - without upstream metadata nothing of the task is linked (it downloads in full, with a warning).
// Links need one file system; across two, nothing is linked (full download, with a warning).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fetchSmallFile, writeFileAtomic } from './files.js';
import { parseRepomd, type PrimaryPackage } from './repodata.js';
import { hashFile, nodeHashName, packagesOfRepo } from './verify.js';

export interface LinkReport {
  linked: number;
  /** Files not linked because they would be rewritten, or are not wanted in this compose. */
  notLinked: number;
  /** The two folders are on different file systems: nothing more was linked. */
  crossDevice: boolean;
}

type Decide = (rel: string, file: string) => Promise<boolean> | boolean;

/**
 * Hard-links the regular files of `from` into `to` (same relative paths, folders created), for those `want`
 * accepts; `skipDir` prunes folders. Symlinks and other special files are never copied. A name that already
 * exists in `to` is left alone (a retried attempt, or dnf's own file).
 */
export async function linkTree(from: string, to: string, want: Decide, skipDir: (rel: string) => boolean = () => false): Promise<LinkReport> {
  const report: LinkReport = { linked: 0, notLinked: 0, crossDevice: false };
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(from, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (report.crossDevice) return;
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        if (skipDir(r)) continue;
        await fs.mkdir(path.join(to, r), { recursive: true });
        await walk(r);
      } else if (e.isFile()) {
        if (!(await want(r, path.join(from, r)))) {
          report.notLinked++;
          continue;
        }
        try {
          await fs.link(path.join(from, r), path.join(to, r));
          report.linked++;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EXDEV') report.crossDevice = true;
          else if (code !== 'EEXIST') throw err;
        }
      }
    }
  };
  await fs.mkdir(to, { recursive: true });
  await walk('');
  return report;
}

/**
 * The packages upstream's current metadata lists for a repo URL (repomd.xml, then its primary), read through a
 * scratch folder; null when they cannot be fetched or read.
 */
export async function upstreamPackages(baseUrl: string, scratch: string, signal?: AbortSignal): Promise<Map<string, PrimaryPackage> | null> {
  const base = baseUrl.replace(/\/+$/, '');
  try {
    await fs.rm(scratch, { recursive: true, force: true });
    const repomd = await fetchSmallFile(`${base}/repodata/repomd.xml`, { signal });
    const primary = parseRepomd(Buffer.from(repomd.body).toString('utf8')).find((e) => e.type === 'primary');
    if (!primary || !/^[\w./-]+$/.test(primary.href) || primary.href.includes('..')) return null;
    const body = await fetchSmallFile(`${base}/${primary.href}`, { signal, maxBytes: 1024 * 1024 * 1024 });
    await writeFileAtomic(path.join(scratch, 'repodata', 'repomd.xml'), repomd.body);
    await writeFileAtomic(path.join(scratch, primary.href), body.body);
    return await packagesOfRepo(scratch);
  } catch {
    return null;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function sameContent(file: string, mine: PrimaryPackage | undefined, theirs: PrimaryPackage): Promise<boolean> {
  const st = await fs.stat(file);
  if (theirs.size !== null && st.size !== theirs.size) return false;
  if (!theirs.checksum) return false;
  const sameType = mine?.checksumType && theirs.checksumType && nodeHashName(mine.checksumType) === nodeHashName(theirs.checksumType);
  if (sameType && mine?.checksum) return mine.checksum.toLowerCase() === theirs.checksum.toLowerCase();
  const algo = nodeHashName(theirs.checksumType);
  return algo !== null && (await hashFile(file, algo)) === theirs.checksum.toLowerCase();
}

/**
 * Seeds one reposync task's folder from the same folder of the previous compose, by the rules above.
 * `keepUnlisted`: in-place runs keep what upstream no longer lists (dnf --delete removes it when asked).
 */
export async function seedRepoDir(o: { from: string; to: string; upstream: Map<string, PrimaryPackage>; keepUnlisted: boolean }): Promise<LinkReport> {
  const mine = (await packagesOfRepo(o.from)) ?? new Map<string, PrimaryPackage>();
  return linkTree(
    o.from,
    o.to,
    async (rel, file) => {
      const theirs = o.upstream.get(rel.split(path.sep).join('/'));
      if (!theirs) return o.keepUnlisted;
      return sameContent(file, mine.get(rel), theirs);
    },
    (rel) => rel === 'repodata',
  );
}
