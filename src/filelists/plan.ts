// The parallel walk's plan: the main thread expands the top of the tree breadth-first (the same TreeWalker,
// told not to descend) until there are enough directory subtrees, the work units. What it walked itself is
// kept as text with a marker where each unit's output goes. A unit's rows and lines are contiguous in both
// lists (the timelist is post-order, the plain list pre-order, and the unit directory's own row and line are
// the planner's), so writing the text and the units' files in marker order gives the single-threaded bytes.
import type { TextSink } from './sink.js';
import { TreeWalker, type StartFrame, type UnitResult } from './walker.js';

export interface Unit {
  /** Position among the units, in output order (set once planning is done). */
  index: number;
  /** Null for the marker of a planner failure, which sits where the walk met it. */
  start: StartFrame | null;
  /** Set when the planner walked this directory itself: its text and the units below it. */
  expansion: Expansion | null;
  state: 'queued' | 'running' | 'done' | 'failed';
  error: unknown;
  result: UnitResult | null;
  /** Rows already counted for progress. */
  reported: number;
  /** Size of its scratch files once walked: counted against the scratch budget until written out. */
  bytes: number;
  tlFile: string;
  flFile: string | null;
}

/** Planner output: text, with a marker where each unit's output goes. */
export type Segment = string | Unit;

export interface Expansion {
  tl: Segment[];
  fl: Segment[];
  /** Warning messages and unit markers, so warnings come out in walk order too. */
  warn: Segment[];
}

/** Counts and checksum paths of what the planner walked itself. */
export interface PlannedTotals {
  entries: number;
  filelistEntries: number;
  warnings: number;
  checksumPaths: string[];
}

export interface PlanOptions {
  root: string;
  /** Whether a plain list is written (else the `fl` segments stay empty). */
  filelist: boolean;
  skipTopLevel: (name: string) => boolean;
  checksumNames: ReadonlySet<string>;
  rawLstat: boolean;
  /** See TreeWalkerOptions.fromRoot. */
  fromRoot?: boolean;
  /** Work units to aim for. */
  units: number;
}

class SegmentSink implements TextSink {
  readonly segments: Segment[] = [];
  write(text: string): void {
    const last = this.segments.length - 1;
    if (last >= 0 && typeof this.segments[last] === 'string') this.segments[last] += text;
    else this.segments.push(text);
  }
  flush(): void {}
  mark(unit: Unit): void {
    this.segments.push(unit);
  }
}

function newUnit(start: StartFrame | null): Unit {
  return { index: -1, start, expansion: null, state: 'queued', error: null, result: null, reported: 0, bytes: 0, tlFile: '', flFile: null };
}

/** Segments of one list in output order, expansions opened up: strings and the units workers walk. */
export function* flatten(segments: Segment[], pick: (e: Expansion) => Segment[]): Generator<Segment, void, undefined> {
  for (const s of segments) {
    if (typeof s !== 'string' && s.expansion !== null) yield* flatten(pick(s.expansion), pick);
    else yield s;
  }
}

/**
 * Expands directories breadth-first from the root until there are `units` unexpanded subtrees (or none
 * left). Returns the root, expanded. A walk error stops the planning and is recorded as a failed marker
 * where it occurred; units after it are never walked.
 */
export function planUnits(o: PlanOptions, totals: PlannedTotals): Unit {
  const root = newUnit({ abs: o.root, rel: '', listed: true, restricted: false });
  const queue = [root];
  let leaves = 1;
  // The root is always expanded: the top-level skip names apply only there.
  for (let head = 0; head < queue.length && (head === 0 || leaves < o.units); head++) {
    const children = expand(o, queue[head]!, totals);
    if (children === null) break;
    leaves += children.length - 1;
    for (const c of children) queue.push(c);
  }
  return root;
}

/** The units of a plan in output order (failure markers included), numbered. */
export function unitsInOrder(root: Unit): Unit[] {
  const units: Unit[] = [];
  for (const s of flatten(root.expansion!.warn, (e) => e.warn)) {
    if (typeof s === 'string') continue;
    s.index = units.length;
    units.push(s);
  }
  return units;
}

/** Walks one directory's own entries into segments; its subdirectories become units. Null after an error. */
function expand(o: PlanOptions, unit: Unit, totals: PlannedTotals): Unit[] | null {
  const tl = new SegmentSink();
  const fl = o.filelist ? new SegmentSink() : null;
  const warn: Segment[] = [];
  unit.expansion = { tl: tl.segments, fl: fl?.segments ?? [], warn };
  const children: Unit[] = [];
  let walker: TreeWalker | null = null;
  try {
    walker = new TreeWalker(o.root, tl, fl, {
      skipTopLevel: o.skipTopLevel,
      checksumNames: o.checksumNames,
      warn: (m) => warn.push(m),
      chdir: false,
      rawLstat: o.rawLstat,
      fromRoot: o.fromRoot ?? false,
      start: unit.start!,
      cut: (dir, row) => {
        const child = newUnit(dir);
        children.push(child);
        // Post-order: the directory's row after its contents; pre-order: its line (already written) before.
        tl.mark(child);
        if (row !== null) tl.write(row);
        fl?.mark(child);
        warn.push(child);
      },
    });
    while (!walker.done) walker.runSlice(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  } catch (err) {
    const failed = newUnit(null);
    failed.error = err;
    tl.mark(failed);
    fl?.mark(failed);
    warn.push(failed);
    return null;
  } finally {
    if (walker !== null) {
      totals.entries += walker.entries;
      totals.filelistEntries += walker.filelistEntries;
      totals.warnings += walker.warnings;
      for (const p of walker.checksumPaths) totals.checksumPaths.push(p);
    }
  }
  return children;
}
