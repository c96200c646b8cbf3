import { describe, expect, it } from 'vitest';
import { bytesFreed, parseComposeFolder, planPrune, protectedComposes, stampOf, stampsNamedIn } from '../../src/retention/plan.js';
import { pruneTargets } from '../../src/retention/targets.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';

const folder = (day: number) => parseComposeFolder(`SIG-core-9.7-202611${String(day).padStart(2, '0')}.020000`, 'core')!;

describe('parseComposeFolder', () => {
  it('reads dated composes of the SIG, any revision, and nothing else', () => {
    expect(parseComposeFolder('SIG-core-9.6-20261101.020000', 'core')).toEqual({ name: 'SIG-core-9.6-20261101.020000', stamp: '20261101.020000' });
    expect(parseComposeFolder('SIG-core-extra-9.6-20261101.020000', 'core')).toBeNull();
    expect(parseComposeFolder('latest-SIG-core-9', 'core')).toBeNull();
    expect(parseComposeFolder('SIG-core-9.6-20261101.020000.tmp', 'core')).toBeNull();
    expect(parseComposeFolder('SIG-c.re-9.6-20261101.020000', 'c.re')?.stamp).toBe('20261101.020000');
    expect(parseComposeFolder('SIG-cxre-9.6-20261101.020000', 'c.re')).toBeNull();
  });
});

describe('protectedComposes', () => {
  it('takes the stamp from a folder path, a compose ID or a marker line, with every reason', () => {
    const p = protectedComposes({
      latest: '/mnt/compose/9/SIG-core-9.7-20261103.020000',
      staging: 'core-9-20261102.020000',
      production: 'SIG-core-9.7-20261102.020000 promoted by run x',
      running: ['20261101.020000', 'nothing here'],
    });
    expect(Object.fromEntries(p)).toEqual({
      '20261103.020000': ['latest'],
      '20261102.020000': ['staging', 'production'],
      '20261101.020000': ['running'],
    });
  });
  it('protects nothing for absent markers', () => {
    expect(protectedComposes({ latest: null, staging: null, production: null, running: [] }).size).toBe(0);
    expect(stampOf('')).toBeNull();
  });
});

describe('planPrune', () => {
  const seven = [3, 1, 7, 5, 2, 6, 4].map(folder);
  it('keeps the newest `keep` and removes the rest, oldest first', () => {
    const plan = planPrune(seven, 5, new Map());
    expect(plan.kept.map((k) => k.stamp.slice(6, 8))).toEqual(['07', '06', '05', '04', '03']);
    expect(plan.removed.map((r) => r.stamp.slice(6, 8))).toEqual(['01', '02']);
  });
  it('keeps an old compose that something uses, whatever keep says', () => {
    const plan = planPrune(seven, 1, protectedComposes({ latest: folder(6).name, staging: folder(2).name, production: null, running: ['20261101.020000'] }));
    expect(plan.kept.map((k) => [k.stamp.slice(6, 8), k.reasons])).toEqual([
      ['07', ['newest']],
      ['06', ['latest']],
      ['02', ['staging']],
      ['01', ['running']],
    ]);
    expect(plan.removed.map((r) => r.stamp.slice(6, 8))).toEqual(['03', '04', '05']);
  });
  it('refuses to keep nothing', () => {
    expect(() => planPrune(seven, 0, new Map())).toThrow(/at least 1/);
  });
});

describe('stampsNamedIn', () => {
  it('finds the compose child ID and any compose a status names, once each', () => {
    const status = { composeWorkflowId: 'sigrelease-core-9-compose-20261104.020000', rollback: { composeId: 'core-9-20261101.020000' }, stageSince: '2026-11-04T02:00:00.000Z', again: '20261104.020000' };
    expect(stampsNamedIn(status).sort()).toEqual(['20261101.020000', '20261104.020000']);
  });
});

describe('bytesFreed', () => {
  it('counts an inode only when all its links go, once however many links go', () => {
    const r = bytesFreed([
      { dev: 1, ino: 10, nlink: 1, size: 100 }, // only here: freed
      { dev: 1, ino: 11, nlink: 2, size: 1000 }, // one of two links: still used elsewhere
      { dev: 1, ino: 12, nlink: 2, size: 10 }, // both links go (two removed composes share it): freed once
      { dev: 1, ino: 12, nlink: 2, size: 10 },
      { dev: 2, ino: 10, nlink: 1, size: 5 }, // same inode number, other file system
    ]);
    expect(r).toEqual({ bytes: 115, files: 3, sharedFiles: 1 });
  });
});

describe('pruneTargets', () => {
  const catalogue = loadCatalogue();
  const site = parseSite(localSiteRaw('/tmp/sigrelease-prune-unit', { repoBaseUrl: 'http://127.0.0.1:1/projects' }), 'unit site');
  it('names one SIG and release, or every pair the catalogue and site know', () => {
    expect(pruneTargets(catalogue, site, { release: '9', sig: 'core' })).toEqual([{ release: '9', sig: 'core' }]);
    const all = pruneTargets(catalogue, site, {});
    expect(all.length).toBeGreaterThan(1);
    expect(all.every((t) => catalogue[t.sig]?.releases[t.release] && site.releases[t.release])).toBe(true);
  });
  it('refuses bad input naming the value', () => {
    expect(() => pruneTargets(catalogue, site, { release: '9' })).toThrow(/both the release and the SIG/);
    expect(() => pruneTargets(catalogue, site, { release: '../9', sig: 'core' })).toThrow(/"\.\.\/9"/);
    expect(() => pruneTargets(catalogue, site, { release: '9', sig: 'co/re' })).toThrow(/"co\/re"/);
    expect(() => pruneTargets(catalogue, site, { release: '9', sig: 'cor' })).toThrow(/unknown SIG "cor"/);
    expect(() => pruneTargets(catalogue, site, { release: '9', sig: 'core', dryRun: 'yes' })).toThrow(/dryRun/);
  });
});
