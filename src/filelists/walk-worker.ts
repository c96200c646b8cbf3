// Worker thread of the parallel walk (parallel.ts): walks the work units it is sent, one at a time, each
// into its own pair of scratch files, and reports counts, warnings, checksum paths or the error back.
import { parentPort, workerData } from 'node:worker_threads';
import { newUnitBuffers, openUnitSinks, serializeError, type UnitJob, type WalkWorkerData, type WorkerMessage } from './units.js';
import { walkUnit } from './walker.js';

const port = parentPort!;
const data = workerData as WalkWorkerData;
const checksumNames = new Set(data.checksumNames);
const buffers = newUnitBuffers();
const post = (msg: WorkerMessage) => port.postMessage(msg);
/** Fault injection for the tests: this thread dies as if out of memory when it is given unit N. */
const crashOnUnit = process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT;

port.on('message', (job: UnitJob) => {
  if (crashOnUnit !== undefined && String(job.unit) === crashOnUnit) process.exit(134);
  let close = () => {};
  try {
    const sinks = openUnitSinks(job.tlFile, job.flFile, buffers);
    close = sinks.close;
    const result = walkUnit(sinks.tl, sinks.fl, {
      root: data.root,
      start: job.start,
      checksumNames,
      rawLstat: data.rawLstat,
      fromRoot: data.fromRoot,
      progressEvery: data.progressEvery,
      onProgress: (entries) => post({ type: 'progress', unit: job.unit, entries }),
    });
    post({ type: 'done', unit: job.unit, result });
  } catch (err) {
    post({ type: 'failed', unit: job.unit, error: serializeError(err) });
  } finally {
    close();
  }
});
post({ type: 'ready' });
