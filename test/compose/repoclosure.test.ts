// Reading `dnf repoclosure` output (as captured in reference/repo-tools-on-debian.md §5).
import { describe, expect, it } from 'vitest';
import { parseRepoclosureOutput } from '../../src/compose/repoclosure.js';

describe('parseRepoclosureOutput', () => {
  it('finds nothing wrong in a clean run', () => {
    expect(parseRepoclosureOutput(0, '')).toEqual([]);
  });

  it('names each unresolved dependency with the package that needs it', () => {
    const out = [
      'package: needy-1.0-1.aarch64 from rc',
      '  unresolved deps (2):',
      '    libmissing.so.1()(64bit)',
      '    other >= 2',
      'package: lonely-2-1.noarch from rc',
      '  unresolved deps (1):',
      '    ghost',
      'Error: Repoclosure ended with unresolved dependencies (3) across 2 packages.',
    ].join('\n');
    expect(parseRepoclosureOutput(1, out)).toEqual([
      'repoclosure: needy-1.0-1.aarch64 needs libmissing.so.1()(64bit)',
      'repoclosure: needy-1.0-1.aarch64 needs other >= 2',
      'repoclosure: lonely-2-1.noarch needs ghost',
    ]);
  });

  it('reports a run that failed without a report, quoting dnf', () => {
    expect(parseRepoclosureOutput(1, "Error: Failed to download metadata for repo 'x': Cannot download repomd.xml")).toEqual([
      "repoclosure could not run (exit 1): Error: Failed to download metadata for repo 'x': Cannot download repomd.xml",
    ]);
  });
});
