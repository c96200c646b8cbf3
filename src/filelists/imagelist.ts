// The `imagelist-<module>` Fedora publishes beside each timelist (its wrapper runs `create-filelist -i`):
// one line per listed entry whose path ends in one of productmd's image formats, written as `./<path>`,
// in the timelist's own order, and an empty file when there is none. fedfind reads it; quick-fedora-mirror
// fetches it as one of the module's files. Derived from the timelist just written, so it follows the same
// skip rules (top-level outputs, `.~tmp~`, unreadable entries) without a second walk of the tree.
import { StringDecoder } from 'node:string_decoder';
import fs from 'node:fs';
import type { TextSink } from './sink.js';

/**
 * productmd.images.SUPPORTED_IMAGE_FORMATS (release-engineering/productmd, commit 0092ff7), which
 * create-filelist turns into `.<format>` suffixes. A suffix match, as there: `x.raw.xz` matches `raw.xz`.
 */
export const IMAGE_FORMATS: readonly string[] = [
  'iso', 'qcow', 'qcow2', 'raw', 'raw.xz', 'rhevm.ova', 'sda.raw', 'tar.gz', 'tar.xz',
  'vagrant-libvirt.box', 'vagrant-virtualbox.box', 'vdi', 'vmdk', 'vmx', 'vsphere.ova',
];

const IMAGE_SUFFIXES = IMAGE_FORMATS.map((format) => `.${format}`);

export const imagelistName = (module: string) => `imagelist-${module}`;

/** Whether create-filelist would put this listed path (relative, no `./`) in the image list. */
export const isImagePath = (relPath: string) => IMAGE_SUFFIXES.some((suffix) => relPath.endsWith(suffix));

/** The path of a `[Files]` row (`time\ttype\tsize\tpath`); names with a TAB never reach a list. */
function rowPath(row: string): string {
  let at = -1;
  for (let i = 0; i < 3; i++) {
    at = row.indexOf('\t', at + 1);
    if (at < 0) throw new Error(`Malformed [Files] row in a timelist just written: ${JSON.stringify(row.slice(0, 200))}`);
  }
  return row.slice(at + 1);
}

/**
 * Writes the image list of the timelist in `timelistFile` to `sink` and returns its number of lines.
 * Reads the file in chunks: a timelist of a million entries is ~90 MB.
 */
export function writeImagelistFromTimelist(timelistFile: string, sink: TextSink): number {
  const fd = fs.openSync(timelistFile, 'r');
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(1 << 20);
  // Widened so the checks after `take` (which moves it) are not narrowed away.
  let state = 'header' as 'header' | 'files' | 'done';
  let carry = '';
  let images = 0;
  const take = (line: string) => {
    if (state === 'header') {
      if (line === '[Files]') state = 'files';
    } else if (line === '') {
      state = 'done'; // the empty line before the checksum sections (or [End]) closes [Files]
    } else {
      const p = rowPath(line);
      if (isImagePath(p)) {
        sink.write(`./${p}\n`);
        images++;
      }
    }
  };
  const finished = () => state === 'done';
  try {
    while (!finished()) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const lines = (carry + decoder.write(chunk.subarray(0, n))).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        take(line);
        if (finished()) break;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!finished()) throw new Error(`Timelist ${timelistFile} has no end to its [Files] section; no image list written.`);
  sink.flush();
  return images;
}
