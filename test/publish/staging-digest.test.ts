// The staging fingerprint: the same tree gives the same digest; every kind of change the approver did not see
// gives another.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { digestEntries, entryRecord, stagingDigest, walkTree, type TreeEntry } from '../../src/publish/staging-digest.js';

const file = (p: string, size = 3, mtimeMs = 1000): TreeEntry => ({ path: p, type: 'file', size, mtimeMs });

describe('digestEntries (pure)', () => {
  it('gives the same digest for the same entries and another for a different size, mtime, type, link target or order', async () => {
    const link: TreeEntry = { path: 'l', type: 'symlink', size: 1, mtimeMs: 1000, linkTarget: 'a' };
    const base: TreeEntry[] = [file('a'), link];
    const d = (await digestEntries(base)).digest;
    expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await digestEntries([...base])).digest).toBe(d);
    expect((await digestEntries([file('a', 4), link])).digest).not.toBe(d);
    expect((await digestEntries([file('a', 3, 1001), link])).digest).not.toBe(d);
    expect((await digestEntries([{ ...file('a'), type: 'other' }, link])).digest).not.toBe(d);
    expect((await digestEntries([file('a'), { ...link, linkTarget: 'b' }])).digest).not.toBe(d);
    expect((await digestEntries([link, file('a')])).digest).not.toBe(d);
    expect((await digestEntries([file('a')])).entries).toBe(1);
  });

  it('keeps a name with a tab or newline from imitating another entry', () => {
    expect(entryRecord(file('a\0file'))).not.toBe(entryRecord(file('a')));
    expect(entryRecord(file('x\n'))).not.toBe(entryRecord(file('x')));
  });
});

describe('stagingDigest over a real tree', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-digest-'));
    fs.mkdirSync(path.join(root, 'x86_64/repodata'), { recursive: true });
    fs.writeFileSync(path.join(root, 'x86_64/a.rpm'), 'alpha');
    fs.writeFileSync(path.join(root, 'x86_64/repodata/repomd.xml'), '<repomd/>');
    fs.symlinkSync('x86_64', path.join(root, 'latest'));
  });

  it('walks in byte order, depth first, without following links', async () => {
    const paths: string[] = [];
    for await (const e of walkTree(root)) paths.push(`${e.type}:${e.path}${e.linkTarget ? `->${e.linkTarget}` : ''}`);
    expect(paths).toEqual(['symlink:latest->x86_64', 'dir:x86_64', 'file:x86_64/a.rpm', 'dir:x86_64/repodata', 'file:x86_64/repodata/repomd.xml']);
  });

  it('is stable while nothing changes', async () => {
    expect(await stagingDigest(root)).toEqual(await stagingDigest(root));
  });

  it('changes when a file is rewritten with the same size but a new mtime', async () => {
    const before = (await stagingDigest(root)).digest;
    const f = path.join(root, 'x86_64/a.rpm');
    fs.writeFileSync(f, 'ALPHA');
    fs.utimesSync(f, new Date(2000, 1, 1), new Date(2000, 1, 1));
    expect((await stagingDigest(root)).digest).not.toBe(before);
  });

  it('changes when a file is added, removed or a link re-pointed', async () => {
    const before = (await stagingDigest(root)).digest;
    fs.writeFileSync(path.join(root, 'x86_64/b.rpm'), 'bravo');
    const added = (await stagingDigest(root)).digest;
    expect(added).not.toBe(before);
    fs.rmSync(path.join(root, 'x86_64/b.rpm'));
    const removed = (await stagingDigest(root)).digest;
    expect(removed).not.toBe(added);
    fs.rmSync(path.join(root, 'latest'));
    fs.symlinkSync('x86_64/repodata', path.join(root, 'latest'));
    expect((await stagingDigest(root)).digest).not.toBe(removed);
  });
});
