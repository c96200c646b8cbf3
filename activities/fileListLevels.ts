// Where the lists of a level are written, from the worker's site config only: a writer is asked for a level
// by name, never handed a path. The levels and their folders follow the seed's sync-file-list-parallel.sh
// (src/filelists/levels.ts): `sig` the sig category, `root` the top of the production root, `rocky` the rocky category.
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { fileListWriterId } from '../workflows/fileListWriter.js';
import { fileListsRequestedSignal } from '../workflows/messages.js';
import { isFenceToken } from '../workflows/lockRequests.js';
import { FILE_LIST_LEVELS, fileListLevelDir, isFileListLevel, type FileListLevel } from '../src/filelists/levels.js';
import type { PublishFileListsInput } from './filelists.js';
import type { ReleaseDeps } from './release.js';

export { FILE_LIST_LEVELS, type FileListLevel };

export interface FileListLevelTarget {
  publish: PublishFileListsInput;
  hostTaskQueue?: string;
}

function checkedLevel(level: unknown): FileListLevel {
  if (!isFileListLevel(level)) {
    throw ApplicationFailure.create({ type: 'BadFileListLevel', nonRetryable: true, message: `unknown file-list level ${JSON.stringify(level)}; known: ${FILE_LIST_LEVELS.join(', ')}` });
  }
  return level;
}

export function createFileListLevelActivities(deps: ReleaseDeps) {
  return {
    /**
     * Asks the writer of a level (for this site's production root) for a walk, starting it if idle; the writer
     * answers `requesterWorkflowId` with fileListsWritten once a walk that began after this request has ended.
     */
    async requestFileListWalk(input: { level: unknown; requesterWorkflowId: string; requestId: string; taskQueue?: string; fenceToken?: number }): Promise<string> {
      const level = checkedLevel(input?.level);
      if (input.fenceToken !== undefined && !isFenceToken(input.fenceToken)) {
        throw ApplicationFailure.create({ type: 'BadRequest', nonRetryable: true, message: `fenceToken must be a production lock grant number, got ${JSON.stringify(input.fenceToken)}` });
      }
      if (!deps.client) throw ApplicationFailure.create({ type: 'NoClient', message: 'worker was built without a Temporal client', nonRetryable: true });
      const workflowId = fileListWriterId(level, deps.site.productionRoot);
      await deps.client.workflow.signalWithStart('fileListWriter', {
        workflowId,
        taskQueue: input.taskQueue || activityInfo().taskQueue,
        args: [{ level }],
        signal: fileListsRequestedSignal,
        signalArgs: [{ workflowId: input.requesterWorkflowId, requestId: input.requestId, ...(input.fenceToken !== undefined ? { fenceToken: input.fenceToken } : {}) }],
      });
      return workflowId;
    },

    async resolveFileListLevel(input: { level: unknown }): Promise<FileListLevelTarget> {
      const level = checkedLevel(input?.level);
      const { site } = deps;
      const publish: PublishFileListsInput = { ...fileListLevelDir(level, site), owner: site.owner };
      return { publish, ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}) };
    },
  };
}
