// One writer per file-list level (workflow ID `sigrelease-filelists-<level>[@<production root>]`), reached by
// signal-with-start: no two walks of a large tree run at once, and a request that arrives while a walk runs makes
// exactly one more walk after it (a "dirty" flag, as a coalescing writer does), so no change is missed and bursts
// cost one walk. A request that names its requester (a release) is answered by signal once the first walk that
// began after it has ended, with that walk's result: the release then knows its files are in the lists.
// A request that arrives as the writer finishes is not lost: Temporal refuses to complete a run that has an
// unhandled signal, and the run wakes to see the flag.
import { continueAsNew, defineSignal, getExternalWorkflowHandle, log, patched, setHandler } from '@temporalio/workflow';
import type { FileListLevel } from '../activities/fileListLevels.js';
import type { PublishFileListsResult } from '../activities/filelists.js';
import { hostActivities, quick } from './activityOptions.js';
import { isFenceToken } from './lockRequests.js';
import { fileListsRequestedSignal } from './messages.js';

/** Without a root: the ID of a writer started by hand; releases use the one of their production root. */
export const fileListWriterId = (level: FileListLevel, productionRoot?: string) =>
  `sigrelease-filelists-${level}${productionRoot ? `@${productionRoot}` : ''}`;

/** Who to answer when the walk covering a request has ended (the fileListsRequested signal's optional argument). */
export interface FileListRequester {
  workflowId: string;
  requestId: string;
  /** The requester's production lock grant (its fencing token): the walk for it publishes only while no later holder wrote. */
  fenceToken?: number;
}

/** The writer's answer to a requester: the covering walk's result, or why it failed. */
export interface FileListsWritten {
  requestId: string;
  level: FileListLevel;
  /** Which walk of the writer's run covered the request (1-based). */
  walk: number;
  result?: PublishFileListsResult;
  error?: string;
}

export const fileListsWrittenSignal = defineSignal<[FileListsWritten]>('fileListsWritten');

/** Walks before the writer starts afresh (continue-as-new), so a never-idle writer keeps a short history. */
const WALKS_PER_RUN = 50;

export interface FileListWriterInput {
  level: FileListLevel;
  /** Requesters not yet covered by a walk, carried over a continue-as-new. */
  waiting?: FileListRequester[];
}

export interface FileListWriterResult {
  level: FileListLevel;
  walks: number;
  /** The last walk's result (what changed, entries). */
  last: PublishFileListsResult | null;
}

const isRequester = (v: unknown): v is FileListRequester =>
  typeof v === 'object' && v !== null && typeof (v as FileListRequester).workflowId === 'string' && typeof (v as FileListRequester).requestId === 'string';

export async function fileListWriter(input: FileListWriterInput): Promise<FileListWriterResult> {
  // Starting is itself a request (a plain start, or signal-with-start whose signal comes in the same activation).
  let dirty = true;
  const waiting: FileListRequester[] = [...(input.waiting ?? [])];
  setHandler(fileListsRequestedSignal, (requester?: unknown) => {
    dirty = true;
    // Signals come from outside: a malformed requester is still a request, just not one that can be answered.
    if (isRequester(requester)) waiting.push({ workflowId: requester.workflowId, requestId: requester.requestId, ...(isFenceToken(requester.fenceToken) ? { fenceToken: requester.fenceToken } : {}) });
  });
  const target = await quick.resolveFileListLevel({ level: input.level });
  const host = hostActivities({}, target.hostTaskQueue).long;
  let walks = 0;
  let last: PublishFileListsResult | null = null;
  while (dirty) {
    if (walks === WALKS_PER_RUN) await continueAsNew<typeof fileListWriter>({ level: input.level, waiting });
    dirty = false; // a request from now on needs a walk that starts after it
    const covered = waiting.splice(0); // requests before this walk began: this walk answers them
    walks++;
    try {
      last = await host.publishFileLists({ ...target.publish, ...walkFence(covered) });
    } catch (err) {
      // Nobody to tell (a request by hand): fail as before. Otherwise the requesters learn why, and the writer lives on.
      if (covered.length === 0) throw err;
      await answer(covered, { level: input.level, walk: walks, error: String((err as Error).cause ?? err) });
      continue;
    }
    if (covered.length > 0) await answer(covered, { level: input.level, walk: walks, result: last });
  }
  return { level: input.level, walks, last };
}

/**
 * The fencing token a walk presents: the newest grant among the requesters it covers (the lock grants one turn at a
 * time, so that is the current holder's). The fence admits the walk before it starts and again before it replaces a
 * list (activities/fence.ts): a walk asked for under a turn that ended (lease, forced release) writes nothing.
 * A walk for requests without a token (by hand) carries none, as before.
 */
function walkFence(covered: FileListRequester[]): { fenceToken?: number } {
  const tokens = covered.flatMap((r) => (r.fenceToken === undefined ? [] : [r.fenceToken]));
  if (tokens.length === 0 || !patched('file-list-walk-fenced')) return {};
  return { fenceToken: Math.max(...tokens) };
}

async function answer(requesters: FileListRequester[], written: Omit<FileListsWritten, 'requestId'>): Promise<void> {
  // Only requests that name a requester reach here; the marker records that this writer answers them.
  patched('file-list-writer-answers');
  await Promise.all(
    requesters.map(async (r) => {
      try {
        await getExternalWorkflowHandle(r.workflowId).signal(fileListsWrittenSignal, { requestId: r.requestId, ...written });
      } catch (err) {
        log.warn('could not answer a file-list request (the requester has gone?)', { requester: r.workflowId, error: String(err) });
      }
    }),
  );
}
