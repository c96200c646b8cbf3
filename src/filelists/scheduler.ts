// The bookkeeping of the parallel walk, without threads: which unit is walked next (shallowest first, a dead
// worker's unit before all, nothing past the first failure, nothing new while finished units fill the scratch
// budget), progress summed over units, and the output cursor that writes the plan's text and the walked
// units' scratch files in output order. parallel.ts runs the threads that this tells what to do.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { flatten, type Expansion, type PlannedTotals, type Segment, type Unit } from './plan.js';
import type { TextSink } from './sink.js';
import type { UnitResult } from './walker.js';

export interface SchedulerOptions {
  tl: TextSink;
  fl: TextSink | null;
  warn: (message: string) => void;
  /** Writes the lists' headers; called once, just before the first output. */
  begin: () => void;
  /** Bytes walked units may hold in scratch files while they wait for an earlier unit. */
  scratchLimitBytes: number;
  progressEvery: number;
  onProgress?: ((entries: number) => void) | undefined;
}

/** What writing out has reached: everything, a failed unit (whose error ends the walk), or a unit not walked yet. */
export type PumpOutcome = { kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'waiting' };

/** Writes one list's segments as far as the units are done. */
class OutputCursor {
  private readonly it: Generator<Segment, void, undefined>;
  private cur: IteratorResult<Segment, void>;

  constructor(
    segments: Segment[],
    pick: (e: Expansion) => Segment[],
    private readonly text: (s: string) => void,
    private readonly unit: (u: Unit) => void,
  ) {
    this.it = flatten(segments, pick);
    this.cur = this.it.next();
  }

  /** Emits up to the first unit not done yet and returns it; null once everything is out. */
  advance(): Unit | null {
    for (; !this.cur.done; this.cur = this.it.next()) {
      const s = this.cur.value;
      if (typeof s === 'string') this.text(s);
      else if (s.state === 'done') this.unit(s);
      else return s;
    }
    return null;
  }
}

const depthOf = (u: Unit) => u.start!.rel.split('/').length;

export class UnitScheduler {
  /** Walk order: shallowest first (ties in output order), since a unit the planner left nearer the root is likely bigger. */
  private readonly order: Unit[];
  private next = 0;
  /** Units whose worker died while walking them: walked again before any other. */
  private readonly orphans: Unit[] = [];
  /** Units from this index on are never walked: the first failure in output order ends the walk there. */
  private limit: number;
  /** Bytes of walked units waiting in scratch files for an earlier unit. */
  private waiting = 0;
  /** The first unit in output order not written out yet: what the output waits for. */
  private head: Unit | null = null;
  private begun = false;
  private progress: number;
  private nextProgress: number;
  private readonly cursors: OutputCursor[];

  constructor(
    root: Unit,
    readonly units: readonly Unit[],
    plannedEntries: number,
    private readonly o: SchedulerOptions,
  ) {
    this.order = units.filter((u) => u.start !== null).sort((a, b) => depthOf(a) - depthOf(b) || a.index - b.index);
    const firstFailure = units.findIndex((u) => u.start === null);
    this.limit = firstFailure < 0 ? units.length : firstFailure;
    for (const u of units) if (u.start === null) u.state = 'failed';
    this.progress = plannedEntries;
    this.nextProgress = o.progressEvery;
    const tl = new OutputCursor(root.expansion!.tl, (e) => e.tl, (s) => o.tl.write(s), (u) => this.writeUnit(o.tl, u.tlFile, u));
    const fl = o.fl;
    // The warnings cursor goes last: it is the one whose position says whether everything is out.
    const warn = new OutputCursor(root.expansion!.warn, (e) => e.warn, o.warn, (u) => u.result!.warnings.forEach((m) => o.warn(m)));
    this.cursors = fl === null ? [tl, warn] : [tl, new OutputCursor(root.expansion!.fl, (e) => e.fl, (s) => fl.write(s), (u) => this.writeUnit(fl, u.flFile!, null)), warn];
    this.report(); // the planner's own rows
  }

  /** Whether any unit is to be walked at all (else pump settles at once). */
  get hasWork(): boolean {
    return this.limit > 0;
  }

  get hasOrphans(): boolean {
    return this.orphans.length > 0;
  }

  /**
   * The next unit to walk, marked running; null when none is left before the first failure, or when walked
   * units already fill the scratch budget and the unit the output waits for is taken.
   */
  take(): Unit | null {
    const u = this.pick();
    if (u !== null) u.state = 'running';
    return u;
  }

  private pick(): Unit | null {
    while (this.orphans.length > 0) {
      const u = this.orphans.shift()!;
      if (u.index < this.limit) return u;
    }
    if (this.waiting >= this.o.scratchLimitBytes) {
      const head = this.head;
      return head !== null && head.state === 'queued' && head.index < this.limit ? head : null;
    }
    while (this.next < this.order.length) {
      const u = this.order[this.next++]!;
      // The head may have been taken out of turn while the budget was full.
      if (u.state === 'queued' && u.index < this.limit) return u;
    }
    return null;
  }

  /** A unit whose walker died goes back to the front of the queue (its scratch files are rewritten). */
  requeue(u: Unit): void {
    if (u.state !== 'running') return;
    u.state = 'queued';
    this.orphans.push(u);
  }

  /** Rows a unit has written so far. */
  progressed(u: Unit, entries: number): void {
    this.progress += entries - u.reported;
    u.reported = entries;
    this.report();
  }

  finished(u: Unit, result: UnitResult, scratchBytes: number): void {
    u.result = result;
    u.state = 'done';
    u.bytes = scratchBytes;
    this.waiting += scratchBytes;
    this.progressed(u, result.entries);
  }

  failed(u: Unit, err: unknown): void {
    u.state = 'failed';
    u.error = err;
    this.limit = Math.min(this.limit, u.index);
  }

  /** Writes out everything that is ready, in order. */
  pump(): PumpOutcome {
    if (!this.begun) {
      this.begun = true;
      this.o.begin();
    }
    let blocked: Unit | null = null;
    for (const [i, cursor] of this.cursors.entries()) {
      const at = cursor.advance();
      if (i === 0) this.head = at;
      blocked = at;
    }
    if (blocked === null) return { kind: 'done' };
    return blocked.state === 'failed' ? { kind: 'failed', error: blocked.error } : { kind: 'waiting' };
  }

  /** The walked units' counts added to the planner's. */
  addTotals(totals: PlannedTotals): void {
    for (const u of this.units) {
      totals.entries += u.result?.entries ?? 0;
      totals.filelistEntries += u.result?.filelistEntries ?? 0;
      totals.warnings += u.result?.warnings.length ?? 0;
      for (const p of u.result?.checksumPaths ?? []) totals.checksumPaths.push(p);
    }
  }

  private report(): void {
    const every = this.o.progressEvery;
    if (this.progress < this.nextProgress) return;
    this.nextProgress = this.progress - (this.progress % every) + every;
    this.o.onProgress?.(this.progress);
  }

  /** Appends a unit's scratch file and removes it; the timelist's (`budgeted` set) frees the unit's budget. */
  private writeUnit(sink: TextSink, file: string, budgeted: Unit | null): void {
    appendFile(sink, file);
    fs.rmSync(file, { force: true });
    if (budgeted !== null) this.waiting -= budgeted.bytes;
  }
}

/** Appends a unit file to a sink, through its appendFile when it has one. */
function appendFile(sink: TextSink, file: string): void {
  if (sink.appendFile) {
    sink.appendFile(file);
    return;
  }
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const decoder = new StringDecoder('utf8'); // a chunk may end inside a character
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) sink.write(decoder.write(buf.subarray(0, n)));
    sink.write(decoder.end());
  } finally {
    fs.closeSync(fd);
  }
}
