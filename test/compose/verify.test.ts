// Verification of a synced repo folder against its own metadata, on real repos made by createrepo_c.
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildYumrepofs, repoDir, type FixtureTree } from '../fixtures/yumrepofs.js';
import { parseRepomd, PrimaryPackageScanner, verifyRepoDir } from '../../src/compose/verify.js';

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

  it('reads sha512 metadata and says clearly when primary metadata is compressed in a way it cannot read', async () => {
    const { dir } = await copyOf({ variant: 'hashed', kind: 'binary', arch: 'x86_64' });
    await execa('createrepo_c', ['--quiet', '--checksum=sha512', dir]);
    expect((await verifyRepoDir(dir)).problems).toEqual([]);
    await execa('createrepo_c', ['--quiet', '--general-compress-type=xz', dir]);
    const problems = (await verifyRepoDir(dir)).problems;
    expect(problems).toEqual([expect.stringMatching(/-primary\.xml\.xz is xz-compressed, which this verifier cannot read \(Node [\d.]+ reads plain and gzip/)]);
  });
});

describe('metadata parsing', () => {
  it('reads repomd <data> entries whatever the attribute order', () => {
    const [e] = parseRepomd(
      `<repomd><data type="primary"><checksum type="sha256">AB</checksum><open-checksum type="sha256">CD</open-checksum>` +
        `<location xml:base="http://x/" href="repodata/p.xml.gz"/><size>12</size></data></repomd>`,
    );
    expect(e).toEqual({ type: 'primary', href: 'repodata/p.xml.gz', checksumType: 'sha256', checksum: 'AB', size: 12, openChecksumType: 'sha256', openChecksum: 'CD' });
  });

  it('cuts packages out of primary.xml however the text is chunked, decoding entities', () => {
    const xml =
      '<metadata><package type="rpm"><name>a&amp;b</name><arch>x86_64</arch><checksum type="sha256" pkgid="YES">11</checksum>' +
      '<size package="5" installed="9"/><location href="Packages/a/a&amp;b.rpm"/></package>' +
      '<package type="rpm"><name>c</name><arch>noarch</arch><location href="c.rpm"/></package></metadata>';
    for (const n of [1, 7, xml.length]) {
      const s = new PrimaryPackageScanner();
      const got = [];
      for (let i = 0; i < xml.length; i += n) got.push(...s.push(xml.slice(i, i + n)));
      expect(got).toEqual([
        { name: 'a&b', arch: 'x86_64', href: 'Packages/a/a&b.rpm', size: 5, checksumType: 'sha256', checksum: '11' },
        { name: 'c', arch: 'noarch', href: 'c.rpm', size: null, checksumType: null, checksum: null },
      ]);
    }
  });
});
