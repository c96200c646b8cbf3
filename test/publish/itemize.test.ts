import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSyncPreview, decodeRsyncName, parseItemizeLine, repoKeyOf } from '../../src/publish/itemize.js';
import { previewArgs } from '../../src/publish/rsync-args.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

describe('parseItemizeLine (sized format %i %l %n%L)', () => {
  it('reads a new file with its size, and a name with spaces', () => {
    expect(parseItemizeLine('>f+++++++++ 4 x86_64/core-common/Packages/a/a b c.rpm')).toEqual({
      flags: '>f+++++++++',
      kind: 'added',
      fileType: 'file',
      path: 'x86_64/core-common/Packages/a/a b c.rpm',
      size: 4,
    });
  });

  it('reads a name that starts with digits and a space (the size field is the first number only)', () => {
    expect(parseItemizeLine('>f+++++++++ 12 7 days.rpm')).toMatchObject({ size: 12, path: '7 days.rpm' });
  });

  it('reads a deletion as kind deleted with no type, and a deleted dir by its trailing slash', () => {
    expect(parseItemizeLine('*deleting   0 x86_64/old/Packages/gone.rpm')).toMatchObject({ kind: 'deleted', fileType: 'unknown', path: 'x86_64/old/Packages/gone.rpm' });
    expect(parseItemizeLine('*deleting   0 x86_64/old/')).toMatchObject({ kind: 'deleted', fileType: 'dir', path: 'x86_64/old' });
  });

  it('tells content changes from attribute-only changes', () => {
    expect(parseItemizeLine('>f.st...... 8 x86_64/r/repodata/repomd.xml')).toMatchObject({ kind: 'changed', size: 8 });
    expect(parseItemizeLine('>f..t...... 8 x86_64/r/touched.rpm')).toMatchObject({ kind: 'changed' });
    expect(parseItemizeLine('.f...p..... 3 x86_64/r/perm.rpm')).toMatchObject({ kind: 'attributes' });
    expect(parseItemizeLine('.f....og... 3 x86_64/r/owner.rpm')).toMatchObject({ kind: 'attributes' });
    expect(parseItemizeLine('.d..t...... 4096 x86_64/r/')).toMatchObject({ kind: 'attributes', fileType: 'dir', path: 'x86_64/r' });
  });

  it('splits a symlink from its target, and a hard link from what it links to', () => {
    expect(parseItemizeLine('cL+++++++++ 18 x86_64/r/latest.rpm -> Packages/a/new one.rpm')).toMatchObject({
      kind: 'added',
      fileType: 'symlink',
      path: 'x86_64/r/latest.rpm',
      linkTarget: 'Packages/a/new one.rpm',
    });
    expect(parseItemizeLine('cLc.t...... 5 x86_64/r/l -> other')).toMatchObject({ kind: 'changed', linkTarget: 'other' });
    expect(parseItemizeLine('hf+++++++++ 3 x86_64/r/b.rpm => x86_64/r/a.rpm')).toMatchObject({ path: 'x86_64/r/b.rpm', linkTarget: 'x86_64/r/a.rpm' });
  });

  it('decodes rsync \\#ooo escapes (newline, non-ASCII under LC_ALL=C)', () => {
    expect(parseItemizeLine('>f+++++++++ 0 x86_64/r/nl\\#012x.rpm')?.path).toBe('x86_64/r/nl\nx.rpm');
    expect(decodeRsyncName('caf\\#303\\#251.rpm')).toBe('café.rpm');
    expect(decodeRsyncName('plain\\name')).toBe('plain\\name');
  });

  it('ignores lines that are not itemize records', () => {
    for (const line of ['', 'created directory /tmp/x', 'Number of files: 6 (reg: 5, dir: 1)', 'sent 1,500 bytes  received 1 bytes', '>f+++++++++ x'])
      expect(parseItemizeLine(line)).toBeNull();
  });

  it('reads the plain -i format too', () => {
    expect(parseItemizeLine('>f+++++++++ 12 x.rpm', 'plain')).toMatchObject({ path: '12 x.rpm', size: null });
    expect(parseItemizeLine('*deleting   x86_64/old/', 'plain')).toMatchObject({ kind: 'deleted', fileType: 'dir', path: 'x86_64/old' });
  });
});

describe('repoKeyOf', () => {
  it('is <arch>/<repo> for anything inside a repo, metadata for the metadata folder', () => {
    expect(repoKeyOf('x86_64/core-common/Packages/a/a.rpm')).toBe('x86_64/core-common');
    expect(repoKeyOf('source/core-common/repodata/repomd.xml')).toBe('source/core-common');
    expect(repoKeyOf('x86_64/core-common', true)).toBe('x86_64/core-common');
    expect(repoKeyOf('metadata/RPM-GPG-KEY-Rocky-SIG-Core')).toBe('metadata');
    expect(repoKeyOf('metadata', true)).toBe('metadata');
  });
  it('puts loose files in their arch dir or the top level', () => {
    expect(repoKeyOf('x86_64/README')).toBe('x86_64');
    expect(repoKeyOf('COMPOSE_ID')).toBe('.');
  });
});

describe('buildSyncPreview', () => {
  const output = [
    'created directory /srv/prod/9/core',
    '*deleting   0 x86_64/core-old/Packages/g/gone.rpm',
    '*deleting   0 x86_64/core-old/repodata/repomd.xml',
    '*deleting   0 x86_64/core-old/repodata/',
    '*deleting   0 x86_64/core-old/Packages/g/',
    '*deleting   0 x86_64/core-old/Packages/',
    '*deleting   0 x86_64/core-old/',
    '*deleting   0 x86_64/core-common/Packages/a/alpha-1.0-1.x86_64.rpm',
    'cd+++++++++ 4096 metadata/',
    '>f+++++++++ 1700 metadata/RPM-GPG-KEY-Rocky-SIG-Core',
    '>f+++++++++ 3000 x86_64/core-common/Packages/a/alpha-1.1-1.x86_64.rpm',
    '>f.st...... 900 x86_64/core-common/repodata/repomd.xml',
    '.f...p..... 10 x86_64/core-common/Packages/b/beta-1.0-1.x86_64.rpm',
  ].join('\n');
  const preview = buildSyncPreview(output, {
    source: '/c',
    target: '/t',
    targetFiles: 20,
    targetFilesByRepo: { 'x86_64/core-common': 18, 'x86_64/core-old': 2 },
    deletedSizes: { 'x86_64/core-old/Packages/g/gone.rpm': 500, 'x86_64/core-common/Packages/a/alpha-1.0-1.x86_64.rpm': 2900 },
  });

  it('counts files and bytes added, changed and deleted overall', () => {
    expect(preview.added).toEqual({ files: 2, bytes: 4700 });
    expect(preview.changed).toEqual({ files: 1, bytes: 900 });
    expect(preview.deleted).toEqual({ files: 3, bytes: 3400 });
    expect(preview.attributesOnly).toBe(1);
    expect(preview.dirs).toEqual({ added: 1, deleted: 4 });
    expect(preview.deleteEntries).toBe(7);
    expect(preview.targetFiles).toBe(20);
  });

  it('counts per repo, marks a removed repo and a new metadata folder', () => {
    expect(preview.repos['x86_64/core-old']).toMatchObject({ status: 'removed', deleted: { files: 2, bytes: 500 }, targetFiles: 2 });
    expect(preview.repos['x86_64/core-common']).toMatchObject({
      status: 'changed',
      added: { files: 1, bytes: 3000 },
      changed: { files: 1, bytes: 900 },
      deleted: { files: 1, bytes: 2900 },
      attributesOnly: 1,
      targetFiles: 18,
    });
    expect(preview.repos['metadata']).toMatchObject({ status: 'new', added: { files: 1, bytes: 1700 } });
  });

  it('stays small: no file lists in the value', () => {
    expect(JSON.stringify(preview).length).toBeLessThan(2000);
  });
});

describe('itemize parser on real rsync 3.5 output', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempDir('itemize');
    await writeTree(`${root}/src`, {
      'x86_64/core-common/Packages/a/a b.rpm': 'same',
      'x86_64/core-common/Packages/a/new.rpm': 'new content',
      'x86_64/core-common/Packages/t/tab\there.rpm': 'tab',
      'x86_64/core-common/repodata/repomd.xml': '<repomd>newer</repomd>',
      'x86_64/core-common/latest.rpm': { symlink: 'Packages/a/new.rpm' },
      'metadata/RPM-GPG-KEY-Rocky-SIG-Core': 'key',
    });
    await writeTree(`${root}/dst`, {
      'x86_64/core-common/Packages/a/a b.rpm': 'same',
      'x86_64/core-common/Packages/a/gone.rpm': 'gone!',
      'x86_64/core-common/repodata/repomd.xml': '<repomd>old</repomd>',
      'x86_64/core-old/Packages/o/old.rpm': 'old-old',
    });
    // Same content and mtime for the unchanged file, so rsync's quick check skips it.
    const t = new Date('2024-01-01T00:00:00Z');
    const { utimes } = await import('node:fs/promises');
    await utimes(`${root}/src/x86_64/core-common/Packages/a/a b.rpm`, t, t);
    await utimes(`${root}/dst/x86_64/core-common/Packages/a/a b.rpm`, t, t);
  });
  afterAll(() => removeDir(root));

  it('parses a dry run of our preview command into the expected counts', async () => {
    const { stdout } = await execa('rsync', previewArgs({ source: `${root}/src`, target: `${root}/dst` }), { env: { LC_ALL: 'C' } });
    const preview = buildSyncPreview(stdout, {
      source: `${root}/src`,
      target: `${root}/dst`,
      targetFiles: 4,
      deletedSizes: { 'x86_64/core-common/Packages/a/gone.rpm': 5, 'x86_64/core-old/Packages/o/old.rpm': 7 },
    });
    expect(preview.added.files).toBe(4); // new.rpm, tab file, symlink, key
    expect(preview.added.bytes).toBe('new content'.length + 'tab'.length + 'Packages/a/new.rpm'.length + 'key'.length);
    expect(preview.changed).toEqual({ files: 1, bytes: '<repomd>newer</repomd>'.length });
    expect(preview.deleted).toEqual({ files: 2, bytes: 12 });
    expect(preview.repos['x86_64/core-old']?.status).toBe('removed');
    expect(preview.repos['metadata']?.status).toBe('new');
    expect(preview.repos['x86_64/core-common']?.added.files).toBe(3);
    // Every deletion line is counted once, dirs included: what --max-delete counts.
    expect(preview.deleteEntries).toBe(stdout.split('\n').filter((l) => l.startsWith('*deleting')).length);
  });
});
