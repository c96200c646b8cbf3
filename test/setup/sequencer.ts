// Runs the longest test files first, whichever project they belong to, so that on the workers no long file starts
// last and leaves one worker idle while it finishes. vitest's own order needs its results cache (a fresh clone,
// as on CI, has none, and then it orders by file size, which is not time here); this order comes from the
// committed wall times of one full run (file-weights.json, refreshed by hand when the suite changes much).
// A file not in it yet is taken for a long one, so it is not left for the end.
import fs from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const WEIGHTS: Record<string, number> = JSON.parse(fs.readFileSync(new URL('./file-weights.json', import.meta.url), 'utf8'));

/** Seconds a file is expected to take: its recorded time, or a guess for a new file by its kind. */
export function expectedSeconds(relPath: string, weights: Record<string, number> = WEIGHTS): number {
  return weights[relPath] ?? (relPath.endsWith('.int.test.ts') ? 60 : 20);
}

/** Longest first; ties by path, so the order is the same on every machine. */
export function longestFirst<T>(files: T[], relPathOf: (f: T) => string, weights: Record<string, number> = WEIGHTS): T[] {
  return [...files].sort((a, b) => {
    const pa = relPathOf(a);
    const pb = relPathOf(b);
    return expectedSeconds(pb, weights) - expectedSeconds(pa, weights) || (pa < pb ? -1 : pa > pb ? 1 : 0);
  });
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    return longestFirst(files, (f) => path.relative(root, f.moduleId).split(path.sep).join('/'));
  }
}
