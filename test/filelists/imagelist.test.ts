// imagelist-<module> as Fedora's create-filelist -i writes it: `./<path>` of every listed entry ending in a
// productmd image format, timelist order, empty when there are none; published only when changed. Real tree.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isImagePath, writeImagelistFromTimelist } from '../../src/filelists/imagelist.js';
import { publishFileLists } from '../../src/filelists/publish.js';
import { StringSink } from '../../src/filelists/sink.js';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-imagelist-'));

describe('image list', () => {
  it('matches the suffixes create-filelist takes from productmd, and nothing merely containing them', () => {
    for (const p of ['a/b.iso', 'x.qcow2', 'x.qcow', 'Cloud.x86_64.raw.xz', 'x.raw', 'c.tar.gz', 'v.vagrant-libvirt.box', 'd.vmdk', 'e.vsphere.ova']) {
      expect(isImagePath(p), p).toBe(true);
    }
    for (const p of ['a/b.iso.CHECKSUM', 'b.iso.asc', 'isos', 'x.rpm', 'repodata/repomd.xml', 'x.xz', 'iso']) {
      expect(isImagePath(p), p).toBe(false);
    }
  });

  it('lists exactly the .iso and .qcow2 of an images/ folder, as ./paths, beside the timelist', async () => {
    const dir = tmpDir();
    const images = path.join(dir, '9', 'images', 'x86_64');
    fs.mkdirSync(images, { recursive: true });
    fs.writeFileSync(path.join(images, 'Rocky-9-dvd.iso'), Buffer.alloc(2048, 1));
    fs.writeFileSync(path.join(images, 'Rocky-9-dvd.iso.CHECKSUM'), 'sum\n');
    fs.writeFileSync(path.join(images, 'Rocky-9-GenericCloud.qcow2'), Buffer.alloc(1024, 2));
    fs.mkdirSync(path.join(dir, '9', 'core', 'x86_64', 'Packages'), { recursive: true });
    fs.writeFileSync(path.join(dir, '9', 'core', 'x86_64', 'Packages', 'core-1.0.rpm'), 'rpm');

    const first = await publishFileLists({ dir, module: 'sig' });
    expect(first.images).toBe(2);
    expect(first.changed).toContain('imagelist-sig');
    const lines = fs.readFileSync(path.join(dir, 'imagelist-sig'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.sort()).toEqual(['./9/images/x86_64/Rocky-9-GenericCloud.qcow2', './9/images/x86_64/Rocky-9-dvd.iso']);
    expect(fs.statSync(path.join(dir, 'imagelist-sig')).mode & 0o777).toBe(0o644);

    // Unchanged tree: the image list keeps its inode, and never lists itself or gets an -old copy.
    const ino = fs.statSync(path.join(dir, 'imagelist-sig')).ino;
    const second = await publishFileLists({ dir, module: 'sig' });
    expect(second.unchanged).toContain('imagelist-sig');
    expect(fs.statSync(path.join(dir, 'imagelist-sig')).ino).toBe(ino);
    expect(fs.existsSync(path.join(dir, 'imagelist-sig-old'))).toBe(false);
    const timelist = fs.readFileSync(path.join(dir, 'fullfiletimelist-sig'), 'utf8');
    expect(timelist).not.toMatch(/\timagelist-sig\n/);

    // A new image changes it (atomically: no temp file is left behind).
    fs.writeFileSync(path.join(images, 'Rocky-9-Container.tar.xz'), 'x');
    const third = await publishFileLists({ dir, module: 'sig' });
    expect(third.changed).toContain('imagelist-sig');
    expect(fs.readFileSync(path.join(dir, 'imagelist-sig'), 'utf8')).toContain('./9/images/x86_64/Rocky-9-Container.tar.xz\n');
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('is an empty file when the tree holds no image', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, '9', 'repodata'), { recursive: true });
    fs.writeFileSync(path.join(dir, '9', 'repodata', 'repomd.xml'), '<repomd/>\n');
    const result = await publishFileLists({ dir, module: 'rocky' });
    expect(result.images).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'imagelist-rocky'), 'utf8')).toBe('');
  });

  it('follows the timelist: skipped entries are not images, and a list without the end of [Files] is refused', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'tl');
    fs.writeFileSync(file, '[Version]\n2\n\n[Files]\n1\tf\t3\ta.iso\n1\tf-\t3\tb/c.qcow2\n1\td\t4096\tb\n\n[Checksums SHA1]\n\n[End]\n');
    const sink = new StringSink();
    expect(writeImagelistFromTimelist(file, sink)).toBe(2);
    expect(sink.text).toBe('./a.iso\n./b/c.qcow2\n');
    fs.writeFileSync(file, '[Version]\n2\n\n[Files]\n1\tf\t3\ta.iso\n');
    expect(() => writeImagelistFromTimelist(file, new StringSink())).toThrow(/no end to its \[Files\] section/);
  });
});
