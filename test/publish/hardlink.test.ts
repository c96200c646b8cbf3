import { ApplicationFailure } from '@temporalio/common';
import { readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hardlinkRelease } from '../../activities/publish.js';
import { parseHardlinkSummary, parseHumanSize } from '../../src/publish/hardlink.js';
import { PACKAGE_MTIME, packages, removeDir, tempDir, writeFakeRepo } from './helpers.js';

describe('parseHardlinkSummary (util-linux 2.38)', () => {
  it('reads files, linked and saved', () => {
    const out = [
      'Mode:                     real',
      'Method:                   memcmp',
      'Files:                    54',
      'Linked:                   26 files',
      'Compared:                 0 xattrs',
      'Compared:                 490 files',
      'Saved:                    150.11 KiB',
      'Duration:                 0.000605 seconds',
    ].join('\n');
    expect(parseHardlinkSummary(out)).toEqual({ files: 54, linked: 26, savedBytes: Math.round(150.11 * 1024), saved: '150.11 KiB', dryRun: false });
  });

  it('reads a run that linked nothing, and a dry run', () => {
    expect(parseHardlinkSummary('Mode: dry-run\nFiles: 2\nLinked: 0 files\nSaved: 0 B\n')).toMatchObject({ linked: 0, savedBytes: 0, dryRun: true });
  });

  it('refuses output from another hardlink implementation rather than reporting zero', () => {
    expect(() => parseHardlinkSummary('Directories: 3\nObjects: 10\nHardlinked this run: 2\n')).toThrow(/util-linux hardlink/);
  });

  it('converts util-linux sizes', () => {
    expect(parseHumanSize('0 B')).toBe(0);
    expect(parseHumanSize('4.88 KiB')).toBe(4997);
    expect(parseHumanSize('1.5 GiB')).toBe(1610612736);
    expect(parseHumanSize('lots')).toBeNull();
  });
});

describe('hardlinkRelease on a production release with two SIGs', () => {
  let root: string;
  let release: string;
  const a = (rel: string) => path.join(release, 'core', rel);
  const b = (rel: string) => path.join(release, 'cloud', rel);
  const ino = async (p: string) => (await stat(p)).ino;

  beforeAll(async () => {
    root = await tempDir('hardlink');
    release = path.join(root, 'mirror', 'pub', 'sig', '9');
    // The same 10 packages and byte-identical metadata (same seed) in two SIGs.
    await writeFakeRepo(path.join(release, 'core'), 'x86_64/core-common', 'x86_64', packages('shared', 0, 10, '1.0'), 'same');
    await writeFakeRepo(path.join(release, 'cloud'), 'x86_64/core-common', 'x86_64', packages('shared', 0, 10, '1.0'), 'same');
    // Metadata identical in content *and* mtime: only the exclude regex keeps hardlink from linking it.
    for (const sig of ['core', 'cloud']) {
      const dir = path.join(release, sig, 'x86_64/core-common/repodata');
      for (const n of await readdir(dir)) await utimes(path.join(dir, n), PACKAGE_MTIME, PACKAGE_MTIME);
    }
  });
  afterAll(() => removeDir(root));

  it('links identical packages across SIG dirs but never repomd.xml or *.xml.gz', async () => {
    const rpm = 'x86_64/core-common/Packages/s/shared0003-1.0-1.x86_64.rpm';
    expect(await ino(a(rpm))).not.toBe(await ino(b(rpm)));
    const r = await hardlinkRelease({ dir: release });
    expect(r.linked).toBe(10);
    expect(r.files).toBe(20); // 2 × 10 packages; the 2 × 3 metadata files were excluded before comparison
    expect(r.savedBytes).toBeGreaterThanOrEqual(10 * 2000);
    expect(await ino(a(rpm))).toBe(await ino(b(rpm)));
    expect((await stat(a(rpm))).nlink).toBe(2);
    for (const xml of ['x86_64/core-common/repodata/repomd.xml']) {
      expect(await ino(a(xml))).not.toBe(await ino(b(xml)));
    }
    for (const blob of (await readdir(a('x86_64/core-common/repodata'))).filter((n) => n.endsWith('.xml.gz'))) {
      const rel = `x86_64/core-common/repodata/${blob}`;
      expect(await ino(a(rel))).not.toBe(await ino(b(rel)));
    }
    // Idempotent: a second run links nothing more.
    expect((await hardlinkRelease({ dir: release })).linked).toBe(0);
  });

  it('fails with HardlinkDirMissing for a missing dir (hardlink itself would exit 0)', async () => {
    const err = await hardlinkRelease({ dir: path.join(root, 'nope') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('HardlinkDirMissing');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });
});
