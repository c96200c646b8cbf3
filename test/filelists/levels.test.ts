// The file-list levels and their folders, as the seed's sync-file-list-parallel.sh writes them, and the
// site default that follows the seed (sig and root).
import { describe, expect, it } from 'vitest';
import { fileListLevelDir, isFileListLevel, releaseFileListLevels } from '../../src/filelists/levels.js';
import { parseSite } from '../../src/config/load.js';

describe('file-list levels', () => {
  const roots = { productionRoot: '/srv/prod' };

  it('puts each level where the seed puts it, with its module and aliases', () => {
    expect(fileListLevelDir('sig', roots)).toEqual({ dir: '/srv/prod/mirror/pub/sig', module: 'sig', aliases: ['fullfiletimelist'] });
    expect(fileListLevelDir('root', roots)).toEqual({ dir: '/srv/prod', module: 'rocky', aliases: ['fullfiletimelist'] });
    expect(fileListLevelDir('rocky', roots)).toEqual({ dir: '/srv/prod/mirror/pub/rocky', module: 'rocky', aliases: ['fullfiletimelist', 'fullfiletimelist-rocky-linux'] });
  });

  it('writes the sig category first and always, then the configured levels in the seed order', () => {
    expect(releaseFileListLevels([])).toEqual(['sig']);
    expect(releaseFileListLevels(['root'])).toEqual(['sig', 'root']);
    expect(releaseFileListLevels(['rocky', 'root', 'sig', 'root'])).toEqual(['sig', 'root', 'rocky']);
  });

  it('knows only its three names', () => {
    for (const bad of ['../etc', 'all', '', null, 1]) expect(isFileListLevel(bad), String(bad)).toBe(false);
    for (const good of ['sig', 'root', 'rocky']) expect(isFileListLevel(good)).toBe(true);
  });

  it('defaults publish.fileListLevels to the seed levels, sig and root, and refuses an unknown one', () => {
    const raw = { composeRoot: '/c', stagingRoot: '/s', productionRoot: '/p', repoBaseUrl: 'https://example.org/v1/projects', releases: { '9': { revision: '9.7' } } };
    expect(parseSite(raw).publish.fileListLevels).toEqual(['sig', 'root']);
    expect(parseSite({ ...raw, publish: { fileListLevels: ['rocky'] } }).publish.fileListLevels).toEqual(['rocky']);
    expect(() => parseSite({ ...raw, publish: { fileListLevels: ['sig', 'everything'] } })).toThrow(/fileListLevels/);
  });
});
