// The walk split across worker threads. The main thread expands the top of the tree breadth-first (the same
// TreeWalker, told not to descend) until there are enough directory subtrees, the work units; workers walk
// units in order, each into a pair of scratch files. A unit's rows and lines are contiguous in both lists
// (the timelist is post-order, the plain list pre-order, and the unit directory's own row and line are the
// planner's), so the main thread appends unit files in unit order between the planner's own text and gets
// the single-threaded bytes. Memory holds the planned top of the tree, not the units' output.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BadFileNameError, type BadNameReason } from './names.js';
import { FdSink, type TextSink } from './sink.js';
import { TreeWalker, unitWalker, type StartFrame, type UnitResult } from './walker.js';

export interface ParallelWalkOptions {
  root: string;
  tl: TextSink;
  fl: TextSink | null;
  /** Writes the lists' headers; called once, just before the first output, and only when workers run. */
  begin: () => void;
  skipTopLevel: (name: string) => boolean;
  checksumNames: ReadonlySet<string>;
  warn: (message: string) => void;
  rawLstat: boolean;
  threads: number;
  /** Work units to aim for. */
  units: number;
  /** Parent of the scratch directory. */
  tempDir: string;
  progressEvery: number;
  onProgress?: ((entries: number) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Told when a worker died while walking a unit (which this thread then walks again); for tests and logs. */
  onWorkerLost?: ((unit: number, why: string) => void) | undefined;
  /** Whether this thread walks units too while workers start (default true). */
  mainThreadWalks?: boolean | undefined;
  /**
   * Bytes that finished units may hold in scratch files while they wait for an earlier unit (the scratch dir
   * may be a tmpfs, i.e. memory). Past it, only the unit the output waits for is started. Default 256 MiB.
   */
  scratchLimitBytes?: number | undefined;
  /** Heap cap of each worker (MiB); the default keeps the process's memory flat however large the tree. */
  workerHeapMb?: number | undefined;
}

export interface ParallelWalkResult {
  entries: number;
  filelistEntries: number;
  warnings: number;
  checksumPaths: string[];
  units: number;
}

/** Posted once per worker with its fixed settings. */
export interface WalkWorkerData {
  /** Worker module (URL, or path when `loader` is set), and tsx's require-hook API to register first for TypeScript. */
  entry: string;
  loader: string | null;
  root: string;
  checksumNames: string[];
  rawLstat: boolean;
  progressEvery: number;
}

/** One work unit, main → worker. */
export interface UnitJob {
  unit: number;
  start: StartFrame;
  tlFile: string;
  flFile: string | null;
}

export type SerializedError =
  | { kind: 'bad-name'; path: string; reason: BadNameReason; root: string }
  | { kind: 'error'; message: string };

/** Worker → main. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'progress'; unit: number; entries: number }
  | { type: 'done'; unit: number; result: UnitResult }
  | { type: 'failed'; unit: number; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof BadFileNameError) return { kind: 'bad-name', path: err.path, reason: err.reason, root: err.root };
  return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
}

/** The walker's errors carry operator-facing messages; rebuilt with the same class and message. */
function deserializeError(err: SerializedError): Error {
  return err.kind === 'bad-name' ? new BadFileNameError(err.path, err.reason, err.root) : new Error(err.message);
}

interface Unit {
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
type Segment = string | Unit;

interface Expansion {
  tl: Segment[];
  fl: Segment[];
  /** Warning messages and unit markers, so warnings come out in walk order too. */
  warn: Segment[];
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

const depthOf = (u: Unit) => u.start!.rel.split('/').length;

function newUnit(start: StartFrame | null): Unit {
  return { index: -1, start, expansion: null, state: 'queued', error: null, result: null, reported: 0, bytes: 0, tlFile: '', flFile: null };
}

/** Segments of one list in output order, expansions opened up: strings and the units workers walk. */
function* flatten(segments: Segment[], pick: (e: Expansion) => Segment[]): Generator<Segment, void, undefined> {
  for (const s of segments) {
    if (typeof s !== 'string' && s.expansion !== null) yield* flatten(pick(s.expansion), pick);
    else yield s;
  }
}

/** Writes one list's segments as far as the units are done. */
class Cursor {
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

/**
 * Plain-JS bootstrap: on Node 20 a worker gets no module hooks from its parent. Under tsx (the CLI, the
 * Temporal worker, vitest) it registers tsx's require hook, which loads the TypeScript modules in this
 * thread: a tenth of the start-up CPU of tsx's ESM loader, which runs an extra hooks thread per worker.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
const fatal = (err) => parentPort.postMessage({ type: 'fatal', message: String((err && err.stack) || err) });
try {
  if (workerData.loader === null) import(workerData.entry).catch(fatal);
  else {
    require(workerData.loader).register();
    require(workerData.entry);
  }
} catch (err) {
  fatal(err);
}
`;

/** The worker module (a URL to import, or a path to require after the loader), or null when it cannot be loaded. */
function workerModule(): { entry: string; loader: string | null } | null {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { entry: new URL('./walk-worker.js', self).href, loader: null };
  try {
    return { entry: fileURLToPath(new URL('./walk-worker.ts', self)), loader: createRequire(self).resolve('tsx/cjs/api') };
  } catch {
    return null; // tsx not installed: the caller walks single-threaded
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

/**
 * V8 heap limits of a walker thread. Left alone, each worker's heap grows lazily with the rows it produced
 * (≈45 MB more per worker from 100k to 1M entries); a cap makes V8 collect early. A unit whose directory
 * listing does not fit kills the worker, and the unit is walked again by the main thread.
 */
const DEFAULT_WORKER_HEAP_MB = 48;
/**
 * Scratch bytes that walked-but-waiting units may hold (see ParallelWalkOptions.scratchLimitBytes). Units are
 * uneven (one can hold a fifth of the tree), and a tight budget leaves a thread idle behind a big unit: on the
 * 1M-entry bench tree the peak is ~80 MB, and a 16 or 64 MiB budget cost most of the second thread's gain.
 * 256 MiB leaves trees of that size alone and bounds what a far larger tree can put on a tmpfs /tmp.
 */
const DEFAULT_SCRATCH_LIMIT = 256 * 2 ** 20;
function workerLimits(heapMb = DEFAULT_WORKER_HEAP_MB): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.max(2, Math.min(8, Math.floor(heapMb / 4))) };
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  unit: Unit | null;
}

/**
 * Walks the tree with `threads` workers. Resolves with the counts once both lists are written (headers
 * included, checksums not), or with null, having done nothing, when there is no worker module to start.
 * Rejects with the first error in walk order (the one the single-threaded walk would have thrown).
 */
export async function walkInParallel(o: ParallelWalkOptions): Promise<ParallelWalkResult | null> {
  const module = workerModule();
  if (module === null) return null;
  o.signal?.throwIfAborted();
  const scratch = fs.mkdtempSync(path.join(o.tempDir, 'sigrelease-filelists-'));
  const slots: Slot[] = [];
  const cleanups: (() => void)[] = [];
  try {
    // Started before planning, so their start-up (loading tsx and the walker) overlaps it.
    const data: WalkWorkerData = {
      ...module,
      root: o.root,
      checksumNames: [...o.checksumNames],
      rawLstat: o.rawLstat,
      progressEvery: Math.min(o.progressEvery, 5000),
    };
    for (let i = 0; i < o.threads; i++) {
      slots.push({ worker: new Worker(BOOTSTRAP, { eval: true, workerData: data, resourceLimits: workerLimits(o.workerHeapMb) }), ready: false, dead: false, unit: null });
    }

    const totals: ParallelWalkResult = { entries: 0, filelistEntries: 0, warnings: 0, checksumPaths: [], units: 0 };
    const root = plan(o, totals);
    const units: Unit[] = [];
    for (const s of flatten(root.expansion!.warn, (e) => e.warn)) {
      if (typeof s === 'string') continue;
      s.index = units.length;
      s.tlFile = path.join(scratch, `${s.index}.tl`);
      s.flFile = o.fl === null ? null : path.join(scratch, `${s.index}.fl`);
      units.push(s);
    }
    totals.units = units.filter((u) => u.start !== null).length;

    return await new Promise<ParallelWalkResult | null>((resolvePromise, rejectPromise) => {
      // Once settled (done, failed, aborted), messages still in flight are ignored.
      let settled = false;
      const resolve = (r: ParallelWalkResult | null) => {
        settled = true;
        resolvePromise(r);
      };
      const reject = (err: unknown) => {
        settled = true;
        rejectPromise(err);
      };
      let begun = false;
      // Walked shallowest first (ties in output order): a unit the planner left nearer the root is likely
      // bigger, and a big unit started last would leave the other threads idle at the end. Output still
      // goes out in unit order; finished units wait in their scratch files.
      const order = units.filter((u) => u.start !== null).sort((a, b) => depthOf(a) - depthOf(b) || a.index - b.index);
      let next = 0;
      /** Units whose worker died while walking them (e.g. its heap cap was too small): walked again here. */
      const orphans: Unit[] = [];
      /** Bytes of walked units waiting in scratch files for an earlier unit. */
      let waiting = 0;
      const scratchLimit = o.scratchLimitBytes ?? DEFAULT_SCRATCH_LIMIT;
      /** The first unit in output order not written out yet: what the output waits for. */
      let head: Unit | null = null;
      /**
       * The next unit to walk, or null when none is left before the first failure, or when finished units
       * already fill the scratch budget and the unit the output waits for is taken.
       */
      const take = (): Unit | null => {
        while (orphans.length > 0) {
          const u = orphans.shift()!;
          if (u.index < limit) return u;
        }
        if (waiting >= scratchLimit) return head !== null && head.state === 'queued' && head.index < limit ? head : null;
        while (next < order.length) {
          const u = order[next++]!;
          // The head may have been taken out of turn while the budget was full.
          if (u.state === 'queued' && u.index < limit) return u;
        }
        return null;
      };
      // Units from here on are never walked: the first failure in output order ends the walk there.
      let limit = units.findIndex((u) => u.start === null);
      if (limit < 0) limit = units.length;
      for (const u of units) if (u.start === null) u.state = 'failed';

      let progress = totals.entries;
      let nextProgress = o.progressEvery;
      const report = () => {
        if (progress < nextProgress) return;
        nextProgress = progress - (progress % o.progressEvery) + o.progressEvery;
        o.onProgress?.(progress);
      };
      const counted = (u: Unit, entries: number) => {
        progress += entries - u.reported;
        u.reported = entries;
        report();
      };

      const tlCursor = new Cursor(
        root.expansion!.tl,
        (e) => e.tl,
        (s) => o.tl.write(s),
        (u) => {
          appendFile(o.tl, u.tlFile);
          fs.rmSync(u.tlFile, { force: true });
          waiting -= u.bytes;
        },
      );
      const flCursor =
        o.fl === null
          ? null
          : new Cursor(
              root.expansion!.fl,
              (e) => e.fl,
              (s) => o.fl!.write(s),
              (u) => {
                appendFile(o.fl!, u.flFile!);
                fs.rmSync(u.flFile!, { force: true });
              },
            );
      const warnCursor = new Cursor(
        root.expansion!.warn,
        (e) => e.warn,
        (m) => o.warn(m),
        (u) => u.result!.warnings.forEach((m) => o.warn(m)),
      );

      /** Writes out everything that is ready, in order; settles once all is out or the next unit failed. */
      const pump = () => {
        if (!begun) {
          begun = true;
          o.begin();
        }
        head = tlCursor.advance();
        flCursor?.advance();
        const blocked = warnCursor.advance();
        if (blocked === null) {
          for (const u of units) {
            totals.entries += u.result?.entries ?? 0;
            totals.filelistEntries += u.result?.filelistEntries ?? 0;
            totals.warnings += u.result?.warnings.length ?? 0;
            for (const p of u.result?.checksumPaths ?? []) totals.checksumPaths.push(p);
          }
          resolve(totals);
        } else if (blocked.state === 'failed') {
          reject(blocked.error);
        }
      };

      /** A unit walked (by a worker or this thread): count it, then write out whatever is now in order. */
      const finished = (u: Unit, result: UnitResult) => {
        u.result = result;
        u.state = 'done';
        u.bytes = fs.statSync(u.tlFile).size + (u.flFile === null ? 0 : fs.statSync(u.flFile).size);
        waiting += u.bytes;
        counted(u, result.entries);
        if (settled) return; // onProgress may have aborted
        pump();
        // Writing out may have freed scratch budget: idle threads can take units again.
        for (const s of slots) if (s.ready && !s.dead && s.unit === null) dispatch(s);
        walkLocally();
      };
      const failed = (u: Unit, err: unknown) => {
        u.state = 'failed';
        u.error = err;
        limit = Math.min(limit, u.index);
        pump();
      };
      const guarded = (fn: () => void) => {
        if (settled) return;
        try {
          fn();
        } catch (err) {
          reject(err);
        }
      };

      const dispatch = (slot: Slot) => {
        const u = take();
        if (u === null) return;
        u.state = 'running';
        slot.unit = u;
        const job: UnitJob = { unit: u.index, start: u.start!, tlFile: u.tlFile, flFile: u.flFile };
        slot.worker.postMessage(job);
      };

      // This thread walks units too while fewer than `threads` workers are up: worker start-up (loading tsx
      // and the walker) takes a while, and if no worker starts at all this alone finishes the walk.
      let localBusy = false;
      const walkLocally = () => {
        const ready = slots.filter((s) => s.ready && !s.dead).length;
        const alive = slots.filter((s) => !s.dead).length;
        // Helping while workers start is optional (tests turn it off so that units surely reach workers);
        // walking a dead worker's unit, or everything once no worker is left, is not.
        const mayWalk = orphans.length > 0 || alive === 0 || (o.mainThreadWalks !== false && ready < o.threads);
        if (localBusy || settled || !mayWalk) return;
        const u = take();
        if (u === null) return;
        localBusy = true;
        u.state = 'running';
        walkUnitInSlices(o, u, () => settled, (entries) => counted(u, entries)).then(
          (result) =>
            guarded(() => {
              localBusy = false;
              if (result === null) return;
              finished(u, result);
              walkLocally();
            }),
          (err: unknown) =>
            guarded(() => {
              localBusy = false;
              failed(u, err);
            }),
        );
      };

      /**
       * A worker died (failed to start, or ran out of its capped heap on a huge directory): the others carry
       * on, and the unit it was walking goes back to the front of the queue, where this thread (no cap) takes
       * it. Its scratch files are rewritten from the start.
       */
      const lost = (slot: Slot, why: unknown) => {
        if (slot.dead) return;
        slot.dead = true;
        const orphan = slot.unit;
        slot.unit = null;
        if (orphan !== null && orphan.state === 'running') {
          orphan.state = 'queued';
          orphans.push(orphan);
          o.onWorkerLost?.(orphan.index, why instanceof Error ? why.message : String(why));
        }
        walkLocally();
      };

      const onMessage = (slot: Slot, msg: WorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            dispatch(slot);
            break;
          case 'fatal':
            lost(slot, msg.message);
            break;
          case 'progress':
            counted(units[msg.unit]!, msg.entries);
            break;
          case 'done':
            slot.unit = null;
            dispatch(slot);
            finished(units[msg.unit]!, msg.result);
            break;
          case 'failed':
            slot.unit = null;
            failed(units[msg.unit]!, deserializeError(msg.error));
            break;
        }
      };

      for (const slot of slots) {
        slot.worker.on('message', (msg: WorkerMessage) => guarded(() => onMessage(slot, msg)));
        slot.worker.on('error', (err) => guarded(() => lost(slot, err)));
        slot.worker.on('exit', (code) => guarded(() => lost(slot, `exit code ${code}`)));
      }
      const onAbort = () => reject(o.signal!.reason);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => o.signal?.removeEventListener('abort', onAbort));
      if (o.signal?.aborted) onAbort();

      guarded(() => {
        report(); // the planner's own rows
        // Nothing left to walk (the planner did it all), or the planner failed before any unit: no waiting.
        if (limit === 0) pump();
        else walkLocally();
      });
    });
  } finally {
    for (const c of cleanups) c();
    await Promise.all(slots.map((s) => s.worker.terminate()));
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Chunk buffers one thread reuses for every unit it walks (see FdSink's constructor). */
export interface UnitBuffers {
  tl: Buffer;
  fl: Buffer;
}

/** Scratch chunk size: a unit's rows reach its file in pieces this big. */
const UNIT_CHUNK_BYTES = 256 * 1024;

export function newUnitBuffers(): UnitBuffers {
  return { tl: Buffer.allocUnsafe(UNIT_CHUNK_BYTES), fl: Buffer.allocUnsafe(UNIT_CHUNK_BYTES) };
}

/** A unit's pair of scratch files, opened for writing (a re-walked unit starts them over); `close` always. */
export function openUnitSinks(tlFile: string, flFile: string | null, buffers: UnitBuffers): { tl: FdSink; fl: FdSink | null; close: () => void } {
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  };
  try {
    fds.push(fs.openSync(tlFile, 'w'));
    if (flFile !== null) fds.push(fs.openSync(flFile, 'w'));
  } catch (err) {
    close();
    throw err;
  }
  return { tl: new FdSink(fds[0]!, buffers.tl), fl: flFile === null ? null : new FdSink(fds[1]!, buffers.fl), close };
}

/** Names handled between two yields when this thread walks a unit: it must keep serving the workers. */
const LOCAL_SLICE = 2048;

/** This thread's unit buffers, made when it first walks a unit. */
let localBuffers: UnitBuffers | undefined;

/** Walks a unit on this thread into its scratch files, yielding between slices; null once `stop()` says so. */
async function walkUnitInSlices(
  o: ParallelWalkOptions,
  u: Unit,
  stop: () => boolean,
  progress: (entries: number) => void,
): Promise<UnitResult | null> {
  const { tl, fl, close } = openUnitSinks(u.tlFile, u.flFile, (localBuffers ??= newUnitBuffers()));
  try {
    const { walker, warnings } = unitWalker(tl, fl, {
      root: o.root,
      start: u.start!,
      checksumNames: o.checksumNames,
      rawLstat: o.rawLstat,
      progressEvery: o.progressEvery,
    });
    while (!walker.done) {
      walker.runSlice(LOCAL_SLICE, Number.POSITIVE_INFINITY);
      progress(walker.entries);
      await yieldToEventLoop();
      if (stop()) return null;
    }
    tl.flush();
    fl?.flush();
    return { entries: walker.entries, filelistEntries: walker.filelistEntries, warnings, checksumPaths: walker.checksumPaths };
  } finally {
    close();
  }
}

/**
 * Expands directories breadth-first from the root on this thread until there are `units` unexpanded
 * subtrees (or none left). Returns the root, expanded. A walk error stops the planning and is recorded as
 * a failed marker where it occurred; units after it are never walked.
 */
function plan(o: ParallelWalkOptions, totals: ParallelWalkResult): Unit {
  const root = newUnit({ abs: o.root, rel: '', listed: true, restricted: false });
  const queue = [root];
  let leaves = 1;
  // The root is always expanded: the top-level skip names apply only there.
  for (let head = 0; head < queue.length && (head === 0 || leaves < o.units); head++) {
    const unit = queue[head]!;
    const children = expand(o, unit, totals);
    if (children === null) break;
    leaves += children.length - 1;
    for (const c of children) queue.push(c);
  }
  return root;
}

/** Walks one directory's own entries into segments; its subdirectories become units. Null after an error. */
function expand(o: ParallelWalkOptions, unit: Unit, totals: ParallelWalkResult): Unit[] | null {
  const tl = new SegmentSink();
  const fl = o.fl === null ? null : new SegmentSink();
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
