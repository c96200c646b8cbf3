import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  RAW_CTIME_NSEC,
  RAW_CTIME_SEC,
  RAW_MODE,
  RAW_MTIME_NSEC,
  RAW_MTIME_SEC,
  RAW_SIZE,
  rawLstatFor,
} from '../../src/filelists/rawstat.js';
import { tempDir } from './fixture.js';

describe('rawLstatFor', () => {
  it('passes its self-check on this Node and agrees with fs.lstatSync on files, directories and symlinks', () => {
    const root = tempDir();
    try {
      fs.writeFileSync(path.join(root, 'file'), 'twelve bytes');
      fs.mkdirSync(path.join(root, 'dir'));
      fs.symlinkSync('file', path.join(root, 'link'));
      const lstat = rawLstatFor(root);
      expect(lstat).not.toBeNull();
      for (const name of ['file', 'dir', 'link']) {
        const p = path.join(root, name);
        const want = fs.lstatSync(p, { bigint: true });
        const got = lstat!(p)!;
        expect(got[RAW_MODE]).toBe(Number(want.mode));
        expect(got[RAW_SIZE]).toBe(Number(want.size));
        expect(BigInt(got[RAW_MTIME_SEC]!) * 1_000_000_000n + BigInt(got[RAW_MTIME_NSEC]!)).toBe(want.mtimeNs);
        expect(BigInt(got[RAW_CTIME_SEC]!) * 1_000_000_000n + BigInt(got[RAW_CTIME_NSEC]!)).toBe(want.ctimeNs);
      }
      expect(lstat!(path.join(root, 'missing'))).toBeUndefined();
      expect(() => lstat!(path.join(root, 'file', 'below-a-file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('declines (null) when the probe path does not exist, so the walk falls back to fs.lstatSync', () => {
    expect(rawLstatFor('/nonexistent/sigrelease-probe')).toBeNull();
  });
});
