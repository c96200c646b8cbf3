import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerFilelistCommand, runFilelistCommand } from '../../src/cli/filelist.js';
import { buildWorkedExample, filesRows, findDot, tempDir } from './fixture.js';

const quiet = { warn: () => {} };

describe('sigrelease filelist', () => {
  let root: string;
  let outDir: string;

  beforeEach(() => {
    root = tempDir('cli-');
    buildWorkedExample(root);
    outDir = tempDir('cli-out-');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('writes the timelist to stdout with empty checksum sections by default, as create-filelist does', async () => {
    const out = path.join(outDir, 'stdout');
    const fd = fs.openSync(out, 'w');
    try {
      const { entries } = await runFilelistCommand({ dir: root }, { stdoutFd: fd, ...quiet });
      expect(entries).toBe(12);
    } finally {
      fs.closeSync(fd);
    }
    const text = fs.readFileSync(out, 'utf8');
    expect(text.startsWith('[Version]\n2\n\n[Files]\n')).toBe(true);
    expect(text.endsWith('\n\n[Checksums SHA1]\n\n[Checksums MD5]\n\n[Checksums SHA256]\n\n[Checksums SHA512]\n\n[End]\n')).toBe(true);
    expect(filesRows(text)).toHaveLength(12);
  });

  it('with -s leaves its own output files out when they are written inside the tree', async () => {
    const timelist = path.join(root, 'fullfiletimelist-sig');
    const filelist = path.join(root, 'fullfilelist');
    fs.writeFileSync(timelist, 'previous generation');
    await runFilelistCommand({ dir: root, timelist, filelist, skip: true, checksum: true }, quiet);
    const text = fs.readFileSync(timelist, 'utf8');
    expect(filesRows(text).map((r) => r.path)).not.toContain('fullfiletimelist-sig');
    expect(text).toContain('79b406525f62bbca1e24ce11921da46feb919ac5\tx86_64/os/repodata/repomd.xml\n');
    const plain = fs.readFileSync(filelist, 'utf8').trimEnd().split('\n');
    const find = (await findDot(root)).filter((l) => l !== './fullfilelist' && l !== './fullfiletimelist-sig');
    expect([...plain].sort()).toEqual(find.sort());
  });

  it('parses the create-filelist options: -d -t -f -c -C (repeatable) -S (repeatable) --sha1-only', async () => {
    const program = new Command().exitOverride();
    registerFilelistCommand(program);
    const timelist = path.join(outDir, 'tl');
    const filelist = path.join(outDir, 'fl');
    await program.parseAsync(
      ['filelist', '-d', root, '-t', timelist, '-f', filelist, '-c', '-C', 'README', '-C', 'notes.txt', '-S', 'x86_64', '-S', 'private', '--sha1-only'],
      { from: 'user' },
    );
    const text = fs.readFileSync(timelist, 'utf8');
    expect(filesRows(text).map((r) => r.path)).toEqual(['README', 'latest']);
    // repomd.xml is under the skipped x86_64, notes.txt under the skipped private: only README is left.
    expect(text.split('[Checksums SHA1]\n')[1]).toBe(`${sha1('hello\n')}\tREADME\n\n[End]\n`);
    expect(text).not.toContain('[Checksums MD5]');
    expect(fs.readFileSync(filelist, 'utf8')).toBe('.\n./.~tmp~\n./.~tmp~/partial\n./README\n./dangling\n./latest\n./noread\n');
  });

  it('takes --threads N (1 to 64) and writes the same lists whatever N, refusing anything else before walking', async () => {
    const lists: string[] = [];
    for (const n of ['1', '2']) {
      const program = new Command().exitOverride();
      registerFilelistCommand(program);
      const timelist = path.join(outDir, `tl-${n}`);
      await program.parseAsync(['filelist', '-d', root, '-t', timelist, '-c', '--threads', n], { from: 'user' });
      lists.push(fs.readFileSync(timelist, 'utf8'));
    }
    expect(filesRows(lists[0]!)).toHaveLength(12);
    expect(lists[1]).toBe(lists[0]);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const bad of ['0', 'two', '65', '1.5']) {
      const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
      registerFilelistCommand(program);
      const timelist = path.join(outDir, `tl-bad`);
      await expect(program.parseAsync(['filelist', '-d', root, '-t', timelist, '--threads', bad], { from: 'user' })).rejects.toThrow(
        `--threads must be a whole number from 1 to 64, got "${bad}"`,
      );
      expect(fs.existsSync(timelist)).toBe(false);
    }
  });

  it('fails with exit status 1 and a message naming the bad path, leaving the previous output in place', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const timelist = path.join(outDir, 'tl');
    fs.writeFileSync(timelist, 'previous generation');
    fs.writeFileSync(path.join(root, 'x86_64', 'tab\there'), '');
    const program = new Command().exitOverride();
    registerFilelistCommand(program);
    const previousExitCode = process.exitCode;
    try {
      await program.parseAsync(['filelist', '--dir', root, '--timelist', timelist], { from: 'user' });
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = previousExitCode;
    }
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/\nfilelist: .*\.\/x86_64\/tab\\there .*contains a TAB/);
    expect(fs.readFileSync(timelist, 'utf8')).toBe('previous generation');
    expect(fs.readdirSync(outDir)).toEqual(['tl']);
  });
});

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
