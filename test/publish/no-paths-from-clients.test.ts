// Activities take no paths from clients (issue 12 item 1), the publish and file-list side: the staging sync, the
// production preview and sync, the hardlink pass and the file lists check every path they are handed against the
// worker's own site config and catalogue. A `../` climb, an absolute path elsewhere, a root itself instead of a SIG
// folder, another SIG's folder, or a symlink planted under a root that points out: refused as a non-retryable
// PathRefused naming the value, with nothing written anywhere. Real rsync; activities as the worker builds them.
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { initRoots } from '../../src/config/roots.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { composeDir, latestLink, productionCategory, productionReleaseDir, productionSigDir, stagingSigDir } from '../../src/paths.js';
import { composeSigTreeOf, sigDirIn } from '../../src/publish/trusted-paths.js';
import { packages, removeDir, tempDir, treeDigest, writeFakeRepo, writeTree } from './helpers.js';

const catalogue = loadCatalogue();
const env = new MockActivityEnvironment();
const failureOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ApplicationFailure);

let dir: string;
let site: SiteConfig;
let outside: string;
let acts: ReturnType<typeof createActivities>;
let composeTree: string;
let staging: string;
let production: string;
let report: string;

/** Everything the run could have written: the three roots and the folder outside them. */
async function everything() {
  return { compose: await treeDigest(site.composeRoot), staging: await treeDigest(site.stagingRoot), production: await treeDigest(site.productionRoot), outside: await treeDigest(outside) };
}

/** Runs `call`, expects a PathRefused naming `value`, and that no tree changed. */
async function expectRefused(call: () => Promise<unknown>, value: string) {
  const before = await everything();
  const f = await failureOf(call());
  expect(f, `a call with ${value} must be refused`).toBeInstanceOf(ApplicationFailure);
  expect(f!.type).toBe('PathRefused');
  expect(f!.nonRetryable).toBe(true);
  expect(f!.message).toContain(JSON.stringify(value));
  expect(await everything()).toEqual(before);
}

beforeEach(async () => {
  dir = await tempDir('publish-paths');
  site = parseSite({ composeRoot: `${dir}/compose`, stagingRoot: `${dir}/staging`, productionRoot: `${dir}/production`, repoBaseUrl: 'http://127.0.0.1:9/x', releases: { '9': { revision: '9.7' } } });
  initRoots(site);
  outside = `${dir}/outside`;
  await writeTree(outside, { 'keep-me.txt': 'not ours\n', 'etc/passwd': 'root:x:0:0\n' });
  const folder = composeDir(site, '9', 'core', '9.7', '20261130.120000');
  composeTree = `${folder}/compose/9/core`;
  await writeFakeRepo(composeTree, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 10, '2.0'), 'v2');
  fs.symlinkSync(path.basename(folder), latestLink(site, '9', 'core'));
  report = `${folder}/work/previews/20261130.120000/report.txt`;
  staging = stagingSigDir(site, '9', 'core');
  production = productionSigDir(site, '9', 'core');
  await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 10, '1.0'), 'v1');
  await writeFakeRepo(production, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 10, '1.0'), 'v1');
  acts = createActivities({ site, catalogue });
});
afterEach(() => removeDir(dir));

describe('the shapes the site config gives (pure)', () => {
  it('a SIG folder is <category>/<release>/<sig> of a release and SIG the catalogue has', () => {
    expect(sigDirIn('/s/mirror/pub/sig', '/s/mirror/pub/sig/9/core', catalogue)).toEqual({ release: '9', sig: 'core' });
    for (const p of ['/s/mirror/pub/sig', '/s/mirror/pub/sig/9', '/s/mirror/pub/sig/9/core/x86_64', '/s/mirror/pub/sig/9/nosuchsig', '/s/mirror/pub/sig/1/core', '/s/mirror/pub/sig/9/..', '/elsewhere/9/core']) {
      expect(sigDirIn('/s/mirror/pub/sig', p, catalogue), p).toBeNull();
    }
  });

  it("a compose tree is a dated folder or the latest link of that SIG, with the tree of the same release and SIG", () => {
    expect(composeSigTreeOf('/c', '/c/9/SIG-core-9.7-20261130.120000/compose/9/core', catalogue)).toEqual({ release: '9', sig: 'core' });
    expect(composeSigTreeOf('/c', '/c/9/latest-SIG-core-9/compose/9/core', catalogue)).toEqual({ release: '9', sig: 'core' });
    for (const p of ['/c/9/SIG-cloud-9.7-x/compose/9/core', '/c/9/SIG-core-9.7-x/compose/10/core', '/c/9/../../etc/compose/9/core', '/c/9/SIG-core-x/compose/9/core/x86_64', '/c/9/SIG-core-x', '/d/9/SIG-core-x/compose/9/core']) {
      expect(composeSigTreeOf('/c', p, catalogue), p).toBeNull();
    }
  });
});

describe('the staging sync', () => {
  const sync = (o: Partial<{ source: string; target: string; reportFile: string }>) => env.run(acts.syncToStaging, { source: composeTree, target: staging, reportFile: report, guard: { maxDeleteShare: 1 }, ...o });

  it('refuses a target that is the staging root itself, another SIG, a climb, or a folder elsewhere', async () => {
    for (const target of [site.stagingRoot, stagingSigDir(site, '9', 'cloud'), `${staging}/../../../../../../outside`, outside, `${staging}/x86_64`]) {
      await expectRefused(() => sync({ target }), target);
    }
  });

  it('refuses a source outside the compose root, or a compose tree of another SIG', async () => {
    const otherSig = `${composeDir(site, '9', 'cloud', '9.7', '20261130.120000')}/compose/9/cloud`;
    await writeFakeRepo(otherSig, 'x86_64/cloud-common', 'x86_64', packages('c', 0, 3, '1.0'), 'c');
    for (const source of [outside, `${composeTree}/../../../../../outside`, '/etc']) {
      await expectRefused(() => sync({ source }), source);
    }
    // Another SIG's compose into core's staging folder: the target is not that SIG's folder.
    await expectRefused(() => sync({ source: otherSig }), staging);
  });

  it('refuses a latest link planted to point out of the compose root', async () => {
    fs.rmSync(latestLink(site, '9', 'core'));
    fs.mkdirSync(`${outside}/compose/9/core`, { recursive: true });
    fs.symlinkSync(outside, latestLink(site, '9', 'core'));
    const source = `${latestLink(site, '9', 'core')}/compose/9/core`;
    await expectRefused(() => sync({ source }), source);
  });

  it('refuses a symlink planted in the staging root that points out, and a report file outside the compose root', async () => {
    await expectRefused(() => sync({ reportFile: `${outside}/report.txt` }), `${outside}/report.txt`);
    await expectRefused(() => sync({ reportFile: `${site.composeRoot}/../outside/r.txt` }), `${site.composeRoot}/../outside/r.txt`);
    fs.rmSync(staging, { recursive: true });
    fs.symlinkSync(outside, staging);
    await expectRefused(() => sync({}), staging);
  });

  it('mirrors the compose into staging when every path is the one the site gives (through the latest link too)', async () => {
    const r: Awaited<ReturnType<typeof acts.syncToStaging>> = await env.run(acts.syncToStaging, { source: `${latestLink(site, '9', 'core')}/compose/9/core`, target: staging, reportFile: report, guard: { maxDeleteShare: 1 } });
    expect(r.preview.source).toBe(fs.realpathSync(composeTree));
    expect(await treeDigest(staging)).toEqual(await treeDigest(composeTree));
    expect(fs.existsSync(report)).toBe(true);
  });
});

describe('the production preview and sync', () => {
  const input = (o: Partial<{ source: string; target: string; reportFile: string }>) => ({ source: staging, target: production, reportFile: report, guard: { maxDeleteShare: 1 }, allowLargeDeletion: true, ...o });

  it('refuse a target that is the production root, another SIG than the source, or a folder elsewhere', async () => {
    for (const target of [site.productionRoot, productionCategory(site), productionSigDir(site, '9', 'cloud'), outside, `${production}/../../../../../../../outside`]) {
      await expectRefused(() => env.run(acts.previewProduction, input({ target })), target);
      await expectRefused(() => env.run(acts.syncToProduction, input({ target })), target);
    }
  });

  it('refuse a source outside the staging SIG folders, and a report file outside the compose root', async () => {
    for (const source of [outside, composeTree, site.stagingRoot]) {
      await expectRefused(() => env.run(acts.syncToProduction, input({ source })), source);
    }
    await expectRefused(() => env.run(acts.previewProduction, input({ reportFile: `${outside}/r.txt` })), `${outside}/r.txt`);
  });

  it('refuse a symlink planted in the production root that points out', async () => {
    const category = productionCategory(site);
    fs.rmSync(category, { recursive: true });
    fs.mkdirSync(`${outside}/9/core`, { recursive: true });
    fs.symlinkSync(outside, category);
    await expectRefused(() => env.run(acts.syncToProduction, input({})), production);
    expect(fs.readdirSync(`${outside}/9/core`)).toEqual([]);
  });

  it('promote staging when every path is the one the site gives', async () => {
    const preview: Awaited<ReturnType<typeof acts.previewProduction>> = await env.run(acts.previewProduction, input({}));
    expect(preview.source).toBe(staging);
    await env.run(acts.syncToProduction, input({}));
    expect(await treeDigest(production)).toEqual(await treeDigest(staging));
  });
});

describe('the hardlink pass and the file lists', () => {
  it('hardlink refuses anything but a release folder of production', async () => {
    for (const d of ['/', site.productionRoot, productionCategory(site), production, outside, `${productionReleaseDir(site, '9')}/../../../../..`]) {
      await expectRefused(() => env.run(acts.hardlinkRelease, { dir: d }), d);
    }
  });

  it('file lists refuse any folder but the production root and its SIG category', async () => {
    for (const d of [outside, production, site.stagingRoot, `${productionCategory(site)}/../../../../outside`]) {
      await expectRefused(() => env.run(acts.publishFileLists, { dir: d, module: 'sig' }), d);
    }
    expect(fs.readdirSync(outside).sort()).toEqual(['etc', 'keep-me.txt']);
  });

  it('file lists refuse a category reached through a planted symlink', async () => {
    const category = productionCategory(site);
    fs.rmSync(path.join(site.productionRoot, 'mirror'), { recursive: true });
    fs.mkdirSync(`${outside}/pub/sig`, { recursive: true });
    fs.symlinkSync(outside, path.join(site.productionRoot, 'mirror'));
    await expectRefused(() => env.run(acts.publishFileLists, { dir: category, module: 'sig' }), category);
    expect(fs.readdirSync(`${outside}/pub/sig`)).toEqual([]);
  });

  it('publishes the lists at the rocky category (an optional level), and refuses its neighbours', async () => {
    const rocky = path.join(site.productionRoot, 'mirror', 'pub', 'rocky');
    fs.mkdirSync(rocky, { recursive: true });
    const r = await env.run(acts.publishFileLists, { dir: rocky, module: 'rocky', aliases: ['fullfiletimelist', 'fullfiletimelist-rocky-linux'] });
    expect(r).toBeTruthy();
    expect(fs.existsSync(path.join(rocky, 'fullfiletimelist-rocky-linux'))).toBe(true);
    for (const d of [path.join(site.productionRoot, 'mirror', 'pub'), path.join(site.productionRoot, 'mirror', 'pub', 'rocky2'), path.join(rocky, '9')]) {
      await expectRefused(() => env.run(acts.publishFileLists, { dir: d, module: 'rocky' }), d);
    }
  });

  it('publishes the lists at the category of production', async () => {
    const r = await env.run(acts.publishFileLists, { dir: productionCategory(site), module: 'sig' });
    expect(r).toBeTruthy();
    expect(fs.existsSync(path.join(productionCategory(site), 'fullfiletimelist-sig'))).toBe(true);
  });
});
