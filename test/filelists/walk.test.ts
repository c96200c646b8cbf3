import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timelistTimestamp } from '../../src/filelists/format.js';
import { BadFileNameError } from '../../src/filelists/names.js';
import { StringSink } from '../../src/filelists/sink.js';
import { generateFileLists, type GenerateFileListsOptions } from '../../src/filelists/walk.js';
import { buildAwkwardTree, filesRows, findDot, tempDir } from './fixture.js';

async function generateWith(root: string, extra: Partial<GenerateFileListsOptions> = {}) {
  const timelist = new StringSink();
  const filelist = new StringSink();
  const warnings: string[] = [];
  const result = await generateFileLists({ root, timelist, filelist, onWarning: (m) => warnings.push(m), ...extra });
  return { result, timelist: timelist.text, filelist: filelist.text, warnings };
}
const generate = generateWith;

/** Worker threads even on tiny trees: no size threshold, and units cut near the top. */
const SPLIT = (units: number): Partial<GenerateFileListsOptions> => ({ threads: 2, parallelMinEntries: 0, parallelUnits: units });
const ONE_THREAD: Partial<GenerateFileListsOptions> = { threads: 1 };

describe.each([
  ['absolute paths', false, true, ONE_THREAD],
  ['chdir and bare names', true, true, ONE_THREAD],
  ['absolute paths, fs.lstatSync', false, false, ONE_THREAD],
  ['chdir and bare names, fs.lstatSync', true, false, ONE_THREAD],
  ['absolute paths, 2 threads, units at the top', false, true, SPLIT(2)],
  ['absolute paths, 2 threads, only the root expanded', false, true, SPLIT(1)],
  ['absolute paths, fs.lstatSync, 2 threads', false, false, SPLIT(4)],
  ['absolute paths, 2 threads and this one walking while they start', false, true, { ...SPLIT(4), mainThreadWalks: true }],
  ['paths relative to the root (chdir mode), 2 threads', true, true, SPLIT(2)],
  ['paths relative to the root (chdir mode), fs.lstatSync, 2 threads and this one walking', true, false, { ...SPLIT(4), mainThreadWalks: true }],
])('generateFileLists on a real tree, lstat by %s', (_how, chdir, rawLstat, threads) => {
  let root: string;
  let out: Awaited<ReturnType<typeof generate>>;

  beforeAll(async () => {
    root = tempDir();
    buildAwkwardTree(root);
    out = await generate(root, { checksumNames: ['repomd.xml', 'README'], chdir, rawLstat, ...threads });
  });

  it('walks with worker threads exactly when asked to', () => {
    if (threads.threads === 1) expect(out.result.units).toBe(0);
    else expect(out.result.units).toBeGreaterThanOrEqual(2);
  });

  it('writes the same bytes as the single-threaded walk', async () => {
    const single = await generate(root, { checksumNames: ['repomd.xml', 'README'], threads: 1 });
    expect(out.timelist).toBe(single.timelist);
    expect(out.filelist).toBe(single.filelist);
    expect(out.warnings).toEqual(single.warnings);
    expect({ ...out.result, units: 0 }).toEqual(single.result);
  });
  afterAll(() => {
    fs.chmodSync(path.join(root, 'secret'), 0o755);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('lists exactly the entries the skip rules of §1.3 leave', () => {
    expect(filesRows(out.timelist).map((r) => r.path).sort()).toEqual(
      [
        'README',
        'empty',
        'future-edge.txt',
        'latest',
        'nested',
        'nested/empty',
        'nested/empty/deeper',
        'nested/kept.nfs',
        'nested/link-to-readme',
        'nested/sub',
        'nested/sub/repomd.xml',
        'private',
        'private/notes.txt',
        'with space',
        'with space/file name.txt',
        'x86_64',
        'x86_64/os',
        'x86_64/os/Packages',
        'x86_64/os/Packages/h',
        'x86_64/os/Packages/h/hardlinked-copy.rpm',
        'x86_64/os/Packages/h/hardlinked.rpm',
        'x86_64/os/Packages/h/hello-1.0-1.el9.x86_64.rpm',
        'x86_64/os/repodata',
        'x86_64/os/repodata/abcd-primary.xml.gz',
        'x86_64/os/repodata/repomd.xml',
        'ünïcødé',
        'ünïcødé/日本語.txt',
      ].sort(),
    );
    expect(out.result.entries).toBe(27);
  });

  it('skips .~tmp~ and .nfs* entries at any depth, but keeps names merely containing .nfs', () => {
    const paths = filesRows(out.timelist).map((r) => r.path);
    expect(paths.filter((p) => p.includes('.~tmp~') || /(^|\/)\.nfs/.test(p))).toEqual([]);
    expect(paths).toContain('nested/kept.nfs');
  });

  it('omits entries that are not group-readable, following symlinks for the test', () => {
    const paths = filesRows(out.timelist).map((r) => r.path);
    expect(paths).not.toContain('noread');
    expect(paths).not.toContain('nested/link-to-noread');
    expect(paths.filter((p) => p.startsWith('secret'))).toEqual([]);
  });

  it('omits dangling symlinks with a warning instead of failing', () => {
    expect(filesRows(out.timelist).map((r) => r.path)).not.toContain('dangling');
    expect(out.warnings).toEqual(['Could not stat ./dangling.  Dangling symlink?']);
  });

  it('marks a 0750 directory d- and its readable children f*', () => {
    const rows = filesRows(out.timelist);
    expect(rows.find((r) => r.path === 'private')?.type).toBe('d-');
    expect(rows.find((r) => r.path === 'private/notes.txt')?.type).toBe('f*');
    expect(rows.find((r) => r.path === 'README')?.type).toBe('f');
  });

  it('lists symlinks as l with the target length as size, and never descends into a linked directory', () => {
    const rows = filesRows(out.timelist);
    expect(rows.find((r) => r.path === 'latest')).toMatchObject({ type: 'l', size: 'x86_64/os'.length });
    expect(rows.find((r) => r.path === 'nested/link-to-readme')).toMatchObject({ type: 'l', size: '../README'.length });
    expect(rows.some((r) => r.path.startsWith('latest/'))).toBe(false);
  });

  it('takes timestamp and size of every row from lstat of the entry itself', () => {
    for (const row of filesRows(out.timelist)) {
      const st = fs.lstatSync(path.join(root, row.path), { bigint: true });
      expect(row.timestamp, row.path).toBe(timelistTimestamp(st.mtimeNs, st.ctimeNs));
      expect(row.size, row.path).toBe(Number(st.size));
    }
  });

  it('reproduces Python float rounding for a time 120 ns before a second boundary (ms stats would say the next second)', () => {
    const st = fs.lstatSync(path.join(root, 'future-edge.txt'), { bigint: true });
    expect(st.mtimeNs).toBe(2_000_000_000_999_999_880n);
    expect(filesRows(out.timelist).find((r) => r.path === 'future-edge.txt')?.timestamp).toBe(2_000_000_000);
  });

  it('gives both names of a hard-linked pair the same row values', () => {
    const rows = filesRows(out.timelist);
    const a = rows.find((r) => r.path.endsWith('/hardlinked.rpm'));
    const b = rows.find((r) => r.path.endsWith('/hardlinked-copy.rpm'));
    expect(a).toBeDefined();
    expect({ ...a, path: '' }).toEqual({ ...b, path: '' });
  });

  it('writes a directory after everything below it (post-order), names in byte order', () => {
    const paths = filesRows(out.timelist).map((r) => r.path);
    paths.forEach((p, i) => {
      const later = paths.slice(i + 1);
      expect(later.some((q) => q.startsWith(`${p}/`)), `${p} before its contents`).toBe(false);
    });
    const top = paths.filter((p) => !p.includes('/'));
    expect(top).toEqual([...top].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('produces the same bytes on a second run over an unchanged tree, whichever way it lstats', async () => {
    const again = await generate(root, { checksumNames: ['repomd.xml', 'README'], chdir: !chdir, rawLstat: !rawLstat, ...threads });
    expect(again.timelist).toBe(out.timelist);
    expect(again.filelist).toBe(out.filelist);
  });

  it('checksums files with the configured basenames at any depth, following symlinks, sorted by path', () => {
    const sha1 = out.timelist.split('[Checksums SHA1]\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(sha1.map((l) => l.split('\t')[1])).toEqual(['README', 'nested/sub/repomd.xml', 'x86_64/os/repodata/repomd.xml']);
    expect(sha1[2]).toBe('79b406525f62bbca1e24ce11921da46feb919ac5\tx86_64/os/repodata/repomd.xml');
    expect(out.timelist.endsWith('\n\n[End]\n')).toBe(true);
    expect(out.result.checksummed).toBe(3);
  });

  it('writes a plain list with exactly the entries `find .` prints', async () => {
    const plain = out.filelist.trimEnd().split('\n');
    expect([...plain].sort()).toEqual((await findDot(root)).sort());
    expect(out.result.filelistEntries).toBe(plain.length);
  });

  it('writes the plain list in pre-order: `.` first, every entry after its parent directory', () => {
    const plain = out.filelist.trimEnd().split('\n');
    expect(plain[0]).toBe('.');
    const seen = new Set<string>();
    for (const line of plain) {
      if (line !== '.') expect(seen.has(path.posix.dirname(line)), line).toBe(true);
      seen.add(line);
    }
    expect(plain).toContain('./.~tmp~/partial');
    expect(plain).toContain('./secret/inside.txt');
    expect(plain).toContain('./dangling');
  });
});

describe.each([
  ['one thread', ONE_THREAD],
  ['two threads', SPLIT(1)],
  ['two threads, deeper units', SPLIT(3)],
])('generateFileLists skip and failure rules, %s', (_how, threads) => {
  const generate = (root: string, extra: Partial<GenerateFileListsOptions> = {}) => generateWith(root, { ...threads, ...extra });

  it('leaves top-level skip names out of both lists, but not the same names deeper down', async () => {
    const root = tempDir();
    try {
      fs.writeFileSync(path.join(root, 'fullfilelist'), 'old');
      fs.mkdirSync(path.join(root, 'sub'));
      fs.writeFileSync(path.join(root, 'sub', 'fullfilelist'), 'deeper');
      const out = await generate(root, { skipTopLevel: (n) => n === 'fullfilelist' });
      expect(filesRows(out.timelist).map((r) => r.path)).toEqual(['sub/fullfilelist', 'sub']);
      expect(out.filelist).toBe('.\n./sub\n./sub/fullfilelist\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([
    ['a TAB', 'bad\tname', 'bad\\tname', 'tab'],
    ['a newline', 'bad\nname', 'bad\\nname', 'newline'],
  ])('fails on a name containing %s, naming the escaped path', async (_what, name, escaped, reason) => {
    const root = tempDir();
    try {
      fs.mkdirSync(path.join(root, 'deep/er'), { recursive: true });
      fs.writeFileSync(path.join(root, 'deep/er', name), '');
      const err = await generate(root).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadFileNameError);
      expect((err as BadFileNameError).path).toBe(`./deep/er/${escaped}`);
      expect((err as BadFileNameError).reason).toBe(reason);
      expect((err as Error).message).toContain(`./deep/er/${escaped}`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists a name that really contains U+FFFD and sorts astral characters by UTF-8 bytes', async () => {
    const root = tempDir();
    try {
      for (const name of ['\u{1F600}.rpm', '\uFFFD.rpm', 'z.rpm']) fs.writeFileSync(path.join(root, name), '');
      const out = await generate(root);
      expect(filesRows(out.timelist).map((r) => r.path)).toEqual(['z.rpm', '\uFFFD.rpm', '\u{1F600}.rpm']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails on a name that is not valid UTF-8 instead of silently skipping it', async () => {
    const root = tempDir();
    try {
      fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9, 0x2e]), Buffer.from('rpm')]), '');
      const err = await generate(root).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadFileNameError);
      expect((err as BadFileNameError).path).toBe('./caf\\xe9.rpm');
      expect((err as Error).message).toMatch(/not valid UTF-8/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('writes the same timelist without a plain list', async () => {
    const root = tempDir();
    try {
      buildAwkwardTree(root);
      const both = await generate(root);
      const timelist = new StringSink();
      const result = await generateFileLists({ root, timelist, onWarning: () => {}, ...threads });
      expect(timelist.text).toBe(both.timelist);
      expect(result.filelistEntries).toBe(0);
    } finally {
      fs.chmodSync(path.join(root, 'secret'), 0o755);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('in chdir mode, leaves the working directory as it found it whenever other code can run (one thread) or keeps it at the root (split), and restores it', async () => {
    const root = tempDir();
    try {
      buildAwkwardTree(root);
      const home = process.cwd();
      const seen: string[] = [];
      await generate(root, { chdir: true, progressEvery: 3, onProgress: () => seen.push(process.cwd()) });
      expect(seen.length).toBeGreaterThan(threads.threads === 1 ? 5 : 2);
      if (threads.threads === 1) expect(new Set(seen)).toEqual(new Set([home]));
      else {
        // Split, every thread lstats paths relative to the root, the working directory until the walk ends; the
        // last report comes after it.
        expect(new Set(seen.slice(0, -1))).toEqual(new Set([fs.realpathSync(root)]));
        expect(seen.at(-1)).toBe(home);
      }
      expect(process.cwd()).toBe(home);
      fs.writeFileSync(path.join(root, 'x86_64', 'bad\tname'), '');
      await expect(generate(root, { chdir: true })).rejects.toBeInstanceOf(BadFileNameError);
      expect(process.cwd()).toBe(home);
    } finally {
      fs.chmodSync(path.join(root, 'secret'), 0o755);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports progress every progressEvery rows and once at the end', async () => {
    const root = tempDir();
    try {
      // Flat for one thread (exact milestones); in subdirectories for two, so workers report it.
      for (let i = 0; i < 25; i++) {
        const dir = threads.threads === 1 ? root : path.join(root, `d${i % 5}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `f${i}`), '');
      }
      const seen: number[] = [];
      const out = await generate(root, { progressEvery: 10, onProgress: (n) => seen.push(n) });
      if (threads.threads === 1) {
        expect(seen).toEqual([10, 20, 25]);
      } else {
        expect(out.result.units).toBeGreaterThan(0);
        expect(seen.at(-1)).toBe(30);
        expect(seen.length).toBeGreaterThanOrEqual(3);
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(seen.slice(0, -1).every((n) => n >= 10)).toBe(true);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('stops with the abort reason when its signal is aborted, leaving no scratch files', async () => {
    const root = tempDir();
    const scratch = tempDir('filelists-scratch-');
    try {
      for (let i = 0; i < 30; i++) {
        fs.mkdirSync(path.join(root, `d${i % 6}`, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(root, `d${i % 6}`, 'sub', `f${i}`), '');
      }
      const controller = new AbortController();
      const seen: number[] = [];
      const err = await generate(root, {
        signal: controller.signal,
        tempDir: scratch,
        onProgress: (n) => {
          seen.push(n);
          controller.abort(new Error('cancelled by test'));
        },
        progressEvery: 10,
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('cancelled by test');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeGreaterThanOrEqual(10);
      expect(seen[0]).toBeLessThan(48);
      expect(fs.readdirSync(scratch)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses a root that is not a directory, saying so', async () => {
    const err = await generate('/nonexistent/filelists-root').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/\/nonexistent\/filelists-root: it is not a directory/);
  });
});

describe('generateFileLists with worker threads', () => {
  it('writes identical lists in both modes for a tree with many directories, and cleans its scratch directory', async () => {
    const root = tempDir();
    const scratch = tempDir('filelists-scratch-');
    try {
      // 3 releases × 4 arches × 12 letter directories, repodata with repomd.xml, a few warnings on the way.
      for (const rel of ['9.4', '9.5', '9.6']) {
        for (const arch of ['x86_64', 'aarch64', 'ppc64le', 's390x']) {
          const os = path.join(root, rel, 'BaseOS', arch, 'os');
          for (const letter of 'abcdefghijkl') {
            fs.mkdirSync(path.join(os, 'Packages', letter), { recursive: true });
            for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(os, 'Packages', letter, `${letter}pkg-${i}.rpm`), `${rel}${arch}${i}`);
          }
          fs.mkdirSync(path.join(os, 'repodata'));
          fs.writeFileSync(path.join(os, 'repodata', 'repomd.xml'), `<repomd>${rel}/${arch}</repomd>\n`);
          fs.symlinkSync('missing', path.join(os, 'dangling'));
        }
      }
      const single = await generate(root, { threads: 1 });
      expect(single.result.entries).toBe(786);
      expect(single.warnings).toHaveLength(12);
      for (const [units, scratchLimitBytes] of [[1], [5], [40], [40, 1], [40, 2_000], [200], [10_000]] as Array<[number, number?]>) {
        // A scratch budget of 1 byte: only the unit the output waits for may start once one has finished.
        const split = await generate(root, { threads: 2, parallelMinEntries: 0, parallelUnits: units, tempDir: scratch, ...(scratchLimitBytes ? { scratchLimitBytes } : {}) });
        expect(split.timelist, `${units} units`).toBe(single.timelist);
        expect(split.filelist, `${units} units`).toBe(single.filelist);
        expect(split.warnings, `${units} units`).toEqual(single.warnings);
        expect(split.result.checksummed).toBe(12);
        // Past the tree's ~200 directories the planner walks it all itself; fewer, and workers get units.
        if (units <= 40) expect(split.result.units, `${units} units`).toBeGreaterThanOrEqual(Math.max(units, 3));
        expect(fs.readdirSync(scratch)).toEqual([]);
      }
      // Default threshold: a tree this small stays single-threaded.
      expect((await generate(root, { threads: 2 })).result.units).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('walks again, on the main thread, a unit whose worker died while walking it, and writes the same lists', async () => {
    const root = tempDir();
    const previous = process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT;
    try {
      for (const d of ['a', 'b', 'c', 'd']) {
        fs.mkdirSync(path.join(root, d, 'deep'), { recursive: true });
        for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, d, 'deep', `f${i}`), `${d}${i}`);
      }
      const single = await generate(root, { threads: 1 });
      // Every worker dies on unit 1 (as one would when a huge directory exceeds its heap cap).
      process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT = '1';
      const lost: Array<{ unit: number; why: string }> = [];
      const split = await generate(root, {
        threads: 2,
        parallelMinEntries: 0,
        parallelUnits: 4,
        mainThreadWalks: false, // so that unit 1 surely goes to a worker first
        onWorkerLost: (unit, why) => lost.push({ unit, why }),
      });
      expect(split.timelist).toBe(single.timelist);
      expect(split.filelist).toBe(single.filelist);
      expect({ ...split.result, units: 0 }).toEqual(single.result);
      expect(split.result.units).toBe(4);
      // Unit 1 killed the worker it went to; this thread walked it instead.
      expect(lost).toEqual([{ unit: 1, why: 'exit code 134' }]);
    } finally {
      if (previous === undefined) delete process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT;
      else process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT = previous;
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails with the first bad name in walk order when several units have one', async () => {
    const root = tempDir();
    try {
      for (const d of ['a', 'b', 'c', 'd']) fs.mkdirSync(path.join(root, d, 'deep'), { recursive: true });
      fs.writeFileSync(path.join(root, 'b', 'deep', 'bad\tname'), '');
      fs.writeFileSync(path.join(root, 'd', 'deep', 'bad\nname'), '');
      for (const units of [1, 4, 8]) {
        const err = await generate(root, { threads: 2, parallelMinEntries: 0, parallelUnits: units }).catch((e: unknown) => e);
        expect(err, `${units} units`).toBeInstanceOf(BadFileNameError);
        expect((err as BadFileNameError).path).toBe('./b/deep/bad\\tname');
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
