// Real temp trees for the file-list tests: the worked example of reference/mirror-file-lists.md §1.9 plus
// the awkward cases of §1.3 and §4.3 (hard links, empty dirs, odd but legal names).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';

export function tempDir(prefix = 'filelists-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function file(root: string, rel: string, content: string | number = '', mode = 0o644): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  if (typeof content === 'number') {
    fs.writeFileSync(p, '');
    fs.truncateSync(p, content);
  } else {
    fs.writeFileSync(p, content);
  }
  fs.chmodSync(p, mode);
}

/** The §1.9 tree. */
export function buildWorkedExample(root: string): void {
  fs.mkdirSync(path.join(root, 'x86_64/os/Packages/h'), { recursive: true });
  fs.mkdirSync(path.join(root, 'x86_64/os/repodata'), { recursive: true });
  fs.symlinkSync('x86_64/os', path.join(root, 'latest'));
  file(root, 'README', 'hello\n');
  file(root, 'noread', '', 0o600);
  fs.symlinkSync('missing', path.join(root, 'dangling'));
  file(root, '.~tmp~/partial');
  fs.mkdirSync(path.join(root, 'private'), { mode: 0o750 });
  fs.chmodSync(path.join(root, 'private'), 0o750);
  file(root, 'private/notes.txt', 'hi\n');
  file(root, 'x86_64/os/Packages/h/hello-1.0-1.el9.x86_64.rpm', 6020);
  file(root, 'x86_64/os/repodata/abcd-primary.xml.gz', 'ab');
  file(root, 'x86_64/os/repodata/repomd.xml', '<repomd/>\n');
}

/** §1.9 plus everything else the walker must get right. */
export function buildAwkwardTree(root: string): void {
  buildWorkedExample(root);
  file(root, 'x86_64/os/Packages/h/hardlinked.rpm', 'rpm');
  fs.linkSync(path.join(root, 'x86_64/os/Packages/h/hardlinked.rpm'), path.join(root, 'x86_64/os/Packages/h/hardlinked-copy.rpm'));
  fs.mkdirSync(path.join(root, 'empty'));
  fs.mkdirSync(path.join(root, 'nested/empty/deeper'), { recursive: true });
  file(root, 'nested/.~tmp~/x', 'scratch');
  file(root, 'nested/.nfs0000abcd', 'silly rename');
  file(root, '.nfsXYZ', 'silly rename');
  file(root, 'nested/kept.nfs', 'only contains .nfs');
  file(root, 'with space/file name.txt', 'spaces');
  file(root, 'ünïcødé/日本語.txt', 'non-ascii');
  file(root, 'secret/inside.txt', 'x');
  fs.chmodSync(path.join(root, 'secret'), 0o700); // not group-readable: left out of the timelist with its content
  fs.symlinkSync('../noread', path.join(root, 'nested/link-to-noread')); // target not group-readable
  fs.symlinkSync('../README', path.join(root, 'nested/link-to-readme'));
  file(root, 'nested/sub/repomd.xml', '<repomd>nested</repomd>\n');
  // mtime (newer than ctime) a fraction of a µs before a second boundary: the exact-rounding path.
  file(root, 'future-edge.txt', 'x');
  // (fs.utimes takes float seconds and cannot express that; GNU touch takes nanoseconds.)
  execaSync('touch', ['-m', '-d', '@2000000000.999999880', path.join(root, 'future-edge.txt')]);
}

/** `find .` run inside `root`, as lines. */
export async function findDot(root: string): Promise<string[]> {
  const { stdout } = await execa('find', ['.'], { cwd: root, stripFinalNewline: true });
  return stdout.split('\n');
}

export interface FilesRow {
  timestamp: number;
  type: string;
  size: number;
  path: string;
}

/** The `[Files]` rows of a timelist, in file order. */
export function filesRows(timelist: string): FilesRow[] {
  const lines = timelist.split('\n');
  const start = lines.indexOf('[Files]') + 1;
  const end = lines.indexOf('', start);
  return lines.slice(start, end).map((line) => {
    const [timestamp, type, size, p, ...rest] = line.split('\t');
    if (rest.length > 0 || p === undefined) throw new Error(`malformed row ${JSON.stringify(line)}`);
    return { timestamp: Number(timestamp), type: type!, size: Number(size), path: p };
  });
}
