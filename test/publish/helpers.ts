// Test helpers for the publish tests: temp trees, fake yum repos, tree checksums, a consistency reader.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `sigrelease-${prefix}-`));
}

export async function removeDir(dir: string) {
  await rm(dir, { recursive: true, force: true });
}

/** Writes `files` (relative path → content) under `root`; a value `{ symlink }` makes a symlink. */
export async function writeTree(root: string, files: Record<string, string | Buffer | { symlink: string }>) {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    await mkdir(path.dirname(p), { recursive: true });
    if (typeof content === 'object' && !Buffer.isBuffer(content)) await symlink(content.symlink, p);
    else await writeFile(p, content);
  }
}

/** Every entry under `root`: files → sha256, symlinks → `-> target`, dirs → `dir`. Sorted by path. */
export async function treeDigest(root: string, opts: { skip?: (rel: string) => boolean } = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (opts.skip?.(r)) continue;
      const p = path.join(root, r);
      if (e.isSymbolicLink()) out[r] = `-> ${await readlink(p)}`;
      else if (e.isDirectory()) {
        out[r] = 'dir';
        await walk(r);
      } else out[r] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  }
  await walk('');
  return out;
}

export async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface FakePackage {
  name: string;
  version: string;
  /** Content size in bytes (default 2048). */
  size?: number;
}

export const rpmFileName = (p: FakePackage, arch: string) => `${p.name}-${p.version}-1.${arch}.rpm`;

/**
 * A yum repository as createrepo_c would lay it out, with fake rpms: `Packages/<letter>/<n>-<v>-1.<arch>.rpm`,
 * `repodata/<sha256>-primary.xml.gz` (one `<location href>` per package), `repodata/<sha256>-filelists.xml.gz`
 * and `repodata/repomd.xml` naming both. Returns the files (relative to the repo dir).
 */
export function fakeRepoFiles(arch: string, packages: FakePackage[], seed = ''): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {};
  const hrefs: string[] = [];
  for (const p of packages) {
    const file = rpmFileName(p, arch);
    const href = `Packages/${file[0]!.toLowerCase()}/${file}`;
    hrefs.push(href);
    const size = p.size ?? 2048;
    // Deterministic content per package and version: identical packages across repos/SIGs are byte-identical.
    const unit = Buffer.from(`${p.name}-${p.version}.${arch}\n`);
    files[href] = Buffer.concat(Array(Math.ceil(size / unit.length)).fill(unit)).subarray(0, size);
  }
  const primaryXml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="${packages.length}">\n` +
    hrefs.map((h) => `<package type="rpm"><location href="${h}"/></package>`).join('\n') +
    `\n</metadata>\n<!-- ${seed} -->\n`;
  const primary = gzipSync(primaryXml);
  const filelists = gzipSync(`<filelists packages="${packages.length}"><!-- ${seed} ${hrefs.length} --></filelists>\n`);
  const primaryName = `repodata/${sha256(primary)}-primary.xml.gz`;
  const filelistsName = `repodata/${sha256(filelists)}-filelists.xml.gz`;
  files[primaryName] = primary;
  files[filelistsName] = filelists;
  files['repodata/repomd.xml'] =
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo">\n<revision>${seed}</revision>\n` +
    `<data type="primary"><checksum type="sha256">${sha256(primary)}</checksum><location href="${primaryName}"/></data>\n` +
    `<data type="filelists"><checksum type="sha256">${sha256(filelists)}</checksum><location href="${filelistsName}"/></data>\n</repomd>\n`;
  return files;
}

/** A fixed mtime for packages, as reposync --remote-time gives them the server's: rewriting a package keeps it. */
export const PACKAGE_MTIME = new Date('2024-01-01T00:00:00Z');

/** Writes a fake repo into `<root>/<relDir>` (packages get PACKAGE_MTIME, repodata the current time). */
export async function writeFakeRepo(root: string, relDir: string, arch: string, packages: FakePackage[], seed = '') {
  const files = fakeRepoFiles(arch, packages, seed);
  await writeTree(
    root,
    Object.fromEntries(Object.entries(files).map(([k, v]) => [`${relDir}/${k}`, v])),
  );
  for (const rel of Object.keys(files)) {
    if (rel.startsWith('Packages/')) await utimes(path.join(root, relDir, rel), PACKAGE_MTIME, PACKAGE_MTIME);
  }
}

export const packages = (prefix: string, from: number, to: number, version: string, size?: number): FakePackage[] =>
  Array.from({ length: to - from }, (_, i) => ({ name: `${prefix}${String(from + i).padStart(4, '0')}`, version, ...(size ? { size } : {}) }));

// ---------------------------------------------------------------------------------------------------------------
// Consistency reader: what a mirror (or dnf against it) does

export interface ReaderReport {
  /** Full passes over all repos. */
  rounds: number;
  /** repomd.xml files read and checked. */
  repomdChecks: number;
  /** A file named by a repomd.xml (or by its primary) was missing while that repomd.xml was still the published one. */
  misses: number;
  /** A file was missing but repomd.xml had changed since we read it: we raced the switch (a client would refetch). */
  staleReads: number;
  examples: string[];
}

async function findRepomds(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, depth: number) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // vanished (a repo being removed)
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (e.name === 'repodata') found.push(path.join(dir, 'repodata', 'repomd.xml'));
      else if (depth < 4 && e.name !== 'Packages') await walk(path.join(dir, e.name), depth + 1);
    }
  }
  await walk(root, 0);
  return found;
}

const hrefsOf = (xml: string) => [...xml.matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]!);

/** One round: every repomd.xml under root, every file it names, every package its primary names. */
export async function checkRepositories(root: string, report: ReaderReport): Promise<void> {
  for (const repomdPath of await findRepomds(root)) {
    let repomd: string;
    try {
      repomd = await readFile(repomdPath, 'utf8');
    } catch {
      continue; // no repomd.xml (yet, or any more): nothing published to check
    }
    report.repomdChecks++;
    const repoDir = path.dirname(path.dirname(repomdPath));
    const missing: string[] = [];
    const hrefs = hrefsOf(repomd);
    for (const href of hrefs) {
      const p = path.join(repoDir, href);
      if (!(await access(p).then(() => true, () => false))) missing.push(href);
      else if (href.endsWith('-primary.xml.gz')) {
        let primary: Buffer | undefined;
        try {
          primary = gunzipSync(await readFile(p));
        } catch {
          missing.push(href);
        }
        if (primary) {
          for (const pkg of hrefsOf(primary.toString('utf8'))) {
            if (!(await access(path.join(repoDir, pkg)).then(() => true, () => false))) missing.push(pkg);
          }
        }
      }
    }
    if (missing.length === 0) continue;
    const now = await readFile(repomdPath, 'utf8').catch(() => null);
    if (now === repomd) {
      report.misses += missing.length;
      if (report.examples.length < 5) report.examples.push(`${path.relative(root, repoDir)}: ${missing.slice(0, 3).join(', ')}`);
    } else report.staleReads += missing.length;
  }
}

/**
 * Runs `checkRepositories` in a loop in a process of its own (reader-process.ts) until `stop()`, which resolves with
 * its report. Resolves once the reader has done a first whole round.
 */
export async function startReader(root: string): Promise<{ stop: () => Promise<ReaderReport> }> {
  const tsx = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
  const child = spawn(process.execPath, ['--import', tsx, path.join(path.dirname(fileURLToPath(import.meta.url)), 'reader-process.ts'), root], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.startsWith('ready\n') ? resolve() : undefined);
    child.stdout!.on('data', check);
    exited.then((code) => reject(new Error(`the reader exited (${code}) before its first round: ${out}`)));
  });
  return {
    stop: async () => {
      child.stdin!.end();
      const code = await exited;
      const last = out.trim().split('\n').at(-1)!;
      if (code !== 0) throw new Error(`the reader exited with ${code}: ${out}`);
      return JSON.parse(last) as ReaderReport;
    },
  };
}
