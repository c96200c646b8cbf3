// Deterministic EL-shaped SIG tree for bench/publish: <repo>/<arch>/os/Packages/<letter>/*.rpm with repodata,
// small files (1–4 KiB), a fifth of each repo's packages noarch (the same bytes and mtime in every arch, which
// the hardlink pass links), and the next release of it: a share of packages added, changed and deleted, and
// every touched repo's repodata rewritten.
import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../../test/helpers/random.js';

const REPOS = ['common', 'extras', 'tools', 'ha', 'devel', 'cloud', 'virt', 'storage'];
const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const NOARCH_SHARE = 0.2;
const BASE_MTIME_S = Date.UTC(2026, 0, 1) / 1000;

export interface TreeStats {
  files: number;
  bytes: number;
}

function writeFile(file: string, bytes: Buffer, mtimeS: number, stats: TreeStats): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A new file, never a write through an existing name: that name may be a hard link shared with other arches.
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, mtimeS, mtimeS);
  stats.files++;
  stats.bytes += bytes.length;
}

function content(rand: () => number): Buffer {
  const b = Buffer.allocUnsafe(4 * (256 + Math.floor(rand() * 768)));
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(Math.floor(rand() * 0x100000000), i);
  return b;
}

/** repomd.xml and three content-addressed metadata files of one repo, named after a generation number. */
function writeRepodata(osDir: string, generation: number, rand: () => number, stats: TreeStats): void {
  const repodata = path.join(osDir, 'repodata');
  fs.rmSync(repodata, { recursive: true, force: true });
  const mtime = BASE_MTIME_S + generation * 86400;
  for (const kind of ['primary', 'filelists', 'other']) writeFile(path.join(repodata, `${generation}${Math.floor(rand() * 1e9)}-${kind}.xml.gz`), content(rand), mtime, stats);
  writeFile(path.join(repodata, 'repomd.xml'), Buffer.from(`<repomd><revision>${generation}</revision></repomd>\n`), mtime, stats);
}

/** Builds about `files` files under `root` (the SIG folder). */
export function buildSigTree(root: string, files: number, seed = 1): TreeStats {
  const rand = seededRandom(seed);
  const stats: TreeStats = { files: 0, bytes: 0 };
  const trees = REPOS.length * ARCHES.length;
  // Per arch tree: 4 repodata files, the rest packages (noarch ones the same bytes in the four arches).
  const perRepo = Math.max(1, Math.round(files / trees - 4));
  for (const repo of REPOS) {
    const noarch = Math.round(perRepo * NOARCH_SHARE);
    const shared: Array<{ name: string; bytes: Buffer }> = Array.from({ length: noarch }, (_, i) => ({ name: `${repo}-data${i}-1.0-1.el9.noarch.rpm`, bytes: content(rand) }));
    for (const arch of ARCHES) {
      const osDir = path.join(root, repo, arch, 'os');
      for (const p of shared) writeFile(path.join(osDir, 'Packages', p.name[0]!, p.name), p.bytes, BASE_MTIME_S, stats);
      for (let i = 0; i < perRepo - noarch; i++) {
        const name = `${LETTERS[i % LETTERS.length]}${repo}${i}-1.0-1.el9.${arch}.rpm`;
        writeFile(path.join(osDir, 'Packages', name[0]!, name), content(rand), BASE_MTIME_S, stats);
      }
      writeRepodata(osDir, 1, rand, stats);
    }
  }
  return stats;
}

function packagesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rpm')) out.push(p);
    }
  };
  walk(root);
  return out;
}

export interface Mutation {
  added: number;
  changed: number;
  deleted: number;
  /** repomd.xml and metadata rewritten, in every repo touched. */
  repodataRewritten: number;
}

/**
 * Turns a copy of the tree at `root` into its next release: `share` of the packages deleted, as many changed (new
 * bytes, new mtime) and as many added.
 */
export function nextRelease(root: string, share: number, seed = 2): Mutation {
  const rand = seededRandom(seed);
  const packages = packagesUnder(root);
  const count = Math.round(packages.length * share);
  // A deterministic shuffle; the first `count` go, the next `count` change.
  for (let i = packages.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [packages[i], packages[j]] = [packages[j]!, packages[i]!];
  }
  const touched = new Set<string>();
  const osDirOf = (file: string) => path.dirname(path.dirname(path.dirname(file)));
  const sink: TreeStats = { files: 0, bytes: 0 };
  const mtime = BASE_MTIME_S + 2 * 86400;
  for (const file of packages.slice(0, count)) {
    fs.rmSync(file);
    touched.add(osDirOf(file));
  }
  for (const file of packages.slice(count, 2 * count)) {
    writeFile(file, content(rand), mtime, sink);
    touched.add(osDirOf(file));
  }
  for (let i = 0; i < count; i++) {
    const base = packages[2 * count + (i % (packages.length - 2 * count))]!;
    const name = `${LETTERS[i % LETTERS.length]}new${i}-2.0-1.el9.rpm`;
    writeFile(path.join(osDirOf(base), 'Packages', name[0]!, name), content(rand), mtime, sink);
    touched.add(osDirOf(base));
  }
  for (const osDir of touched) writeRepodata(osDir, 2, rand, sink);
  return { added: count, changed: count, deleted: count, repodataRewritten: touched.size * 4 };
}
