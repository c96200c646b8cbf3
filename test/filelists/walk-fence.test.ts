// A file-list walk is fenced like every production write: admitted before it starts, and admitted again after the
// walk and before any list is replaced, so a walk whose production lock turn ended meanwhile (a forced release
// and a later holder's first write) publishes nothing. The real publisher on a real tree, the real fence.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { fencedProductionWrite } from '../../activities/fence.js';
import { publishFileLists } from '../../src/filelists/publish.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { admitProductionWrite, fencePath, readFence } from '../../src/lock/fence.js';
import { createActivities } from '../../activities/index.js';
import { productionCategory } from '../../src/paths.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';

function productionTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-walk-fence-'));
  for (let i = 0; i < 20; i++) {
    fs.mkdirSync(path.join(root, 'sig', String(i)), { recursive: true });
    fs.writeFileSync(path.join(root, 'sig', String(i), 'a.rpm'), 'a');
  }
  return root;
}

/** The fenced list publication as the worker builds it (check only), with `during` run while the walk is under way. */
function fencedWalk(root: string, during: () => Promise<void> | void) {
  const site = { productionRoot: root } as SiteConfig;
  return fencedProductionWrite(site, async (input: { dir: string }, recheckFence) => {
    let once = false;
    return publishFileLists({
      dir: input.dir,
      module: 'rocky',
      progressEvery: 1,
      onProgress: () => {
        if (once) return;
        once = true;
        void during();
      },
      beforePublish: recheckFence,
    });
  }, 'check');
}

describe('fenced file-list walks', () => {
  it('a walk whose turn ended during it (a later grant wrote) replaces no list and says it was fenced out', async () => {
    const root = productionTree();
    await admitProductionWrite(root, 100);
    // The walk's grant is 100; while it walks, the lock is force-released and grant 200 starts writing (its
    // entry in the fence, made synchronously here so that it is there before the walk ends).
    const laterGrantWrites = () => fs.writeFileSync(path.join(fencePath(root), '200'), '');
    const err = await fencedWalk(root, laterGrantWrites)({ dir: root, fenceToken: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('FencedOut');
    expect((err as ApplicationFailure).message).toMatch(/grant is number 100.*grant 200 has started writing/);
    expect(await readFence(root)).toBe(200);
    // Nothing published, no temp file left behind.
    expect(fs.readdirSync(root).filter((n) => n.includes('filelist') || n.includes('timelist') || n.includes('imagelist'))).toEqual([]);
  });

  it('the same walk publishes when its turn holds throughout (the check can pass)', async () => {
    const root = productionTree();
    const result = await fencedWalk(root, () => undefined)({ dir: root, fenceToken: 100 });
    expect(result.changed).toContain('fullfiletimelist-rocky');
    expect(fs.readFileSync(path.join(root, 'fullfiletimelist-rocky'), 'utf8')).toContain('sig/19/a.rpm');
    // A walk only checks the fence: it leaves it where the content writes put it (here: nobody wrote yet).
    expect(await readFence(root)).toBeNull();
  });

  it('a walk started after a later grant wrote is refused before it walks', async () => {
    const root = productionTree();
    await admitProductionWrite(root, 200);
    let walked = false;
    const err = await fencedWalk(root, () => {
      walked = true;
    })({ dir: root, fenceToken: 100 }).catch((e: unknown) => e);
    expect((err as ApplicationFailure).type).toBe('FencedOut');
    expect(walked).toBe(false);
  });

  it('a forged token in a list request cannot raise the fence: the worker\'s walk checks it, never claims it', async () => {
    // Anyone who may signal the list writer can put a token in a request; the walk presents the highest one. If a
    // walk raised the fence, a token far ahead of the lock's would fence out every real holder after it.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-walk-fence-site-'));
    const site = parseSite(localSiteRaw(root, { repoBaseUrl: 'http://127.0.0.1:9/unused' }), 'test site config');
    initRoots(site);
    const category = productionCategory(site);
    fs.mkdirSync(path.join(category, '9', 'core'), { recursive: true });
    fs.writeFileSync(path.join(category, '9', 'core', 'a.rpm'), 'a');
    const acts = createActivities({ site, catalogue: loadCatalogue() });
    await admitProductionWrite(site.productionRoot, 100);
    const forged = 9_000_000_000_000;
    const listed = await acts.publishFileLists({ dir: category, module: 'sig', fenceToken: forged });
    expect(listed.changed.length).toBeGreaterThan(0);
    expect(await readFence(site.productionRoot)).toBe(100);
    // The real holder still writes; a stale one is still refused, by the same worker's walk.
    await expect(admitProductionWrite(site.productionRoot, 101)).resolves.toBe('raise');
    const stale = await acts.publishFileLists({ dir: category, module: 'sig', fenceToken: 100 }).catch((e: unknown) => e);
    expect((stale as ApplicationFailure).type).toBe('FencedOut');
    expect(await readFence(site.productionRoot)).toBe(101);
  });
});
