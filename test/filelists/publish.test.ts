import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadFileNameError } from '../../src/filelists/names.js';
import { publishFileLists } from '../../src/filelists/publish.js';
import { buildWorkedExample, filesRows, tempDir } from './fixture.js';

const quiet = { onWarning: () => {} };

function snapshot(file: string) {
  const st = fs.statSync(file, { bigint: true });
  return { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, content: fs.readFileSync(file) };
}

describe('publishFileLists', () => {
  let dir: string;
  const at = (name: string) => path.join(dir, name);

  beforeEach(() => {
    dir = tempDir('publish-');
    buildWorkedExample(dir);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes fullfilelist, fullfiletimelist-<module> and the default alias, mode 0644', async () => {
    const result = await publishFileLists({ dir, module: 'sig', ...quiet });
    expect(result).toEqual({
      dir,
      module: 'sig',
      entries: 12,
      images: 0,
      changed: ['fullfilelist', 'fullfiletimelist-sig', 'imagelist-sig', 'fullfiletimelist'],
      unchanged: [],
    });
    for (const name of ['fullfilelist', 'fullfiletimelist-sig', 'imagelist-sig', 'fullfiletimelist']) {
      expect(fs.statSync(at(name)).mode & 0o777, name).toBe(0o644);
    }
    expect(fs.readFileSync(at('fullfiletimelist'))).toEqual(fs.readFileSync(at('fullfiletimelist-sig')));
    expect(fs.existsSync(at('fullfiletimelist-sig-old'))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('never lists its own outputs, their -old copies, aliases or temp files', async () => {
    fs.writeFileSync(at('.fullfiletimelist-sig.tmp-99999-1'), 'left over by a crashed run');
    const aliases = ['fullfiletimelist', 'fullfiletimelist-rocky-linux'];
    await publishFileLists({ dir, module: 'sig', aliases, ...quiet });
    fs.writeFileSync(at('README'), 'changed\n');
    await publishFileLists({ dir, module: 'sig', aliases, ...quiet }); // now the -old copies exist too
    const ours = /^(\.)?(fullfilelist|fullfiletimelist|imagelist)/;
    const timelistPaths = filesRows(fs.readFileSync(at('fullfiletimelist-sig'), 'utf8')).map((r) => r.path);
    expect(timelistPaths.filter((p) => ours.test(p))).toEqual([]);
    const plain = fs.readFileSync(at('fullfilelist'), 'utf8').trimEnd().split('\n');
    expect(plain.filter((p) => ours.test(p.slice(2)))).toEqual([]);
    expect(plain).toContain('./README');
  });

  it('never lists the root marker that sigrelease init-roots writes at the top of a root', async () => {
    fs.writeFileSync(at('.sigrelease-root'), 'production\n');
    await publishFileLists({ dir, module: 'sig', ...quiet });
    const timelistPaths = filesRows(fs.readFileSync(at('fullfiletimelist-sig'), 'utf8')).map((r) => r.path);
    const plain = fs.readFileSync(at('fullfilelist'), 'utf8').trimEnd().split('\n');
    expect(timelistPaths).not.toContain('.sigrelease-root');
    expect(plain).not.toContain('./.sigrelease-root');
    expect(plain).toContain('./README');
  });

  it('leaves unchanged lists untouched: same inode, same times, no -old copy', async () => {
    await publishFileLists({ dir, module: 'sig', ...quiet });
    const names = ['fullfilelist', 'fullfiletimelist-sig', 'imagelist-sig', 'fullfiletimelist'];
    const before = names.map((n) => snapshot(at(n)));
    const second = await publishFileLists({ dir, module: 'sig', ...quiet });
    expect(second.changed).toEqual([]);
    expect(second.unchanged).toEqual(names);
    expect(names.map((n) => snapshot(at(n)))).toEqual(before);
    expect(fs.existsSync(at('fullfiletimelist-sig-old'))).toBe(false);
    expect(fs.existsSync(at('fullfilelist-old'))).toBe(false);
  });

  it('after a change keeps the previous generation as -old and makes every alias equal the new list', async () => {
    const aliases = ['fullfiletimelist', 'fullfiletimelist-rocky-linux'];
    await publishFileLists({ dir, module: 'rocky', aliases, ...quiet });
    const previousTimelist = fs.readFileSync(at('fullfiletimelist-rocky'));
    const previousFilelist = fs.readFileSync(at('fullfilelist'));
    fs.writeFileSync(at('NEW-FILE'), 'new\n');

    const result = await publishFileLists({ dir, module: 'rocky', aliases, ...quiet });
    expect(result.changed).toEqual(['fullfilelist', 'fullfiletimelist-rocky', ...aliases]);
    expect(fs.readFileSync(at('fullfiletimelist-rocky-old'))).toEqual(previousTimelist);
    expect(fs.readFileSync(at('fullfilelist-old'))).toEqual(previousFilelist);
    const current = fs.readFileSync(at('fullfiletimelist-rocky'));
    expect(current.toString()).toMatch(/\tNEW-FILE\n/);
    for (const alias of aliases) expect(fs.readFileSync(at(alias)), alias).toEqual(current);
  });

  it('repairs an alias that drifted even when the lists themselves are unchanged', async () => {
    await publishFileLists({ dir, module: 'sig', ...quiet });
    fs.writeFileSync(at('fullfiletimelist'), 'truncated by a manual cp');
    const result = await publishFileLists({ dir, module: 'sig', ...quiet });
    expect(result.changed).toEqual(['fullfiletimelist']);
    expect(fs.readFileSync(at('fullfiletimelist'))).toEqual(fs.readFileSync(at('fullfiletimelist-sig')));
  });

  it.each([
    ['a TAB', 'bad\tname'],
    ['a newline', 'bad\nname'],
    ['invalid UTF-8', Buffer.from([0x62, 0x61, 0x64, 0xff])],
  ])('refuses a tree with a name containing %s and leaves the published lists as they were', async (_what, name) => {
    await publishFileLists({ dir, module: 'sig', ...quiet });
    const names = ['fullfilelist', 'fullfiletimelist-sig', 'imagelist-sig', 'fullfiletimelist'];
    const before = names.map((n) => snapshot(at(n)));
    const subdir = path.join(dir, 'x86_64/os/Packages/h');
    const bad = typeof name === 'string' ? path.join(subdir, name) : Buffer.concat([Buffer.from(`${subdir}/`), name]);
    fs.writeFileSync(bad, '');

    const err = await publishFileLists({ dir, module: 'sig', ...quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadFileNameError);
    expect((err as Error).message).toContain('./x86_64/os/Packages/h/bad');
    expect(names.map((n) => snapshot(at(n)))).toEqual(before);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(fs.existsSync(at('fullfiletimelist-sig-old'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('chowns every file it writes to the configured owner (needs root)', async () => {
    const owner = { uid: 10004, gid: 10005 };
    await publishFileLists({ dir, module: 'sig', owner, ...quiet });
    fs.writeFileSync(at('NEW-FILE'), 'changes both lists\n');
    await publishFileLists({ dir, module: 'sig', owner, ...quiet });
    for (const name of ['fullfilelist', 'fullfilelist-old', 'fullfiletimelist-sig', 'fullfiletimelist-sig-old', 'fullfiletimelist']) {
      const st = fs.statSync(at(name));
      expect({ name, uid: st.uid, gid: st.gid }).toEqual({ name, ...owner });
    }
  });

  it('rejects a module or alias that is not a plain file name, before touching anything', async () => {
    await expect(publishFileLists({ dir, module: '../sig' })).rejects.toThrow(/Invalid file-list module "\.\.\/sig"/);
    await expect(publishFileLists({ dir, module: 'sig', aliases: ['fullfilelist'] })).rejects.toThrow(
      /Invalid timelist alias "fullfilelist": it is one of the lists/,
    );
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('fullfile') || n.startsWith('.fullfile'))).toEqual([]);
  });

  it('says which directory is missing', async () => {
    await expect(publishFileLists({ dir: path.join(dir, 'nope'), module: 'sig' })).rejects.toThrow(/nope: it is not a directory/);
  });
});
