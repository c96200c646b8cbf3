// Production-only directories are kept (issue 12 item 5): the catalogue names the folders that exist only in
// production (the seed's `additional_dirs`, AltArch's `images`); no pass of the production sync deletes them or
// anything under them, and the preview lists them as kept. Real rsync, activities as the worker builds them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { initRoots } from '../../src/config/roots.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { keepDirFilters, productionOnlyDirsFor, productionPasses } from '../../src/publish/production-plan.js';
import { exists, packages, removeDir, tempDir, treeDigest, writeFakeRepo, writeTree } from './helpers.js';

const catalogue = loadCatalogue();

describe('the catalogue and the rsync rules', () => {
  it("AltArch keeps images/ in every release (the seed's additional_dirs); other SIGs keep nothing", () => {
    for (const rel of ['8', '9', '10']) expect(catalogue.altarch!.releases[rel]!.productionOnlyDirs).toEqual(['images']);
    expect(catalogue.core!.releases['9']!.productionOnlyDirs).toEqual([]);
  });

  it('finds the folders to keep from the target, through the worker catalogue only', () => {
    const roots = { composeRoot: '/c', stagingRoot: '/s', productionRoot: '/p' };
    expect(productionOnlyDirsFor(roots, catalogue, '/p/mirror/pub/sig/9/altarch')).toEqual(['images']);
    expect(productionOnlyDirsFor(roots, catalogue, '/p/mirror/pub/sig/9/altarch/')).toEqual(['images']);
    expect(productionOnlyDirsFor(roots, catalogue, '/p/mirror/pub/sig/9/core')).toEqual([]);
    expect(productionOnlyDirsFor(roots, catalogue, '/s/mirror/pub/sig/9/altarch')).toEqual([]);
    expect(productionOnlyDirsFor(roots, catalogue, '/p/mirror/pub/sig/9/altarch/images')).toEqual([]);
  });

  it('protects the folder anchored at the SIG root in all three passes, and refuses a name that is a pattern', () => {
    expect(keepDirFilters(['images'])).toEqual(['P /images/***']);
    for (const pass of productionPasses({ source: '/s/9/altarch', target: '/p/9/altarch', maxDelete: 0, keep: ['images'] })) {
      expect(pass.args).toContain('--filter=P /images/***');
    }
    for (const bad of ['../etc', '*', 'images/**', '.hidden', '']) expect(() => keepDirFilters([bad])).toThrow(/must be a plain folder name/);
  });
});

describe('the production sync of AltArch with images/ in production', () => {
  let dir: string;
  let site: SiteConfig;
  let staging: string;
  let production: string;

  beforeEach(async () => {
    dir = await tempDir('production-only');
    site = parseSite({ composeRoot: `${dir}/compose`, stagingRoot: `${dir}/staging`, productionRoot: `${dir}/production`, repoBaseUrl: 'http://127.0.0.1:9/x', releases: { '9': { revision: '9.7' } } });
    initRoots(site);
    staging = stagingSigDir(site, '9', 'altarch');
    production = productionSigDir(site, '9', 'altarch');
    // Release 1 in production, with the images only production has.
    await writeFakeRepo(production, 'aarch64/altarch-common', 'aarch64', packages('alt', 0, 10, '1.0'), 'v1');
    await writeFakeRepo(production, 'aarch64/altarch-rockyrpi', 'aarch64', packages('rpi', 0, 5, '1.0'), 'v1');
    await writeTree(production, {
      'images/Rocky-9-RPi-aarch64.img.xz': Buffer.alloc(300_000, 1),
      'images/CHECKSUM': 'sha256 ...\n',
      'images/old/Rocky-9.5-RPi-aarch64.img.xz': Buffer.alloc(200_000, 2),
    });
    // Release 2 in staging: altarch-rockyrpi retired, altarch-common updated; no images/ (no compose has them).
    await writeFakeRepo(staging, 'aarch64/altarch-common', 'aarch64', packages('alt', 0, 12, '1.0'), 'v2');
  });
  afterEach(() => removeDir(dir));

  it('the preview shows images/ as kept, lists no deletion in it, and leaves it out of the guard shares', async () => {
    const acts = createActivities({ site, catalogue });
    const preview = await acts.previewProduction({ source: staging, target: production, reportFile: path.join(site.composeRoot, 'preview.txt'), guard: { maxDeleteShare: 0.1 } });
    expect(preview.kept).toEqual([{ dir: 'images', files: 3, bytes: 300_000 + 200_000 + 'sha256 ...\n'.length }]);
    const reported = fs.readFileSync(preview.reportFile, 'utf8');
    expect(reported).toContain('*deleting   0 aarch64/altarch-rockyrpi/');
    expect(reported).not.toContain('images');
    // 15 packages + 3 metadata files in each of the two repos: the images are neither deleted nor counted.
    expect(preview.targetFiles).toBe(21);
    // The retired repo (5 packages, 3 metadata files) and the two superseded metadata blobs of the other.
    expect(preview.deleted.files).toBe(5 + 3 + 2);
    expect(preview.guard.ok).toBe(false);
  });

  it('passes 1–2, then pass 3 after the grace period: images/ and everything under it survive, the rest mirrors staging', async () => {
    const acts = createActivities({ site, catalogue });
    const imagesBefore = await treeDigest(path.join(production, 'images'));
    const sync = { source: staging, target: production, reportFile: path.join(site.composeRoot, 'sync.txt'), guard: { maxDeleteShare: 0.1 }, allowLargeDeletion: true };
    await acts.syncToProduction({ ...sync, passes: [1, 2] });
    const deleted = await acts.syncToProduction({ ...sync, passes: [3] });
    expect(deleted.preview.kept?.map((k) => k.dir)).toEqual(['images']);
    expect(await treeDigest(path.join(production, 'images'))).toEqual(imagesBefore);
    expect(await exists(path.join(production, 'aarch64/altarch-rockyrpi'))).toBe(false);
    expect(await treeDigest(production, { skip: (rel) => rel === 'images' || rel.startsWith('images/') })).toEqual(await treeDigest(staging));
  });

  it('a workflow input cannot widen or drop what is kept: the worker takes it from its catalogue', async () => {
    const acts = createActivities({ site, catalogue });
    const r = await acts.syncToProduction({ source: staging, target: production, reportFile: path.join(site.composeRoot, 'sync.txt'), guard: { maxDeleteShare: 1 }, keep: [] });
    expect(r.preview.kept?.map((k) => k.dir)).toEqual(['images']);
    expect(await exists(path.join(production, 'images/old/Rocky-9.5-RPi-aarch64.img.xz'))).toBe(true);
  });
});
