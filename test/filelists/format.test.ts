import { describe, expect, it } from 'vitest';
import { MultiHasher } from '../../src/filelists/checksums.js';
import {
  DEFAULT_CHECKSUM_ALGORITHMS,
  SHA1_ONLY,
  accessMarker,
  entryTypeLetter,
  formatChecksumSections,
  formatFilesRow,
  formatTimelist,
  timelistTimestamp,
  timelistTimestampFromMs,
  timelistTimestampFromParts,
  type ChecksumAlgorithm,
  type ChecksumSection,
  type TimelistEntry,
} from '../../src/filelists/format.js';

const S = 1_000_000_000n;
const MTIME = 1714521600n * S; // 2024-05-01
const CTIME = 1717200000n * S;

const REG = 0o100000;
const DIR = 0o040000;
const LNK = 0o120000;

function entry(path: string, mode: number, size: number, inRestricted = false): TimelistEntry {
  return { path, stat: { mode, size, mtimeNs: MTIME, ctimeNs: CTIME }, inRestricted };
}

/** Reference §1.9, rows in the order the peer wrote them. */
const WORKED_EXAMPLE_ENTRIES: TimelistEntry[] = [
  entry('latest', LNK | 0o777, 9),
  entry('private/notes.txt', REG | 0o644, 3, true),
  entry('private', DIR | 0o750, 4096),
  entry('README', REG | 0o644, 6),
  entry('x86_64/os/repodata/abcd-primary.xml.gz', REG | 0o644, 2),
  entry('x86_64/os/repodata/repomd.xml', REG | 0o644, 10),
  entry('x86_64/os/repodata', DIR | 0o755, 4096),
  entry('x86_64/os/Packages/h/hello-1.0-1.el9.x86_64.rpm', REG | 0o644, 6020),
  entry('x86_64/os/Packages/h', DIR | 0o755, 4096),
  entry('x86_64/os/Packages', DIR | 0o755, 4096),
  entry('x86_64/os', DIR | 0o755, 4096),
  entry('x86_64', DIR | 0o755, 4096),
];

const WORKED_EXAMPLE_FILES = `[Version]
2

[Files]
1717200000\tl\t9\tlatest
1717200000\tf*\t3\tprivate/notes.txt
1717200000\td-\t4096\tprivate
1717200000\tf\t6\tREADME
1717200000\tf\t2\tx86_64/os/repodata/abcd-primary.xml.gz
1717200000\tf\t10\tx86_64/os/repodata/repomd.xml
1717200000\td\t4096\tx86_64/os/repodata
1717200000\tf\t6020\tx86_64/os/Packages/h/hello-1.0-1.el9.x86_64.rpm
1717200000\td\t4096\tx86_64/os/Packages/h
1717200000\td\t4096\tx86_64/os/Packages
1717200000\td\t4096\tx86_64/os
1717200000\td\t4096\tx86_64
`;

const WORKED_EXAMPLE_SHA1 = `
[Checksums SHA1]
79b406525f62bbca1e24ce11921da46feb919ac5\tx86_64/os/repodata/repomd.xml
`;

const WORKED_EXAMPLE_OTHER_SUMS = `
[Checksums MD5]
058a7ac6937b6ab1ffa429da0d05dbab\tx86_64/os/repodata/repomd.xml

[Checksums SHA256]
92b1fc7b34b24722c692f6abacf2a0dfc7b7f1bda4ac31f36351f324e30c5064\tx86_64/os/repodata/repomd.xml

[Checksums SHA512]
337200294caddd3da3e9cc78ce97d10d411f1b78f448c78f0b7adff279ffc0bba0657452255b5e72142fa66dbef99fefdb4ff3eb8ac4c8d148e83ff5bdce74bc\tx86_64/os/repodata/repomd.xml
`;

function sectionsFor(algorithms: readonly ChecksumAlgorithm[], files: Record<string, string>): ChecksumSection[] {
  const perFile = Object.entries(files).map(([path, content]) => ({
    path,
    digests: new MultiHasher(algorithms).update(Buffer.from(content)).digests(),
  }));
  return algorithms.map((algorithm, i) => ({ algorithm, rows: perFile.map((f) => ({ path: f.path, digest: f.digests[i]! })) }));
}

describe('formatTimelist', () => {
  it('reproduces the worked example of reference §1.9 byte for byte (four checksum sections)', () => {
    const sections = sectionsFor(DEFAULT_CHECKSUM_ALGORITHMS, { 'x86_64/os/repodata/repomd.xml': '<repomd/>\n' });
    expect(formatTimelist(WORKED_EXAMPLE_ENTRIES, sections)).toBe(
      `${WORKED_EXAMPLE_FILES}${WORKED_EXAMPLE_SHA1}${WORKED_EXAMPLE_OTHER_SUMS}\n[End]\n`,
    );
  });

  it('writes only the SHA1 section in upstream quick-fedora-mirror mode', () => {
    const sections = sectionsFor(SHA1_ONLY, { 'x86_64/os/repodata/repomd.xml': '<repomd/>\n' });
    expect(formatTimelist(WORKED_EXAMPLE_ENTRIES, sections)).toBe(`${WORKED_EXAMPLE_FILES}${WORKED_EXAMPLE_SHA1}\n[End]\n`);
  });

  it('writes every section header even when there is nothing to checksum', () => {
    const text = formatTimelist([], sectionsFor(DEFAULT_CHECKSUM_ALGORITHMS, {}));
    expect(text).toBe(
      '[Version]\n2\n\n[Files]\n\n[Checksums SHA1]\n\n[Checksums MD5]\n\n[Checksums SHA256]\n\n[Checksums SHA512]\n\n[End]\n',
    );
  });
});

describe('timelistTimestamp', () => {
  it('takes the newer of mtime and ctime, truncated to whole seconds', () => {
    expect(timelistTimestamp(1000n * S + 900_000_000n, 999n * S)).toBe(1000);
    expect(timelistTimestamp(999n * S, 1000n * S + 999_000_000n)).toBe(1000);
  });

  it('rounds an instant within ~120 ns of the next second up, as Python float stat times do', () => {
    const sec = 1717200000n;
    expect(timelistTimestamp(sec * S + 999_999_999n, 0n)).toBe(1717200001);
    expect(timelistTimestamp(0n, sec * S + 999_999_999n)).toBe(1717200001);
    expect(timelistTimestamp(sec * S + 999_999_800n, 0n)).toBe(1717200000);
  });

  it('gives the same answer from separate seconds and nanoseconds (the raw lstat path)', () => {
    const cases: [bigint, bigint][] = [
      [1717200000n * S + 999_999_999n, 0n],
      [0n, 1717200000n * S + 999_999_999n],
      [1717200000n * S + 999_999_800n, 1717199999n * S],
      [1000n * S + 900_000_000n, 999n * S],
      [-1_500_000_000n, -3n * S],
    ];
    const parts = (ns: bigint) => {
      let sec = ns / S;
      let nsec = ns % S;
      if (nsec < 0n) {
        sec -= 1n;
        nsec += S;
      }
      return [Number(sec), Number(nsec)] as const;
    };
    for (const [m, c] of cases) {
      expect(timelistTimestampFromParts(...parts(m), ...parts(c))).toBe(timelistTimestamp(m, c));
    }
    // Out-of-range nanoseconds are normalised rather than trusted.
    expect(timelistTimestampFromParts(999, 1_999_999_999, 0, 0)).toBe(timelistTimestamp(999n * S + 1_999_999_999n, 0n));
  });

  it('handles times before the epoch like struct timespec (negative seconds, positive nanoseconds)', () => {
    // -1.5 s is tv_sec = -2, tv_nsec = 5e8 → float -1.5 → int() truncates toward zero.
    expect(timelistTimestamp(-1_500_000_000n, -3n * S)).toBe(-1);
  });
});

describe('timelistTimestampFromMs', () => {
  /** What Node puts in a non-bigint Stats: `sec * 1e3 + nsec / 1e6` as a double. */
  const asMs = (ns: bigint) => Number(ns / S) * 1e3 + Number(ns % S) / 1e6;

  it('agrees with the nanosecond rule whenever it gives an answer, and defers near second boundaries', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let answered = 0;
    for (let i = 0; i < 20000; i++) {
      const nsec = [rand(1_000_000_000), 999_999_000 + rand(1000), rand(1000)][i % 3]!;
      const m = BigInt(1_600_000_000 + rand(200_000_000)) * S + BigInt(nsec);
      const c = i % 2 === 0 ? m - BigInt(rand(3000)) : BigInt(1_600_000_000 + rand(200_000_000)) * S + BigInt(rand(1_000_000_000));
      const fast = timelistTimestampFromMs(asMs(m), asMs(c));
      if (fast !== null) {
        answered++;
        expect(fast, `${m} ${c}`).toBe(timelistTimestamp(m, c));
      }
    }
    expect(answered).toBeGreaterThan(6000);
    expect(timelistTimestampFromMs(asMs(1717200000n * S + 999_999_999n), 0)).toBeNull();
    expect(timelistTimestampFromMs(asMs(1717200000n * S + 999_999_800n), 0)).toBeNull();
    expect(timelistTimestampFromMs(asMs(1717200000n * S + 5n), 0)).toBeNull();
    expect(timelistTimestampFromMs(-1500, -3000)).toBeNull();
  });
});

describe('formatFilesRow', () => {
  it('uses lstat type letters: l for links, d for directories, f for everything else', () => {
    expect(entryTypeLetter(LNK | 0o777)).toBe('l');
    expect(entryTypeLetter(DIR | 0o755)).toBe('d');
    expect(entryTypeLetter(REG | 0o644)).toBe('f');
    expect(entryTypeLetter(0o010000 | 0o644)).toBe('f'); // fifo
  });

  it('marks entries lacking other-read with -, entries below such a directory with *, and - wins', () => {
    expect(accessMarker(0o644, false)).toBe('');
    expect(accessMarker(0o640, false)).toBe('-');
    expect(accessMarker(0o644, true)).toBe('*');
    expect(accessMarker(0o640, true)).toBe('-');
  });

  it('formats sizes beyond 2^53 from bigint stats exactly', () => {
    const row = formatFilesRow({
      path: 'big.iso',
      stat: { mode: BigInt(REG | 0o644), size: 2n ** 60n + 1n, mtimeNs: MTIME, ctimeNs: CTIME },
      inRestricted: false,
    });
    expect(row).toBe('1717200000\tf\t1152921504606846977\tbig.iso\n');
  });
});

describe('formatChecksumSections', () => {
  it('sorts rows by the UTF-8 bytes of the path, not by UTF-16 code units', () => {
    // U+FFFD is EF BF BD in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16 the emoji (D83D…) sorts first.
    const text = formatChecksumSections([
      {
        algorithm: 'SHA1',
        rows: [
          { path: 'a/\u{1F600}', digest: '2' },
          { path: 'a/\uFFFD', digest: '1' },
          { path: 'B', digest: '0' },
        ],
      },
    ]);
    expect(text).toBe('\n[Checksums SHA1]\n0\tB\n1\ta/\uFFFD\n2\ta/\u{1F600}\n');
  });
});
