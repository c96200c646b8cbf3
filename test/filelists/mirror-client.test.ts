// The published lists as a mirror's quick-fedora-mirror reads them (reference/mirror-file-lists.md §2.1): the
// version must be at most 3, `[End]` must close the list, `[Files]` rows are split on TAB into time, type, size
// and path, and the `[Checksums <ALGO>]` rows are checked against the files. Every listed path must exist in
// the tree with that type and size, and every entry of the tree must be listed (what the client would delete
// otherwise). Real publisher, real tree; no server.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFileLists } from '../../src/filelists/publish.js';

interface ClientView {
  version: number;
  files: Array<{ time: number; type: string; size: number; path: string }>;
  checksums: Map<string, Array<{ digest: string; path: string }>>;
}

/** Reads a timelist the way the client does, failing where it would refuse the list. */
function readAsClient(text: string): ClientView {
  const lines = text.split('\n');
  if (!lines.slice(-3).includes('[End]')) throw new Error('corrupted file list: no [End] in the last lines');
  const version = Number(lines[lines.indexOf('[Version]') + 1]);
  if (!(version <= 3)) throw new Error(`list version ${version} is newer than 3`);
  const files: ClientView['files'] = [];
  const checksums = new Map<string, Array<{ digest: string; path: string }>>();
  let section = '';
  for (const line of lines) {
    if (/^\[.*\]$/.test(line)) {
      section = line;
      const m = /^\[Checksums (\w+)\]$/.exec(line);
      if (m) checksums.set(m[1]!, []);
      continue;
    }
    if (line === '') continue;
    if (section === '[Files]') {
      const [time, type, size, ...rest] = line.split('\t');
      files.push({ time: Number(time), type: type!, size: Number(size), path: rest.join('\t') });
    } else if (section.startsWith('[Checksums ')) {
      const [digest, p] = line.split('\t');
      checksums.get(section.slice(11, -1))!.push({ digest: digest!, path: p! });
    }
  }
  return { version, files, checksums };
}

const typeLetter = (st: fs.Stats) => (st.isSymbolicLink() ? 'l' : st.isDirectory() ? 'd' : 'f');

function treeEntries(dir: string, skipTop: Set<string>, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (!rel && skipTop.has(e.name)) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...treeEntries(dir, skipTop, r));
  }
  return out;
}

describe('published lists, read as quick-fedora-mirror reads them', () => {
  it('name every entry of the tree with its type and size, and checksums that match the files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-qfm-'));
    const repo = path.join(dir, '9', 'core', 'x86_64', 'core');
    fs.mkdirSync(path.join(repo, 'repodata'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'Packages', 'c'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'Packages', 'c', 'core-1.0-1.el9.x86_64.rpm'), Buffer.alloc(12_345, 1));
    fs.writeFileSync(path.join(repo, 'repodata', 'repomd.xml'), '<repomd><revision>1</revision></repomd>\n');
    fs.writeFileSync(path.join(dir, '9', 'core', 'README'), 'hello\n');
    fs.symlinkSync('9', path.join(dir, '9-stable'));
    fs.mkdirSync(path.join(dir, '9', 'core', 'empty'));

    await publishFileLists({ dir, module: 'sig' });
    // Published twice: the second walk sees the first's lists at the top and must not list them.
    await publishFileLists({ dir, module: 'sig' });
    const view = readAsClient(fs.readFileSync(path.join(dir, 'fullfiletimelist-sig'), 'utf8'));
    expect(view.version).toBeLessThanOrEqual(3);
    expect(fs.readFileSync(path.join(dir, 'fullfiletimelist'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'fullfiletimelist-sig'), 'utf8'));

    for (const row of view.files) {
      const st = fs.lstatSync(path.join(dir, row.path));
      expect(row.type.replace(/[-*]$/, ''), row.path).toBe(typeLetter(st));
      if (!st.isDirectory()) expect(row.size, row.path).toBe(st.size);
      expect(row.time, row.path).toBeGreaterThan(0);
    }
    const listed = view.files.map((f) => f.path).sort();
    const managed = new Set(['fullfilelist', 'fullfilelist-old', 'fullfiletimelist-sig', 'fullfiletimelist-sig-old', 'fullfiletimelist']);
    expect(listed).toEqual(treeEntries(dir, managed).sort());

    expect([...view.checksums.keys()]).toEqual(['SHA1', 'MD5', 'SHA256', 'SHA512']);
    for (const [algo, rows] of view.checksums) {
      expect(rows.map((r) => r.path)).toEqual(['9/core/x86_64/core/repodata/repomd.xml']);
      for (const r of rows) expect(r.digest).toBe(createHash(algo.toLowerCase()).update(fs.readFileSync(path.join(dir, r.path))).digest('hex'));
    }
  });

  it('refuses a list without [End] or with a newer version, as the client does', () => {
    expect(() => readAsClient('[Version]\n2\n\n[Files]\n1\tf\t1\ta\n')).toThrow(/no \[End\]/);
    expect(() => readAsClient('[Version]\n4\n\n[Files]\n\n[End]\n')).toThrow(/newer than 3/);
  });
});
