// The target count behind the deletion guard's shares, and the scratch-dir clean-up after a sync
// (src/publish/fs-scan.ts): one readdir per folder, with the same answers as an entry-by-entry walk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countTargetFiles, removeScratchDirs } from '../../src/publish/fs-scan.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tree(files: Record<string, string>, links: Record<string, string> = {}): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-scan-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  for (const [rel, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, rel));
  return dir;
}

describe('countTargetFiles', () => {
  it('counts files and links (not folders) with their sizes, per repository, and the kept folders apart', async () => {
    const root = tree(
      {
        'core-common/x86_64/os/Packages/a/a.rpm': 'aaaa',
        'core-common/x86_64/os/repodata/repomd.xml': 'xx',
        'core-common/aarch64/os/Packages/b.rpm': 'bbb',
        'metadata/RPM-GPG-KEY': 'k',
        'README': '12345',
        'images/disk.raw': '0123456789',
        'images/sub/more.raw': '01',
        'core-common/x86_64/os/.rsync-partial/half.rpm': 'not counted',
        'core-common/x86_64/.~tmp~/delayed': 'not counted',
      },
      { 'core-common/x86_64/os/Packages/a/link.rpm': 'a.rpm' },
    );
    const c = await countTargetFiles(root, ['images']);
    expect(c.total).toBe(6);
    expect(c.bytes).toBe(4 + 2 + 3 + 1 + 5 + 'a.rpm'.length);
    expect(Object.fromEntries(c.byRepo)).toEqual({ 'core-common/x86_64': 3, 'core-common/aarch64': 1, metadata: 1, '.': 1 });
    expect(c.kept).toEqual([{ dir: 'images', files: 2, bytes: 12 }]);
  });

  it('counts a missing root as empty', async () => {
    const c = await countTargetFiles(path.join(os.tmpdir(), `fs-scan-missing-${process.pid}`));
    expect(c).toEqual({ total: 0, bytes: 0, byRepo: new Map(), kept: [] });
  });
});

describe('removeScratchDirs', () => {
  it('removes every .rsync-partial and .~tmp~ folder, without entering them, and nothing else', async () => {
    const root = tree({
      'a/x86_64/os/.rsync-partial/half.rpm': 'h',
      'a/x86_64/os/.rsync-partial/.~tmp~/inner': 'i',
      '.~tmp~/top': 't',
      'a/x86_64/os/Packages/keep.rpm': 'k',
      'a/x86_64/os/Packages/.rsync-partial': 'a file of that name is not a scratch folder',
    });
    expect(await removeScratchDirs(root)).toEqual(['.~tmp~', 'a/x86_64/os/.rsync-partial']);
    expect(fs.existsSync(path.join(root, '.~tmp~'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'a/x86_64/os/.rsync-partial'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'a/x86_64/os/Packages/keep.rpm'), 'utf8')).toBe('k');
    expect(fs.existsSync(path.join(root, 'a/x86_64/os/Packages/.rsync-partial'))).toBe(true);
    expect(await removeScratchDirs(root)).toEqual([]);
  });
});
