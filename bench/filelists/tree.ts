// Deterministic synthetic EL-mirror tree for the file-list benchmark (reference/mirror-file-lists.md §4.3):
// releases × repos × arches, sparse package files, small real repomd.xml, ISOs, symlinks, and hard links
// between consecutive releases. Sized by the number of package files; everything else comes on top.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../../test/helpers/random.js';

const RELEASES = ['9.4', '9.5', '9.6'] as const;
const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x'] as const;
/** Share of a release's packages per repo. */
const REPOS: readonly [string, number][] = [
  ['BaseOS', 0.15],
  ['AppStream', 0.55],
  ['CRB', 0.15],
  ['extras', 0.02],
  ['HighAvailability', 0.05],
  ['devel', 0.08],
];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HARDLINK_SHARE = 0.3;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const YEAR_S = 365 * 24 * 3600;
const BASE_TIME_S = Date.UTC(2024, 0, 1) / 1000;


/** Log-normal around 150 KiB, clamped to 2 KiB–400 MiB. */
function packageSize(rand: () => number): number {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const size = Math.exp(Math.log(150 * KiB) + 1.2 * z);
  return Math.round(Math.min(400 * MiB, Math.max(2 * KiB, size)));
}

interface RepoTree {
  /** Relative to the release directory, e.g. `BaseOS/x86_64/os`. */
  rel: string;
  arch: string;
  kind: 'bin' | 'debug' | 'src';
  /** Share of the release's packages. */
  share: number;
}

function repoTrees(): RepoTree[] {
  const trees: RepoTree[] = [];
  for (const [repo, weight] of REPOS) {
    for (const arch of ARCHES) {
      trees.push({ rel: `${repo}/${arch}/os`, arch, kind: 'bin', share: weight * 0.15 });
      trees.push({ rel: `${repo}/${arch}/debug/tree`, arch, kind: 'debug', share: weight * 0.0625 });
    }
    trees.push({ rel: `${repo}/source/tree`, arch: 'src', kind: 'src', share: weight * 0.15 });
  }
  return trees;
}

function sparseFile(file: string, size: number, mtimeS: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    fs.futimesSync(fd, mtimeS, mtimeS);
  } finally {
    fs.closeSync(fd);
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function writeRepodata(dir: string, seedText: string, rand: () => number): void {
  const repodata = path.join(dir, 'repodata');
  fs.mkdirSync(repodata);
  const kinds = ['primary.xml.gz', 'filelists.xml.gz', 'other.xml.gz', 'updateinfo.xml.gz', 'comps.xml'];
  let data = '';
  for (const kind of kinds) {
    const sum = sha256(`${seedText}/${kind}`);
    const name = `${sum}-${kind}`;
    const size = Math.round(50_000 + rand() * 30_000_000);
    sparseFile(path.join(repodata, name), size, BASE_TIME_S + YEAR_S);
    data += `  <data type="${kind.split('.')[0]}">\n    <checksum type="sha256">${sum}</checksum>\n`;
    data += `    <location href="repodata/${name}"/>\n    <size>${size}</size>\n  </data>\n`;
  }
  const repomd = `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo">\n  <revision>${BASE_TIME_S}</revision>\n${data}</repomd>\n`;
  fs.writeFileSync(path.join(repodata, 'repomd.xml'), repomd);
}

function writeIsos(releaseDir: string, release: string): void {
  const isos = path.join(releaseDir, 'isos');
  fs.mkdirSync(isos);
  for (const arch of ARCHES) {
    const dir = path.join(isos, arch);
    fs.mkdirSync(dir);
    let checksum = '';
    for (const [flavour, size] of [
      ['dvd', 10 * GiB],
      ['minimal', 2 * GiB],
      ['boot', 900 * MiB],
    ] as const) {
      const name = `Rocky-${release}-${arch}-${flavour}.iso`;
      sparseFile(path.join(dir, name), size, BASE_TIME_S + YEAR_S);
      fs.symlinkSync(name, path.join(dir, `Rocky-${arch}-${flavour}.iso`));
      checksum += `SHA256 (${name}) = ${sha256(name)}\n`;
    }
    fs.writeFileSync(path.join(dir, 'CHECKSUM'), checksum);
  }
}

/**
 * Builds the tree under `root` (which must not exist yet) with about `packages` package files.
 */
export function buildMirrorTree(root: string, packages: number, seed = 42): void {
  fs.mkdirSync(root, { recursive: false });
  const rand = seededRandom(seed);
  const trees = repoTrees();
  const perRelease = Math.round(packages / RELEASES.length);
  // For each tree and package slot: the release index whose file this slot currently is (hard-link source).
  const born = trees.map((t) => new Uint8Array(Math.round(perRelease * t.share)));
  const mkdir = (p: string) => {
    fs.mkdirSync(p, { recursive: true });
  };

  RELEASES.forEach((release, r) => {
    const releaseDir = path.join(root, release);
    mkdir(releaseDir);
    trees.forEach((tree, t) => {
      const treeDir = path.join(releaseDir, tree.rel);
      const pkgDir = path.join(treeDir, 'Packages');
      for (const letter of LETTERS) mkdir(path.join(pkgDir, letter));
      writeRepodata(treeDir, `${release}/${tree.rel}`, rand);
      const slots = born[t]!;
      for (let i = 0; i < slots.length; i++) {
        if (r > 0 && rand() >= HARDLINK_SHARE) slots[i] = r;
        const origin = slots[i]!;
        const letter = LETTERS[(i * 7919) % LETTERS.length]!;
        const suffix = tree.kind === 'src' ? 'src' : tree.arch;
        const name = `${letter}pkg${i}${tree.kind === 'debug' ? '-debuginfo' : ''}-1.${origin}-${(i % 7) + 1}.el9.${suffix}.rpm`;
        const file = path.join(pkgDir, letter, name);
        if (origin !== r) {
          fs.linkSync(path.join(root, RELEASES[origin]!, tree.rel, 'Packages', letter, name), file);
        } else {
          sparseFile(file, packageSize(rand), BASE_TIME_S + Math.floor(rand() * YEAR_S));
        }
      }
    });
    writeIsos(releaseDir, release);
  });
  fs.symlinkSync(RELEASES[RELEASES.length - 1]!, path.join(root, '9'));
}
