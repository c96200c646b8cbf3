// What the parallel walk's threads say to each other (parallel.ts ↔ walk-worker.ts), and the pair of scratch
// files a unit is walked into. Kept apart from parallel.ts so a worker thread loads only the walker.
import fs from 'node:fs';
import { BadFileNameError, type BadNameReason } from './names.js';
import { FdSink } from './sink.js';
import type { StartFrame, UnitResult } from './walker.js';

/** Posted once per worker with its fixed settings. */
export interface WalkWorkerData {
  /** Worker module (URL, or path when `loader` is set), and tsx's require-hook API to register first for TypeScript. */
  entry: string;
  loader: string | null;
  root: string;
  checksumNames: string[];
  rawLstat: boolean;
  /** The process's working directory is the root: lstat relative paths (TreeWalkerOptions.fromRoot). */
  fromRoot: boolean;
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
export function deserializeError(err: SerializedError): Error {
  return err.kind === 'bad-name' ? new BadFileNameError(err.path, err.reason, err.root) : new Error(err.message);
}

/** Chunk buffers one thread reuses for every unit it walks (see FdSink's constructor). */
export interface UnitBuffers {
  tl: Buffer;
  fl: Buffer;
}

/** Scratch chunk size: a unit's rows reach its files in pieces this big. */
const UNIT_CHUNK_BYTES = 256 * 1024;

export function newUnitBuffers(): UnitBuffers {
  return { tl: Buffer.allocUnsafe(UNIT_CHUNK_BYTES), fl: Buffer.allocUnsafe(UNIT_CHUNK_BYTES) };
}

/** A unit's pair of scratch files, opened for writing (a re-walked unit starts them over); `close` always. */
export function openUnitSinks(
  tlFile: string,
  flFile: string | null,
  buffers: UnitBuffers,
): { tl: FdSink; fl: FdSink | null; close: () => void } {
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
