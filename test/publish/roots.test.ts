// Roots that are what they claim to be (issue 12 item 6): distinct, not nested, each carrying a marker written
// once by `sigrelease init-roots`; a root without its marker (an unmounted share) or with another root's marker
// (a typo) is refused before anything is written.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { ConfigError, loadCatalogue, parseSite } from '../../src/config/load.js';
import { checkRootMarker, initRoots, rootLayoutProblems, ROOT_MARKER_FILE, RootMarkerError } from '../../src/config/roots.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { packages, removeDir, tempDir, treeDigest, writeFakeRepo } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/sigrelease', import.meta.url));

let dir: string;
let site: SiteConfig;
const rootsIn = (d: string) => ({ composeRoot: `${d}/compose`, stagingRoot: `${d}/staging`, productionRoot: `${d}/production` });
const siteFor = (roots: Record<string, string>) => parseSite({ ...roots, repoBaseUrl: 'http://127.0.0.1:9/unused', releases: { '9': { revision: '9.7' } } });

beforeEach(async () => {
  dir = await tempDir('roots');
  site = siteFor(rootsIn(dir));
});
afterEach(() => removeDir(dir));

describe('the site config refuses roots that are not distinct or are nested', () => {
  it('accepts three sibling roots, whatever their common prefix', () => {
    expect(rootLayoutProblems({ composeRoot: '/mnt/compose', stagingRoot: '/mnt/compose-staging', productionRoot: '/mnt/compose2' })).toEqual([]);
  });

  it('names the two roots that are the same folder (trailing slashes and doubled slashes do not hide it)', () => {
    expect(rootLayoutProblems({ composeRoot: '/mnt/c', stagingRoot: '/mnt/repos/', productionRoot: '/mnt//repos' })).toEqual([
      'stagingRoot and productionRoot are the same folder (/mnt/repos); each root needs its own',
    ]);
  });

  it('names a root inside another, and loading such a site config fails with the field and the reason', () => {
    const nested = { composeRoot: '/srv/compose', stagingRoot: '/srv/repos', productionRoot: '/srv/repos/production' };
    expect(rootLayoutProblems(nested)).toEqual(['productionRoot /srv/repos/production is inside stagingRoot /srv/repos; roots must not be nested']);
    expect(() => siteFor(nested)).toThrow(ConfigError);
    expect(() => siteFor(nested)).toThrow('site config: roots: productionRoot /srv/repos/production is inside stagingRoot /srv/repos');
    expect(() => siteFor({ ...nested, composeRoot: '/' })).toThrow(/stagingRoot \/srv\/repos is inside composeRoot \//);
  });
});

describe('initRoots and checkRootMarker', () => {
  it('creates and marks each root once; a second run keeps the markers as they are', () => {
    expect(() => checkRootMarker(site.stagingRoot, 'staging')).toThrow(RootMarkerError);
    fs.mkdirSync(site.productionRoot, { recursive: true });
    const first = initRoots(site, () => new Date('2026-11-30T12:00:00Z'));
    expect(first.map((r) => [r.kind, r.action])).toEqual([
      ['compose', 'created'],
      ['staging', 'created'],
      ['production', 'marked'],
    ]);
    const marker = fs.readFileSync(path.join(site.productionRoot, ROOT_MARKER_FILE), 'utf8');
    expect(marker.split('\n')[0]).toBe('production');
    for (const kind of ['compose', 'staging', 'production'] as const) expect(() => checkRootMarker(site[`${kind}Root`], kind)).not.toThrow();

    const second = initRoots(site, () => new Date('2027-01-01T00:00:00Z'));
    expect(second.map((r) => r.action)).toEqual(['kept', 'kept', 'kept']);
    expect(fs.readFileSync(path.join(site.productionRoot, ROOT_MARKER_FILE), 'utf8')).toBe(marker);
  });

  it('refuses a folder marked as another root, before it marks any root', () => {
    initRoots(site);
    // A typo: the site now names the staging share as its production root.
    const swapped = siteFor({ composeRoot: `${dir}/compose2`, stagingRoot: `${dir}/staging2`, productionRoot: site.stagingRoot });
    expect(() => initRoots(swapped)).toThrow(`${site.stagingRoot} is marked as the staging root, but the site config uses it as the production root (productionRoot)`);
    expect(fs.existsSync(`${dir}/compose2`)).toBe(false);
    expect(fs.existsSync(`${dir}/staging2`)).toBe(false);
  });

  it('says what is wrong and how to fix it: no marker (an unmounted share), a wrong marker, a marker that names nothing', () => {
    fs.mkdirSync(site.productionRoot, { recursive: true });
    expect(() => checkRootMarker(site.productionRoot, 'production')).toThrow(
      new RegExp(`the production root ${site.productionRoot} has no \\.sigrelease-root marker .*is the share unmounted.*run \`sigrelease init-roots\``),
    );
    fs.writeFileSync(path.join(site.productionRoot, ROOT_MARKER_FILE), 'compose\n');
    expect(() => checkRootMarker(site.productionRoot, 'production')).toThrow(/is marked as the compose root, but the site config uses it as the production root/);
    fs.writeFileSync(path.join(site.productionRoot, ROOT_MARKER_FILE), 'prod\n');
    expect(() => checkRootMarker(site.productionRoot, 'production')).toThrow(/does not name a root \(expected "production" on its first line\)/);
  });
});

describe('activities refuse a root without its marker before they write anything', () => {
  const catalogue = loadCatalogue();
  const env = new MockActivityEnvironment();
  const failureOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ApplicationFailure);

  async function stagedRelease() {
    initRoots(site);
    const staging = path.join(site.stagingRoot, 'mirror/pub/sig/9/core');
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 10, '1.0'), 'v1');
    return { staging, production: path.join(site.productionRoot, 'mirror/pub/sig/9/core') };
  }

  it('an unmounted production share (its marker gone): no production sync, no hardlink, no file lists, no preview', async () => {
    const acts = createActivities({ site, catalogue });
    const { staging, production } = await stagedRelease();
    fs.rmSync(path.join(site.productionRoot, ROOT_MARKER_FILE));
    const input = { source: staging, target: production, reportFile: path.join(dir, 'report.txt'), guard: { maxDeleteShare: 0.1 } };
    for (const p of [
      env.run(acts.syncToProduction, input),
      env.run(acts.previewProduction, input),
      env.run(acts.hardlinkRelease, { dir: path.join(site.productionRoot, 'mirror/pub/sig/9') }),
      env.run(acts.publishFileLists, { dir: path.join(site.productionRoot, 'mirror/pub/sig'), module: 'sig', owner: null }),
    ]) {
      const f = await failureOf(p);
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f!.type).toBe('RootMarkerMismatch');
      expect(f!.nonRetryable).toBe(true);
      expect(f!.message).toContain(`the production root ${site.productionRoot} has no .sigrelease-root marker`);
    }
    expect(fs.readdirSync(site.productionRoot)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'report.txt'))).toBe(false);
  });

  it('production and staging mixed up in the site config: the staging sync writes nothing into the production tree', async () => {
    const { production } = await stagedRelease();
    const compose = path.join(site.composeRoot, '9/SIG-core-9.7-x/compose/9/core');
    await writeFakeRepo(compose, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 20, '2.0'), 'v2');
    await writeFakeRepo(production, 'x86_64/core-common', 'x86_64', packages('pkg', 0, 10, '1.0'), 'v1');
    const before = await treeDigest(site.productionRoot);
    const typo = parseSite({ ...site, stagingRoot: site.productionRoot, productionRoot: `${dir}/elsewhere` });
    const acts = createActivities({ site: typo, catalogue });
    const f = await failureOf(
      env.run(acts.syncToStaging, { source: compose, target: path.join(typo.stagingRoot, 'mirror/pub/sig/9/core'), reportFile: path.join(dir, 'r.txt') }),
    );
    expect(f?.type).toBe('RootMarkerMismatch');
    expect(f?.message).toContain(`${site.productionRoot} is marked as the production root, but the site config uses it as the staging root`);
    expect(await treeDigest(site.productionRoot)).toEqual(before);
  });

  it('the first write of a run (prepareCompose) checks all three roots', async () => {
    initRoots(site);
    fs.rmSync(path.join(site.stagingRoot, ROOT_MARKER_FILE));
    const acts = createActivities({ site, catalogue });
    const f = await failureOf(env.run(acts.prepareCompose, { plan: { fullRun: true } as never, roots: site }));
    expect(f?.type).toBe('RootMarkerMismatch');
    expect(f?.message).toContain(`the staging root ${site.stagingRoot} has no .sigrelease-root marker`);
    expect(fs.readdirSync(site.composeRoot)).toEqual([ROOT_MARKER_FILE]);
  });
});

describe('sigrelease init-roots', () => {
  it('marks the roots of the site config; a mixed-up site exits 2 with the fix and no stack trace', async () => {
    const siteFile = path.join(dir, 'site.yaml');
    fs.writeFileSync(siteFile, YAML.stringify(site));
    const first = await execa(BIN, ['--site', siteFile, 'init-roots'], { reject: false });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(`compose    ${site.composeRoot}: created and marked`);
    fs.writeFileSync(siteFile, YAML.stringify({ ...site, composeRoot: site.productionRoot, productionRoot: site.composeRoot }));
    const mixed = await execa(BIN, ['--site', siteFile, 'init-roots'], { reject: false });
    expect(mixed.exitCode).toBe(2);
    expect(mixed.stderr).toContain(`${site.productionRoot} is marked as the production root, but the site config uses it as the compose root`);
    expect(mixed.stderr).not.toMatch(/\n\s+at /);
  });
});
