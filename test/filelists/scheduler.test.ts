// The parallel walk's scheduler without threads: a real plan of a small tree, units "walked" by the test
// (scratch files written by hand), and what the scheduler hands out and writes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planUnits, unitsInOrder, type PlannedTotals, type Unit } from '../../src/filelists/plan.js';
import { UnitScheduler, type SchedulerOptions } from '../../src/filelists/scheduler.js';
import { StringSink } from '../../src/filelists/sink.js';
import { tempDir } from './fixture.js';

let root: string;
let scratch: string;

beforeEach(() => {
  root = tempDir();
  scratch = tempDir('filelists-scratch-');
  // Asked for 5 units, the planner expands the root, then a and b: units a/x, b/also, b/deep, c, d.
  for (const dir of ['a/x', 'b/deep', 'b/also', 'c/x', 'd/x']) fs.mkdirSync(path.join(root, dir), { recursive: true });
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

function setUp(unitsWanted: number, extra: Partial<SchedulerOptions> = {}) {
  const totals: PlannedTotals = { entries: 0, filelistEntries: 0, warnings: 0, checksumPaths: [] };
  const plan = planUnits({ root, filelist: true, skipTopLevel: () => false, checksumNames: new Set(), rawLstat: true, units: unitsWanted }, totals);
  const units = unitsInOrder(plan);
  for (const u of units) {
    u.tlFile = path.join(scratch, `${u.index}.tl`);
    u.flFile = path.join(scratch, `${u.index}.fl`);
  }
  const tl = new StringSink();
  const fl = new StringSink();
  const warnings: string[] = [];
  const scheduler = new UnitScheduler(plan, units, totals.entries, {
    tl,
    fl,
    warn: (m) => warnings.push(m),
    begin: () => tl.write('HEADER\n'),
    scratchLimitBytes: 1 << 20,
    progressEvery: 1000,
    ...extra,
  });
  /** What a walker would do: write the unit's files and report it finished. */
  const walk = (u: Unit, text = `<${u.start!.rel}>`) => {
    fs.writeFileSync(u.tlFile, `${text}\n`);
    fs.writeFileSync(u.flFile!, `${text}\n`);
    scheduler.finished(u, { entries: 1, filelistEntries: 1, warnings: [`warned in ${u.start!.rel}`], checksumPaths: [] }, 2 * (text.length + 1));
  };
  return { scheduler, units, tl, fl, warnings, walk };
}

const rels = (units: (Unit | null)[]) => units.map((u) => u?.start?.rel ?? null);
/** Unit text as written by `walk`, timelist rows by their path. */
const items = (text: string) => text.trimEnd().split('\n').map((line) => line.split('\t')[3] ?? line);

describe('UnitScheduler', () => {
  it('hands out the shallowest units first, ties in output order, each once', () => {
    const { scheduler } = setUp(5);
    const taken: (Unit | null)[] = [];
    for (let u = scheduler.take(); u !== null; u = scheduler.take()) taken.push(u);
    expect(rels(taken)).toEqual(['c/', 'd/', 'a/x/', 'b/also/', 'b/deep/']);
    expect(taken.every((u) => u!.state === 'running')).toBe(true);
  });

  it('writes the plan text and the units in output order, whatever order they finish in', () => {
    const { scheduler, units, tl, fl, warnings, walk } = setUp(5);
    while (scheduler.take() !== null);
    for (const u of [...units].reverse()) {
      expect(scheduler.pump().kind).toBe('waiting');
      walk(u);
    }
    expect(scheduler.pump().kind).toBe('done');
    // Directory rows after their contents (post-order), plain-list lines before (pre-order), names in byte order.
    expect(items(tl.text)).toEqual(['HEADER', '<a/x/>', 'a/x', 'a', '<b/also/>', 'b/also', '<b/deep/>', 'b/deep', 'b', '<c/>', 'c', '<d/>', 'd']);
    expect(items(fl.text)).toEqual(['./a', './a/x', '<a/x/>', './b', './b/also', '<b/also/>', './b/deep', '<b/deep/>', './c', '<c/>', './d', '<d/>']);
    expect(warnings).toEqual(['warned in a/x/', 'warned in b/also/', 'warned in b/deep/', 'warned in c/', 'warned in d/']);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('starts only the unit the output waits for once finished units fill the scratch budget', () => {
    const { scheduler, units, walk } = setUp(5, { scratchLimitBytes: 10 });
    const [ax, bAlso, bDeep, c, d] = units;
    expect(rels([ax!, bAlso!, bDeep!, c!, d!])).toEqual(['a/x/', 'b/also/', 'b/deep/', 'c/', 'd/']);
    expect(scheduler.take()).toBe(c);
    expect(scheduler.take()).toBe(d);
    walk(d!, 'a long enough text to fill the budget');
    expect(scheduler.pump().kind).toBe('waiting');
    // Budget full: only the unit the output waits for (a/x) may start, out of turn, and then nothing.
    expect(scheduler.take()).toBe(ax);
    expect(scheduler.take()).toBeNull();
    walk(ax!);
    scheduler.pump();
    // a/x is out, d still waits in scratch: the budget is still full, so only the new head starts.
    expect(scheduler.take()).toBe(bAlso);
    expect(scheduler.take()).toBeNull();
  });

  it('walks nothing past the first failure, and reports it once everything before it is out', () => {
    const { scheduler, units, walk } = setUp(5);
    const [ax, bAlso, bDeep, c] = units;
    expect(scheduler.take()).toBe(c);
    scheduler.failed(c!, new Error('bad name in c'));
    // d lies after the failure and is never handed out; the units before it still are.
    const rest: (Unit | null)[] = [];
    for (let u = scheduler.take(); u !== null; u = scheduler.take()) rest.push(u);
    expect(rest).toEqual([ax, bAlso, bDeep]);
    walk(ax!);
    walk(bDeep!);
    expect(scheduler.pump().kind).toBe('waiting');
    walk(bAlso!);
    const outcome = scheduler.pump();
    expect(outcome).toMatchObject({ kind: 'failed' });
    expect((outcome as { error: Error }).error.message).toBe('bad name in c');
  });

  it('hands a dead walker\'s unit out again before any other', () => {
    const { scheduler } = setUp(5);
    const first = scheduler.take()!;
    scheduler.requeue(first);
    expect(first.state).toBe('queued');
    expect(scheduler.hasOrphans).toBe(true);
    expect(scheduler.take()).toBe(first);
    expect(rels([scheduler.take()])).toEqual(['d/']);
  });

  it('sums progress over units, counting each unit\'s rows once however often it reports', () => {
    const seen: number[] = [];
    const { scheduler, units } = setUp(5, { progressEvery: 2, onProgress: (n) => seen.push(n) });
    const planned = seen.at(-1) ?? 0;
    scheduler.progressed(units[0]!, 1);
    scheduler.progressed(units[0]!, 3);
    scheduler.progressed(units[1]!, 2);
    expect(seen.at(-1)).toBe(planned + 5);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});
