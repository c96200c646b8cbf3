// Temporal activity around the file-list publisher: heartbeats with progress, stops on cancellation, and
// turns an unlistable file name into a non-retryable failure (retrying cannot fix the tree).
// Every export here that is a function becomes an activity (activities/index.ts spreads this module).
import { ApplicationFailure } from '@temporalio/common';
import { activityContext } from '../src/activityContext.js';
import { BadFileNameError } from '../src/filelists/names.js';
import {
  publishFileLists as publishFileListsCore,
  type FileListOwner,
  type PublishFileListsResult,
} from '../src/filelists/publish.js';

export type { PublishFileListsResult } from '../src/filelists/publish.js';

export interface PublishFileListsInput {
  /** Tree to list; the lists are published at its top. */
  dir: string;
  /** `sig` → `fullfiletimelist-sig`. */
  module: string;
  /** Timelist copies; default `['fullfiletimelist']`. */
  aliases?: string[];
  owner?: FileListOwner | null;
  /** Basenames to checksum; default `['repomd.xml']`. */
  checksumNames?: string[];
}

const HEARTBEAT_EVERY = 5000;

/**
 * `recheckFence` (given by the production fence, activities/fence.ts) runs after the walk and before any list is
 * replaced: a walk whose production lock turn ended meanwhile publishes nothing.
 */
export async function publishFileLists(input: PublishFileListsInput, recheckFence?: () => Promise<void>): Promise<PublishFileListsResult> {
  const ctx = activityContext();
  try {
    return await publishFileListsCore({
      beforePublish: recheckFence,
      dir: input.dir,
      module: input.module,
      aliases: input.aliases,
      owner: input.owner ?? null,
      checksumNames: input.checksumNames,
      progressEvery: HEARTBEAT_EVERY,
      onProgress: ctx ? (entries) => ctx.heartbeat({ entries }) : undefined,
      onWarning: ctx ? (message) => ctx.log.warn(message, { dir: input.dir }) : undefined,
      signal: ctx?.cancellationSignal,
    });
  } catch (err) {
    if (err instanceof BadFileNameError) {
      throw ApplicationFailure.create({ type: 'BadFileName', nonRetryable: true, message: err.message, cause: err });
    }
    throw err;
  }
}
