// The file-list levels the seed's sync-file-list-parallel.sh writes, from the roots alone (never from a request):
//   sig   <production>/mirror/pub/sig    fullfiletimelist-sig (alias fullfiletimelist)
//   root  <production>                   fullfiletimelist-rocky (alias fullfiletimelist), covering rocky, sig and vault
//   rocky <production>/mirror/pub/rocky  fullfiletimelist-rocky (aliases fullfiletimelist, fullfiletimelist-rocky-linux)
// Each also gets fullfilelist and imagelist-<module> (publish.ts). Pure: workflows and activities both use it.
// No node:path: workflow code uses this module, and the workflow sandbox has no Node built-ins.
import { productionCategory } from '../paths.js';

export const FILE_LIST_LEVELS = ['sig', 'root', 'rocky'] as const;
export type FileListLevel = (typeof FILE_LIST_LEVELS)[number];

/** What publishFileLists gets for a level. */
export interface FileListLevelDir {
  dir: string;
  module: string;
  aliases: string[];
}

export const isFileListLevel = (value: unknown): value is FileListLevel => FILE_LIST_LEVELS.includes(value as FileListLevel);

export function fileListLevelDir(level: FileListLevel, roots: { productionRoot: string }): FileListLevelDir {
  const sigCategory = productionCategory({ composeRoot: '', stagingRoot: '', productionRoot: roots.productionRoot });
  switch (level) {
    case 'sig':
      return { dir: sigCategory, module: 'sig', aliases: ['fullfiletimelist'] };
    case 'root':
      return { dir: roots.productionRoot, module: 'rocky', aliases: ['fullfiletimelist'] };
    case 'rocky':
      // The sibling of the sig category: <production>/mirror/pub/rocky.
      return { dir: sigCategory.replace(/sig$/, 'rocky'), module: 'rocky', aliases: ['fullfiletimelist', 'fullfiletimelist-rocky-linux'] };
  }
}

/**
 * The levels a release writes, in the seed's order: the sig category always (it holds the release), then the
 * configured others. Duplicates dropped.
 */
export function releaseFileListLevels(configured: readonly FileListLevel[]): FileListLevel[] {
  return ['sig', ...FILE_LIST_LEVELS.filter((l) => l !== 'sig' && configured.includes(l))];
}
