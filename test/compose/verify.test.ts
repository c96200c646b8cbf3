// Verification of a synced repo folder against its own metadata, on real repos made by createrepo_c.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildYumrepofs, repoDir, type FixtureTree } from '../fixtures/yumrepofs.js';
import { verifyRepoDir } from '../../src/compose/verify.js';
import { parseRepomd, PrimaryPackageReader } from '../../src/compose/repodata.js';
import { CREATEREPO_EXITS, DECOMPRESSOR_EXITS } from '../../src/tools/exit-codes.js';
import { runToolChecked } from '../../src/tools/run.js';

const createrepo = (...args: string[]) => runToolChecked('createrepo_c', ['--quiet', ...args], CREATEREPO_EXITS);

let tmp: string;
let tree: FixtureTree;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-'));
  tree = await buildYumrepofs(path.join(tmp, 'tree'), {
    projects: { P: { 'core-common': { arches: ['x86_64'], packages: [{ name: 'alpha', version: '1.0' }, { name: 'bravo', version: '2.0' }, { name: 'charlie', version: '1.1', arch: 'noarch' }] } } },
  });
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A private copy of one fixture repo, as reposync would have left it, to break at will. */
async function copyOf(sel: Parameters<typeof repoDir>[1]): Promise<{ dir: string; packages: { href: string; size: number }[] }> {
  const src = repoDir(tree, sel);
  const dir = await fs.mkdtemp(path.join(tmp, 'repo-'));
  await fs.cp(src.dir, dir, { recursive: true });
  return { dir, packages: src.packages.map((p) => ({ href: p.href, size: p.size })) };
}

describe('verifyRepoDir', () => {
  it('passes a hashed repo (Packages/<letter>/, sqlite databases) and counts its packages and bytes', async () => {
    const { dir, packages } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    const r = await verifyRepoDir(dir);
    expect(r).toEqual({ repo: dir, packages: 3, bytes: packages.reduce((n, p) => n + p.size, 0), problems: [] });
    expect(packages.map((p) => p.href)).toContain('Packages/a/alpha-1.0-1.x86_64.rpm');
  });

  it('passes a plain repo (Packages/<task>/<key>/) and a source repo', async () => {
    expect((await verifyRepoDir((await copyOf({ variant: 'plain', kind: 'binary', arch: 'x86_64' })).dir)).problems).toEqual([]);
    const src = await verifyRepoDir((await copyOf({ variant: 'hashed', kind: 'source' })).dir);
    expect(src).toMatchObject({ packages: 3, problems: [] });
  });

  it('reports a package listed in primary metadata but missing on disk', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await fs.rm(path.join(dir, 'Packages/b/bravo-2.0-1.x86_64.rpm'));
    expect((await verifyRepoDir(dir)).problems).toEqual(['Packages/b/bravo-2.0-1.x86_64.rpm: missing (listed in primary metadata)']);
  });

  it('reports a package of the right size whose checksum does not match, and a truncated one', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    const alpha = path.join(dir, 'Packages/a/alpha-1.0-1.x86_64.rpm');
    const bytes = await fs.readFile(alpha);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await fs.writeFile(alpha, bytes);
    const charlie = path.join(dir, 'Packages/c/charlie-1.1-1.noarch.rpm');
    await fs.truncate(charlie, 100);
    const problems = (await verifyRepoDir(dir)).problems.sort();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^Packages\/a\/alpha-1\.0-1\.x86_64\.rpm: sha256 [0-9a-f]{12}… but primary metadata says [0-9a-f]{12}…$/);
    expect(problems[1]).toMatch(/^Packages\/c\/charlie-1\.1-1\.noarch\.rpm: size 100 but primary metadata says \d+$/);
  });

  it('checks sizes only when asked not to hash packages', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    const alpha = path.join(dir, 'Packages/a/alpha-1.0-1.x86_64.rpm');
    const bytes = await fs.readFile(alpha);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await fs.writeFile(alpha, bytes);
    expect((await verifyRepoDir(dir, { checksums: false })).problems).toEqual([]);
  });

  it('reports a metadata file that does not match repomd.xml, and a missing repomd.xml', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    const other = (await fs.readdir(path.join(dir, 'repodata'))).find((f) => f.endsWith('-other.xml.gz'))!;
    await fs.appendFile(path.join(dir, 'repodata', other), 'x');
    expect((await verifyRepoDir(dir)).problems).toEqual([expect.stringMatching(new RegExp(`^repodata/${other}: size \\d+ but repomd.xml \\(other\\) says \\d+$`))]);
    await fs.rm(path.join(dir, 'repodata', 'repomd.xml'));
    expect(await verifyRepoDir(dir)).toMatchObject({ packages: 0, problems: ['repodata/repomd.xml is missing'] });
  });

  it('refuses a package location that leaves the repo folder', async () => {
    const dir = await fs.mkdtemp(path.join(tmp, 'evil-'));
    await fs.mkdir(path.join(dir, 'repodata'));
    await fs.writeFile(
      path.join(dir, 'repodata', 'primary.xml'),
      '<metadata packages="1"><package type="rpm"><name>x</name><arch>noarch</arch><location href="../../etc/passwd"/></package></metadata>',
    );
    await fs.writeFile(path.join(dir, 'repodata', 'repomd.xml'), '<repomd><data type="primary"><location href="repodata/primary.xml"/></data></repomd>');
    expect((await verifyRepoDir(dir)).problems).toEqual(['../../etc/passwd: primary metadata location is outside the repo folder']);
  });

  it('reads sha512 metadata', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await createrepo('--checksum=sha512', dir);
    expect((await verifyRepoDir(dir)).problems).toEqual([]);
  });

  it.each(['gz', 'xz', 'bz2'])('reads %s-compressed primary metadata and checks every package it lists', async (kind) => {
    const { dir, packages } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await createrepo(`--general-compress-type=${kind}`, dir);
    const primary = (await fs.readdir(path.join(dir, 'repodata'))).find((f) => f.endsWith('-primary.xml.' + kind));
    expect(primary, `createrepo_c wrote a ${kind} primary`).toBeDefined();
    expect(await verifyRepoDir(dir)).toEqual({ repo: dir, packages: 3, bytes: packages.reduce((n, p) => n + p.size, 0), problems: [] });
    // And it really reads them: a missing package is found through that primary.
    await fs.rm(path.join(dir, 'Packages/b/bravo-2.0-1.x86_64.rpm'));
    expect((await verifyRepoDir(dir)).problems).toEqual(['Packages/b/bravo-2.0-1.x86_64.rpm: missing (listed in primary metadata)']);
  });

  it('reads zstd-compressed primary metadata (as EL10 and Fedora publish it)', async () => {
    const { dir, packages } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await createrepo('--general-compress-type=gz', '--no-database', dir);
    await recompressPrimaryWithZstd(dir);
    expect(await verifyRepoDir(dir)).toEqual({ repo: dir, packages: 3, bytes: packages.reduce((n, p) => n + p.size, 0), problems: [] });
    await fs.truncate(path.join(dir, 'Packages/c/charlie-1.1-1.noarch.rpm'), 10);
    expect((await verifyRepoDir(dir)).problems).toEqual([expect.stringMatching(/^Packages\/c\/charlie-1\.1-1\.noarch\.rpm: size 10 but primary metadata says \d+$/)]);
  });

  it('reports a corrupt zstd primary by name, with what to do', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await createrepo('--general-compress-type=gz', '--no-database', dir);
    const zst = await recompressPrimaryWithZstd(dir, (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)));
    const problems = (await verifyRepoDir(dir)).problems;
    expect(problems).toEqual([expect.stringContaining(`repodata/${zst}: cannot be decompressed or read: ${zst} is zstd-compressed and zstd could not decompress the file`)]);
    expect(problems[0]).toContain('sync the repo again');
  });

  it('reports primary metadata that is not well-formed XML', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await createrepo('--general-compress-type=gz', '--no-database', dir);
    await recompressPrimaryWithZstd(dir, undefined, (xml) => xml.replace('</package>', '</pakage>'));
    expect((await verifyRepoDir(dir)).problems).toEqual([expect.stringMatching(/-primary\.xml\.zst: cannot be decompressed or read: not well-formed XML at \d+:\d+: unexpected close tag/)]);
  });

  it('finds a package whose file name needs XML entities (& < > \' ")', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    const odd = `Packages/a/alpha&amp;<1>'"q".rpm`;
    await fs.rename(path.join(dir, 'Packages/a/alpha-1.0-1.x86_64.rpm'), path.join(dir, odd));
    await createrepo('--no-database', dir);
    const primaryXml = await readPrimaryXml(dir);
    expect(primaryXml).toContain('alpha&amp;amp;&lt;1&gt;');
    expect(await verifyRepoDir(dir)).toMatchObject({ packages: 3, problems: [] });
    await fs.rm(path.join(dir, odd));
    expect((await verifyRepoDir(dir)).problems).toEqual([`${odd}: missing (listed in primary metadata)`]);
  });
});

async function readPrimaryXml(dir: string): Promise<string> {
  const gz = (await fs.readdir(path.join(dir, 'repodata'))).find((f) => f.endsWith('-primary.xml.gz'))!;
  const { gunzipSync } = await import('node:zlib');
  return gunzipSync(await fs.readFile(path.join(dir, 'repodata', gz))).toString('utf8');
}

/**
 * Debian's createrepo_c 0.17 cannot write zstd: recompress the gzip primary with the zstd tool (after `editXml`,
 * then `editZst` on the compressed bytes) and rewrite its repomd entry (location, checksum, open-checksum, size).
 */
async function recompressPrimaryWithZstd(dir: string, editZst?: (b: Buffer) => Buffer, editXml?: (xml: string) => string): Promise<string> {
  const repodata = path.join(dir, 'repodata');
  const gz = (await fs.readdir(repodata)).find((f) => f.endsWith('-primary.xml.gz'))!;
  const xml = (editXml ?? ((x) => x))(await readPrimaryXml(dir));
  const plain = path.join(repodata, 'primary.xml');
  await fs.writeFile(plain, xml);
  await runToolChecked('zstd', ['-q', '-19', '--rm', '-o', `${plain}.zst`, plain], DECOMPRESSOR_EXITS.zstd);
  let zst = await fs.readFile(`${plain}.zst`);
  if (editZst) zst = editZst(zst);
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const name = `${sha(zst)}-primary.xml.zst`;
  await fs.writeFile(path.join(repodata, name), zst);
  await fs.rm(`${plain}.zst`);
  await fs.rm(path.join(repodata, gz));
  const repomdFile = path.join(repodata, 'repomd.xml');
  const repomd = await fs.readFile(repomdFile, 'utf8');
  const updated = repomd.replace(/<data type="primary">[\s\S]*?<\/data>/, (block) =>
    block
      .replace(/<checksum type="sha256">[0-9a-f]+<\/checksum>/, `<checksum type="sha256">${sha(zst)}</checksum>`)
      .replace(/<open-checksum type="sha256">[0-9a-f]+<\/open-checksum>/, `<open-checksum type="sha256">${sha(xml)}</open-checksum>`)
      .replace(/<location href="[^"]+"\/>/, `<location href="repodata/${name}"/>`)
      .replace(/<size>\d+<\/size>/, `<size>${zst.length}</size>`)
      .replace(/<open-size>\d+<\/open-size>/, `<open-size>${Buffer.byteLength(xml)}</open-size>`),
  );
  expect(updated).not.toBe(repomd);
  await fs.writeFile(repomdFile, updated);
  return name;
}

describe('metadata parsing', () => {
  it('reads repomd <data> entries whatever the attribute order', () => {
    const [e] = parseRepomd(
      `<repomd><data type="primary"><checksum type="sha256">AB</checksum><open-checksum type="sha256">CD</open-checksum>` +
        `<location xml:base="http://x/" href="repodata/p.xml.gz"/><size>12</size></data></repomd>`,
    );
    expect(e).toEqual({ type: 'primary', href: 'repodata/p.xml.gz', checksumType: 'sha256', checksum: 'AB', size: 12, openChecksumType: 'sha256', openChecksum: 'CD' });
  });

  it('reads packages from primary.xml however the text is chunked, decoding entities and CDATA, ignoring nested elements', () => {
    const xml =
      '<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm"><package type="rpm"><name>a&amp;b</name><arch>x86_64</arch><checksum type="sha256" pkgid="YES">11</checksum>' +
      "<size installed='9' package='5'/><location href=\"Packages/a/a&amp;b&#x3c;.rpm\"/><format><rpm:provides><rpm:entry name=\"nested\"/></rpm:provides><name>not-this</name></format></package>" +
      '<package type="rpm"><name><![CDATA[c]]></name><arch>noarch</arch><location href="c.rpm"/></package></metadata>';
    for (const n of [1, 7, xml.length]) {
      const s = new PrimaryPackageReader();
      const got = [];
      for (let i = 0; i < xml.length; i += n) got.push(...s.write(xml.slice(i, i + n)));
      got.push(...s.close());
      expect(got).toEqual([
        { name: 'a&b', arch: 'x86_64', href: 'Packages/a/a&b<.rpm', size: 5, checksumType: 'sha256', checksum: '11' },
        { name: 'c', arch: 'noarch', href: 'c.rpm', size: null, checksumType: null, checksum: null },
      ]);
    }
  });
});
