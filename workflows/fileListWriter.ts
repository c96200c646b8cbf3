// One writer per file-list level (workflow ID `sigrelease-filelists-<level>`), reached by signal-with-start:
// no two walks of a large tree run at once, and a request that arrives while a walk runs makes exactly one more
// walk after it (a "dirty" flag, as a coalescing writer does), so no change is missed and bursts cost one walk.
// A request that arrives as the writer finishes is not lost: Temporal refuses to complete a run that has an
// unhandled signal, and the run wakes to see the flag.
import { continueAsNew, setHandler } from '@temporalio/workflow';
import type { FileListLevel } from '../activities/fileListLevels.js';
import type { PublishFileListsResult } from '../activities/filelists.js';
import { hostActivities, quick } from './activityOptions.js';
import { fileListsRequestedSignal } from './messages.js';

export const fileListWriterId = (level: FileListLevel) => `sigrelease-filelists-${level}`;

/** Walks before the writer starts afresh (continue-as-new), so a never-idle writer keeps a short history. */
const WALKS_PER_RUN = 50;

export interface FileListWriterInput {
  level: FileListLevel;
}

export interface FileListWriterResult {
  level: FileListLevel;
  walks: number;
  /** The last walk's result (what changed, entries). */
  last: PublishFileListsResult | null;
}

export async function fileListWriter(input: FileListWriterInput): Promise<FileListWriterResult> {
  // Starting is itself a request (a plain start, or signal-with-start whose signal comes in the same activation).
  let dirty = true;
  setHandler(fileListsRequestedSignal, () => {
    dirty = true;
  });
  const target = await quick.resolveFileListLevel({ level: input.level });
  const host = hostActivities({}, target.hostTaskQueue).long;
  let walks = 0;
  let last: PublishFileListsResult | null = null;
  while (dirty) {
    if (walks === WALKS_PER_RUN) await continueAsNew<typeof fileListWriter>(input);
    dirty = false; // a request from now on needs a walk that starts after it
    last = await host.publishFileLists(target.publish);
    walks++;
  }
  return { level: input.level, walks, last };
}
