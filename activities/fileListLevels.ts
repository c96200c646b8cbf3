// Where the lists of a level are written, from the worker's site config only: a writer is asked for a level
// by name, never handed a path. The levels and their folders follow the seed's sync-file-list-parallel.sh
// (src/filelists/levels.ts): `sig` the sig category, `root` the top of the production root, `rocky` the rocky category.
import { ApplicationFailure } from '@temporalio/common';
import { FILE_LIST_LEVELS, fileListLevelDir, isFileListLevel, type FileListLevel } from '../src/filelists/levels.js';
import type { PublishFileListsInput } from './filelists.js';
import type { ReleaseDeps } from './release.js';

export { FILE_LIST_LEVELS, type FileListLevel };

export interface FileListLevelTarget {
  publish: PublishFileListsInput;
  hostTaskQueue?: string;
}

export function createFileListLevelActivities(deps: ReleaseDeps) {
  return {
    async resolveFileListLevel(input: { level: unknown }): Promise<FileListLevelTarget> {
      const level = input?.level;
      if (!isFileListLevel(level)) {
        throw ApplicationFailure.create({ type: 'BadFileListLevel', nonRetryable: true, message: `unknown file-list level ${JSON.stringify(level)}; known: ${FILE_LIST_LEVELS.join(', ')}` });
      }
      const { site } = deps;
      const publish: PublishFileListsInput = { ...fileListLevelDir(level, site), owner: site.owner };
      return { publish, ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}) };
    },
  };
}
