// The walk split across worker threads. The plan (plan.ts) cuts the tree into subtree units; the scheduler
// (scheduler.ts) says which unit to walk next and writes the output in order; this module runs the threads:
// it starts the workers, hands each a unit when it is idle, walks units on this thread when no worker can
// (a dead worker's unit, or no worker at all), and settles once the output is written or a unit failed.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isMainThread, Worker } from 'node:worker_threads';
import { planUnits, unitsInOrder, type PlannedTotals, type Unit } from './plan.js';
import { UnitScheduler, type PumpOutcome } from './scheduler.js';
import type { TextSink } from './sink.js';
import { deserializeError, newUnitBuffers, openUnitSinks, type UnitBuffers, type UnitJob, type WalkWorkerData, type WorkerMessage } from './units.js';
import { unitWalker, type UnitResult } from './walker.js';

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
  /**
   * Make the root the working directory for the walk (restored after) and lstat paths relative to it: each
   * lstat then looks up the entry's path below the root only (about 10% less CPU per lstat on the bench tree).
   * The process's working directory is shared by all its threads, so only for a process that does nothing
   * else meanwhile (the CLI; not the Temporal worker, which runs other activities beside the walk).
   */
  cwdIsRoot?: boolean;
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
  /** Whether this thread walks units too while workers start (default false: it keeps this thread's heap small). */
  mainThreadWalks?: boolean | undefined;
  /**
   * Bytes that finished units may hold in scratch files while they wait for an earlier unit (the scratch dir
   * may be a tmpfs, i.e. memory). Past it, only the unit the output waits for is started. Default 256 MiB.
   */
  scratchLimitBytes?: number | undefined;
  /** Heap cap of each worker (MiB); the default keeps the process's memory flat however large the tree. */
  workerHeapMb?: number | undefined;
}

export interface ParallelWalkResult extends PlannedTotals {
  units: number;
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

/**
 * Heap limits of a walker thread. Left alone, V8 lets each worker's heap grow to its defaults (tens of MB);
 * capped, it collects early: on the 1M-entry bench tree peak RSS was 85, 90–95 and 98–101 MB with 8, 16 and
 * 24 MiB, and a 2 MiB young generation saves ~5 MB over 4. A directory of about 100k names still fits in 16;
 * a unit whose listing does not kills the worker, and the unit is walked again by the main thread.
 */
const DEFAULT_WORKER_HEAP_MB = 16;
/**
 * Scratch bytes that walked-but-waiting units may hold (see ParallelWalkOptions.scratchLimitBytes). Units are
 * uneven (one can hold a fifth of the tree), and a tight budget leaves a thread idle behind a big unit: on the
 * 1M-entry bench tree the peak is ~80 MB, and a 16 or 64 MiB budget cost most of the second thread's gain.
 * 256 MiB leaves trees of that size alone and bounds what a far larger tree can put on a tmpfs /tmp.
 */
const DEFAULT_SCRATCH_LIMIT = 256 * 2 ** 20;

function workerLimits(heapMb = DEFAULT_WORKER_HEAP_MB): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 2 };
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
  const scratch = fs.mkdtempSync(path.join(path.resolve(o.tempDir), 'sigrelease-filelists-'));
  const home = o.cwdIsRoot ? enterRoot(o.root) : null;
  const fromRoot = home !== null;
  const pool = new WalkerPool(o, fromRoot);
  try {
    // Started before planning, so their start-up (loading the walker) overlaps it.
    pool.startWorkers({ ...module, root: o.root, checksumNames: [...o.checksumNames], rawLstat: o.rawLstat, fromRoot, progressEvery: Math.min(o.progressEvery, 5000) });
    const totals: ParallelWalkResult = { entries: 0, filelistEntries: 0, warnings: 0, checksumPaths: [], units: 0 };
    const root = planUnits({ ...o, fromRoot, filelist: o.fl !== null }, totals);
    const units = unitsInOrder(root);
    for (const u of units) {
      u.tlFile = path.join(scratch, `${u.index}.tl`);
      u.flFile = o.fl === null ? null : path.join(scratch, `${u.index}.fl`);
    }
    totals.units = units.filter((u) => u.start !== null).length;
    const scheduler = new UnitScheduler(root, units, totals.entries, {
      tl: o.tl,
      fl: o.fl,
      warn: o.warn,
      begin: o.begin,
      scratchLimitBytes: o.scratchLimitBytes ?? DEFAULT_SCRATCH_LIMIT,
      progressEvery: o.progressEvery,
      onProgress: o.onProgress,
    });
    await pool.run(scheduler);
    scheduler.addTotals(totals);
    return totals;
  } finally {
    await pool.stop();
    if (home !== null) process.chdir(home);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Makes `root` the working directory and returns the one to go back to; null (nothing changed) when either fails. */
function enterRoot(root: string): string | null {
  if (!isMainThread) return null;
  try {
    const home = process.cwd();
    process.chdir(root);
    return home;
  } catch {
    return null;
  }
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  unit: Unit | null;
}

/** The threads of one parallel walk: the workers' slots and this thread, driven by the scheduler. */
class WalkerPool {
  private readonly slots: Slot[] = [];
  private scheduler!: UnitScheduler;
  private settled = false;
  private resolve: () => void = () => {};
  private reject: (err: unknown) => void = () => {};
  private localBusy = false;
  private localBuffers: UnitBuffers | null = null;
  private onAbort: (() => void) | null = null;

  constructor(
    private readonly o: ParallelWalkOptions,
    private readonly fromRoot: boolean,
  ) {}

  startWorkers(data: WalkWorkerData): void {
    for (let i = 0; i < this.o.threads; i++) {
      const slot: Slot = { worker: new Worker(BOOTSTRAP, { eval: true, workerData: data, resourceLimits: workerLimits(this.o.workerHeapMb) }), ready: false, dead: false, unit: null };
      slot.worker.on('message', (msg: WorkerMessage) => this.guarded(() => this.onMessage(slot, msg)));
      slot.worker.on('error', (err) => this.guarded(() => this.lost(slot, err)));
      slot.worker.on('exit', (code) => this.guarded(() => this.lost(slot, `exit code ${code}`)));
      this.slots.push(slot);
    }
  }

  /** Walks every unit; resolves once the output is written, rejects with the first failure or the abort reason. */
  run(scheduler: UnitScheduler): Promise<void> {
    this.scheduler = scheduler;
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const signal = this.o.signal;
      if (signal) {
        this.onAbort = () => this.settle({ kind: 'failed', error: signal.reason });
        signal.addEventListener('abort', this.onAbort, { once: true });
        if (signal.aborted) this.onAbort();
      }
      this.guarded(() => {
        // Nothing left to walk (the planner did it all), or the planner failed before any unit: no waiting.
        if (!scheduler.hasWork) this.settle(scheduler.pump());
        else {
          for (const s of this.slots) if (s.ready) this.dispatch(s);
          this.walkLocally();
        }
      });
    });
  }

  async stop(): Promise<void> {
    this.settled = true; // messages still in flight are ignored
    if (this.onAbort) this.o.signal?.removeEventListener('abort', this.onAbort);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private settle(outcome: PumpOutcome): void {
    if (this.settled || outcome.kind === 'waiting') return;
    this.settled = true;
    if (outcome.kind === 'done') this.resolve();
    else this.reject(outcome.error);
  }

  private guarded(fn: () => void): void {
    if (this.settled) return;
    try {
      fn();
    } catch (err) {
      this.settle({ kind: 'failed', error: err });
    }
  }

  private dispatch(slot: Slot): void {
    if (this.scheduler === undefined || slot.unit !== null) return; // before run(): ready, but nothing planned yet
    const u = this.scheduler.take();
    if (u === null) return;
    slot.unit = u;
    const job: UnitJob = { unit: u.index, start: u.start!, tlFile: u.tlFile, flFile: u.flFile };
    slot.worker.postMessage(job);
  }

  /** A unit walked (by a worker or this thread): count it, write out what is now in order, hand out more work. */
  private finished(u: Unit, result: UnitResult): void {
    const bytes = fs.statSync(u.tlFile).size + (u.flFile === null ? 0 : fs.statSync(u.flFile).size);
    this.scheduler.finished(u, result, bytes);
    if (this.settled) return; // onProgress may have aborted
    this.settle(this.scheduler.pump());
    // Writing out may have freed scratch budget: idle threads can take units again.
    for (const s of this.slots) if (s.ready && !s.dead) this.dispatch(s);
    this.walkLocally();
  }

  private failed(u: Unit, err: unknown): void {
    this.scheduler.failed(u, err);
    this.settle(this.scheduler.pump());
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    switch (msg.type) {
      case 'ready':
        slot.ready = true;
        this.dispatch(slot);
        break;
      case 'fatal':
        this.lost(slot, msg.message);
        break;
      case 'progress':
        this.scheduler.progressed(this.scheduler.units[msg.unit]!, msg.entries);
        break;
      case 'done':
        slot.unit = null;
        this.dispatch(slot);
        this.finished(this.scheduler.units[msg.unit]!, msg.result);
        break;
      case 'failed':
        slot.unit = null;
        this.failed(this.scheduler.units[msg.unit]!, deserializeError(msg.error));
        break;
    }
  }

  /**
   * A worker died (failed to start, or ran out of its capped heap on a huge directory): the others carry on,
   * and the unit it was walking goes back to the front of the queue, where this thread (no cap) takes it.
   */
  private lost(slot: Slot, why: unknown): void {
    if (slot.dead) return;
    slot.dead = true;
    const orphan = slot.unit;
    slot.unit = null;
    if (orphan !== null && orphan.state === 'running' && this.scheduler !== undefined) {
      this.scheduler.requeue(orphan);
      this.o.onWorkerLost?.(orphan.index, why instanceof Error ? why.message : String(why));
    }
    this.walkLocally();
  }

  /**
   * This thread walks a unit when a dead worker left one, when no worker is left, or (if asked) while fewer
   * than `threads` workers are up; if no worker starts at all this alone finishes the walk.
   */
  private walkLocally(): void {
    if (this.scheduler === undefined || this.localBusy || this.settled) return;
    const ready = this.slots.filter((s) => s.ready && !s.dead).length;
    const alive = this.slots.filter((s) => !s.dead).length;
    const mayWalk = this.scheduler.hasOrphans || alive === 0 || (this.o.mainThreadWalks === true && ready < this.o.threads);
    if (!mayWalk) return;
    const u = this.scheduler.take();
    if (u === null) return;
    this.localBusy = true;
    const buffers = (this.localBuffers ??= newUnitBuffers());
    walkUnitInSlices(this.o, this.fromRoot, u, buffers, () => this.settled, (entries) => this.scheduler.progressed(u, entries)).then(
      (result) =>
        this.guarded(() => {
          this.localBusy = false;
          if (result !== null) this.finished(u, result);
          this.walkLocally();
        }),
      (err: unknown) =>
        this.guarded(() => {
          this.localBusy = false;
          this.failed(u, err);
        }),
    );
  }
}

/** Names handled between two yields when this thread walks a unit: it must keep serving the workers. */
const LOCAL_SLICE = 2048;

/** Walks a unit on this thread into its scratch files, yielding between slices; null once `stop()` says so. */
async function walkUnitInSlices(
  o: ParallelWalkOptions,
  fromRoot: boolean,
  u: Unit,
  buffers: UnitBuffers,
  stop: () => boolean,
  progress: (entries: number) => void,
): Promise<UnitResult | null> {
  const { tl, fl, close } = openUnitSinks(u.tlFile, u.flFile, buffers);
  try {
    const { walker, warnings } = unitWalker(tl, fl, { root: o.root, start: u.start!, checksumNames: o.checksumNames, rawLstat: o.rawLstat, fromRoot, progressEvery: o.progressEvery });
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
