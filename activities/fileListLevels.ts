// Where the lists of a level are written, from the worker's site config only: a writer is asked for a level
// by name, never handed a path. `sig`: the sig category (`<production>/mirror/pub/sig`, fullfiletimelist-sig);
// `root`: the top of the production root (fullfiletimelist-rocky, covering rocky, sig and vault), as the
// seed's sync-file-list-parallel.sh writes them.
import { ApplicationFailure } from '@temporalio/common';
import { productionCategory } from '../src/paths.js';
import type { PublishFileListsInput } from './filelists.js';
import type { ReleaseDeps } from './release.js';

export const FILE_LIST_LEVELS = ['sig', 'root'] as const;
export type FileListLevel = (typeof FILE_LIST_LEVELS)[number];

export interface FileListLevelTarget {
  publish: PublishFileListsInput;
  hostTaskQueue?: string;
}

export function createFileListLevelActivities(deps: ReleaseDeps) {
  return {
    async resolveFileListLevel(input: { level: unknown }): Promise<FileListLevelTarget> {
      const level = input?.level;
      if (!FILE_LIST_LEVELS.includes(level as FileListLevel)) {
        throw ApplicationFailure.create({ type: 'BadFileListLevel', nonRetryable: true, message: `unknown file-list level ${JSON.stringify(level)}; known: ${FILE_LIST_LEVELS.join(', ')}` });
      }
      const { site } = deps;
      const publish: PublishFileListsInput =
        level === 'sig'
          ? { dir: productionCategory(site), module: 'sig', owner: site.owner }
          : { dir: site.productionRoot, module: 'rocky', owner: site.owner };
      return { publish, ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}) };
    },
  };
}
