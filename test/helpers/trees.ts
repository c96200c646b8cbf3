// Compares trees file by file: relative path → sha256 (symlinks as "-> target").
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function treeDigest(root: string, opts: { skip?: (rel: string) => boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, e.name);
      const rel = path.relative(root, full);
      if (opts.skip?.(rel)) continue;
      if (e.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(full)}`);
      else if (e.isDirectory()) walk(full);
      else out.set(rel, createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

export function filesUnder(root: string): string[] {
  return [...treeDigest(root).keys()];
}
