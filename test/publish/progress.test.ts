import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProgress2, parseProgress2Record, parseRsyncStats, Progress2Tracker } from '../../src/publish/progress.js';
import { stagingSyncArgs } from '../../src/publish/rsync-args.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

const CAPTURED =
  '\r         32,768   2%    0.00kB/s    0:00:00  \r        300,000  20% 1019.41kB/s    0:00:00 (xfr#1, to-chk=4/6)' +
  '\r        600,000  40%    1.05MB/s    0:00:00 (xfr#2, to-chk=3/6)\r      1,063,840  70% 1000.90kB/s    0:00:00  ' +
  '\r      1,500,000 100%    1.03MB/s    0:00:01 (xfr#5, to-chk=0/6)\n';

describe('parseProgress2Record', () => {
  it('reads bytes, percent, rate, files transferred and the fixed total', () => {
    expect(parseProgress2Record('     20,971,520  33%    1.08GB/s    0:00:00 (xfr#1, to-chk=2/4)')).toEqual({
      bytes: 20971520,
      percent: 33,
      rate: '1.08GB/s',
      filesTransferred: 1,
      toCheck: 2,
      total: 4,
      incremental: false,
    });
  });

  it('reads ir-chk (incremental recursion: the total still grows)', () => {
    expect(parseProgress2Record('              0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/1020)')).toMatchObject({
      filesTransferred: 0,
      toCheck: 1000,
      total: 1020,
      incremental: true,
    });
  });

  it('reads a mid-file record without counters as nulls', () => {
    expect(parseProgress2Record('      1,063,840  70% 1000.90kB/s    0:00:00  ')).toMatchObject({ bytes: 1063840, percent: 70, filesTransferred: null, total: null });
  });

  it('rejects other lines', () => {
    for (const l of ['', 'Number of files: 6', 'sent 1,500,698 bytes  received 114 bytes  600,324.80 bytes/sec', '>f+++++++++ 4 a'])
      expect(parseProgress2Record(l)).toBeNull();
  });
});

describe('parseProgress2 / Progress2Tracker', () => {
  it('splits \\r-separated records', () => {
    expect(parseProgress2(CAPTURED).map((p) => p.percent)).toEqual([2, 20, 40, 70, 100]);
  });

  it('carries xfr and to-chk forward through mid-file records, across chunk boundaries', () => {
    const t = new Progress2Tracker();
    const seen = [];
    // Feed in awkward 7-character chunks.
    for (let i = 0; i < CAPTURED.length; i += 7) seen.push(...t.push(CAPTURED.slice(i, i + 7)));
    seen.push(...t.end());
    expect(seen.map((p) => [p.percent, p.filesTransferred, p.toCheck])).toEqual([
      [2, null, null],
      [20, 1, 4],
      [40, 2, 3],
      [70, 2, 3],
      [100, 5, 0],
    ]);
    expect(t.latest).toMatchObject({ bytes: 1500000, total: 6 });
  });

  it('keeps non-progress text (the --stats block) for later parsing', () => {
    const t = new Progress2Tracker();
    t.push(CAPTURED + '\nNumber of files: 6 (reg: 5, dir: 1)\nNumber of regular files transferred: 5\nTotal transferred file size: 1,500,000 bytes\n');
    expect(parseRsyncStats(t.otherText)).toEqual({ files: 6, regularFilesTransferred: 5, transferredBytes: 1500000, deletedFiles: null });
  });
});

describe('progress2 and --stats of a real rsync run', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempDir('progress');
    await writeTree(`${root}/src`, Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.rpm`, randomBytes(200_000)])));
  });
  afterAll(() => removeDir(root));

  it('ends at 100% with every file transferred and a fixed total', async () => {
    const { stdout } = await execa('rsync', stagingSyncArgs({ source: `${root}/src`, target: `${root}/dst`, maxDelete: 0, bwlimitKiB: 2000 }), { env: { LC_ALL: 'C' } });
    const t = new Progress2Tracker();
    const records = [...t.push(stdout), ...t.end()];
    expect(records.length).toBeGreaterThan(1);
    expect(t.latest).toMatchObject({ bytes: 1_000_000, percent: 100, filesTransferred: 5, toCheck: 0, total: 6, incremental: false });
    expect(parseRsyncStats(t.otherText)).toMatchObject({ regularFilesTransferred: 5, transferredBytes: 1_000_000, deletedFiles: 0 });
  });
});
