// When a task's folder may be carried over from the previous compose without dnf (src/compose/carryOver.ts), and
// when verification may trust what the previous compose verified (src/compose/verifiedFiles.ts). No server.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { carryOverVerdict, keysDigest, sha256Hex, type CarryOverQuestion, type PreviousCompose } from '../../src/compose/carryOver.js';
import { verifyRepoDir } from '../../src/compose/verify.js';
import { parseVerified, serializeVerified, type VerifiedFiles } from '../../src/compose/verifiedFiles.js';

const task = { name: 'core-common-x86_64', baseUrl: 'http://up/core-common/x86_64', relDir: 'x86_64/core-common' };
const REPOMD = sha256Hex('<repomd/>');
const KEYS = keysDigest([{ name: 'RPM-GPG-KEY', content: Buffer.from('key') }]);

const previous = (over: Partial<PreviousCompose> = {}): PreviousCompose => ({
  composeId: 'core-9-20260101.000000',
  verified: true,
  effective: { gpgCheck: true, repoGpgCheck: true },
  keysSha256: KEYS,
  tasks: [task],
  sourceMetadata: [{ relDir: task.relDir, repomdSha256: REPOMD }],
  ...over,
});
const question = (over: Partial<CarryOverQuestion> = {}): CarryOverQuestion => ({
  task,
  gpgCheck: true,
  repoGpgCheck: true,
  keysSha256: KEYS,
  upstreamRepomdSha256: REPOMD,
  previousRepomdSha256: REPOMD,
  ...over,
});

describe('carrying a task over from the previous compose', () => {
  it('carries over when upstream repomd.xml is the one the previous compose recorded, with the same checks and keys', () => {
    expect(carryOverVerdict(previous(), question())).toEqual({ carry: true, from: 'core-9-20260101.000000' });
  });

  it('goes through dnf when upstream repomd.xml changed by a single byte', () => {
    expect(carryOverVerdict(previous(), question({ upstreamRepomdSha256: sha256Hex('<repomd/> ') }))).toMatchObject({ carry: false, reason: /upstream repomd.xml changed/ });
  });

  it('goes through dnf for an older manifest without checksums, or none at all', () => {
    expect(carryOverVerdict(previous({ sourceMetadata: undefined }), question())).toMatchObject({ carry: false, reason: /recorded no repomd.xml checksum/ });
    expect(carryOverVerdict(previous({ sourceMetadata: [{ relDir: task.relDir }] }), question())).toMatchObject({ carry: false });
    expect(carryOverVerdict(null, question())).toMatchObject({ carry: false, reason: /no previous compose manifest/ });
  });

  it('never carries over from a compose that failed verification, synced the repo from elsewhere, or was edited since', () => {
    expect(carryOverVerdict(previous({ verified: false }), question())).toMatchObject({ carry: false, reason: /verification/ });
    expect(carryOverVerdict(previous({ tasks: [{ ...task, baseUrl: 'http://other/' }] }), question())).toMatchObject({ carry: false });
    expect(carryOverVerdict(previous({ tasks: [] }), question())).toMatchObject({ carry: false });
    expect(carryOverVerdict(previous(), question({ previousRepomdSha256: sha256Hex('edited') }))).toMatchObject({ carry: false, reason: /not the one it recorded/ });
    expect(carryOverVerdict(previous(), question({ previousRepomdSha256: null }))).toMatchObject({ carry: false });
  });

  it('a compose that checked fewer signatures, or with other keys, does not stand in for one that checks them', () => {
    expect(carryOverVerdict(previous({ effective: { gpgCheck: false, repoGpgCheck: true } }), question())).toMatchObject({ carry: false, reason: /fewer signatures/ });
    expect(carryOverVerdict(previous({ effective: { gpgCheck: true, repoGpgCheck: false } }), question())).toMatchObject({ carry: false });
    expect(carryOverVerdict(previous({ keysSha256: keysDigest([{ name: 'RPM-GPG-KEY', content: Buffer.from('other') }]) }), question())).toMatchObject({ carry: false, reason: /other keys/ });
    // Checking less than the previous compose did is fine: it passed more.
    expect(carryOverVerdict(previous(), question({ gpgCheck: false, repoGpgCheck: false, keysSha256: 'x' }))).toMatchObject({ carry: true });
  });
});

describe('verification trusting what the previous compose verified', () => {
  /** A repo folder with repodata made by hand: one package listed with its sha256. */
  async function repo(dir: string, content: string): Promise<void> {
    await fs.mkdir(path.join(dir, 'repodata'), { recursive: true });
    await fs.mkdir(path.join(dir, 'Packages'), { recursive: true });
    await fs.writeFile(path.join(dir, 'Packages', 'a-1.rpm'), content);
    const primary = `<?xml version="1.0"?><metadata packages="1"><package type="rpm"><name>a</name><arch>x86_64</arch><checksum type="sha256" pkgid="YES">${sha256Hex(content)}</checksum><size package="${content.length}"/><location href="Packages/a-1.rpm"/></package></metadata>`;
    await fs.writeFile(path.join(dir, 'repodata', 'primary.xml'), primary);
    await fs.writeFile(
      path.join(dir, 'repodata', 'repomd.xml'),
      `<?xml version="1.0"?><repomd><data type="primary"><checksum type="sha256">${sha256Hex(primary)}</checksum><location href="repodata/primary.xml"/><size>${primary.length}</size></data></repomd>`,
    );
  }

  it('records what passed, and a hard link with the same identity is not read again; a changed file is', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'carry-verify-'));
    try {
      const a = path.join(tmp, 'a');
      await repo(a, 'package bytes');
      const T = 1_700_000_000; // whole seconds: restored exactly below
      await fs.utimes(path.join(a, 'Packages', 'a-1.rpm'), T, T);
      const first: VerifiedFiles = new Map();
      expect((await verifyRepoDir(a, { verified: first })).problems).toEqual([]);
      expect([...first.keys()].sort()).toEqual(['Packages/a-1.rpm', 'repodata/primary.xml']);
      const record = parseVerified(serializeVerified(first));
      expect(record).toEqual(first);

      // A second folder holding the same inode, as a seeded compose does. To prove the record is what spares the
      // read, the bytes are then changed in place with size and mtime restored (which nothing we run does): with the
      // record they are not read; without it they are read and refused.
      const b = path.join(tmp, 'b');
      await fs.mkdir(path.join(b, 'Packages'), { recursive: true });
      await fs.cp(path.join(a, 'repodata'), path.join(b, 'repodata'), { recursive: true });
      await fs.link(path.join(a, 'Packages', 'a-1.rpm'), path.join(b, 'Packages', 'a-1.rpm'));
      await fs.writeFile(path.join(a, 'Packages', 'a-1.rpm'), 'PACKAGE BYTES', { flag: 'r+' });
      await fs.utimes(path.join(a, 'Packages', 'a-1.rpm'), T, T);
      expect((await verifyRepoDir(b, { trusted: record })).problems).toEqual([]);
      // Without the record the same bytes are read and refused: the trust, not luck, let them through.
      expect((await verifyRepoDir(b)).problems).toEqual([expect.stringMatching(/Packages\/a-1.rpm: sha256 .* but primary metadata says/)]);

      // A file replaced by a new one (new inode) is read again even with the record, and refused.
      await fs.rm(path.join(b, 'Packages', 'a-1.rpm'));
      await fs.writeFile(path.join(b, 'Packages', 'a-1.rpm'), 'PACKAGE BYTES');
      await fs.utimes(path.join(b, 'Packages', 'a-1.rpm'), T, T);
      expect((await verifyRepoDir(b, { trusted: record })).problems).toEqual([expect.stringMatching(/Packages\/a-1.rpm: sha256/)]);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('a malformed record trusts nothing', () => {
    expect(parseVerified('{"version":1,"files":{"x":{"dev":"1"}}}').size).toBe(0);
    expect(parseVerified('not json').size).toBe(0);
    expect(parseVerified(null).size).toBe(0);
  });
});
