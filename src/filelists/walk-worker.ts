// Worker thread of the parallel walk (parallel.ts): walks the work units it is sent, one at a time, each
// into its own pair of scratch files, and reports counts, warnings, checksum paths or the error back.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError, type UnitJob, type WalkWorkerData, type WorkerMessage } from './parallel.js';
import { FdSink } from './sink.js';
import { walkUnit } from './walker.js';

const port = parentPort!;
const data = workerData as WalkWorkerData;
const checksumNames = new Set(data.checksumNames);
const post = (msg: WorkerMessage) => port.postMessage(msg);
/** Fault injection for the tests: this thread dies as if out of memory when it is given unit N. */
const crashOnUnit = process.env.SIGRELEASE_FILELIST_WORKER_CRASH_ON_UNIT;

port.on('message', (job: UnitJob) => {
  if (crashOnUnit !== undefined && String(job.unit) === crashOnUnit) process.exit(134);
  const fds: number[] = [];
  try {
    const tlFd = fs.openSync(job.tlFile, 'w');
    fds.push(tlFd);
    const flFd = job.flFile === null ? null : fs.openSync(job.flFile, 'w');
    if (flFd !== null) fds.push(flFd);
    const result = walkUnit(new FdSink(tlFd), flFd === null ? null : new FdSink(flFd), {
      root: data.root,
      start: job.start,
      checksumNames,
      rawLstat: data.rawLstat,
      progressEvery: data.progressEvery,
      onProgress: (entries) => post({ type: 'progress', unit: job.unit, entries }),
    });
    post({ type: 'done', unit: job.unit, result });
  } catch (err) {
    post({ type: 'failed', unit: job.unit, error: serializeError(err) });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
});
post({ type: 'ready' });
