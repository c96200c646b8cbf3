// Compose planning against the seed scenarios (reference/seed-systems.md §8, 2 and 4–9), with our fixes.
import { describe, expect, it } from 'vitest';
import { releaseRequestSchema, type ReleaseRequestInput, type SiteConfig } from '../../src/config/schema.js';
import { ConfigError, loadCatalogue, parseSite, resolveSigRelease } from '../../src/config/load.js';
import { planCompose, planTasks } from '../../src/compose/plan.js';
import { describeComposePlan } from '../../src/compose/report.js';

const STAMP = '20260217.101500';
const CORE9 = '47e0b4a8-84ba-43a9-bb94-eb99dde4cf14';
const YUMREPOFS = 'https://yumrepofs.build.resf.org/v1/projects';
const catalogue = loadCatalogue();

function siteWith(over: Record<string, unknown> = {}): SiteConfig {
  return parseSite({
    composeRoot: '/mnt/compose',
    stagingRoot: '/mnt/repos-staging',
    productionRoot: '/mnt/repos-production',
    repoBaseUrl: YUMREPOFS,
    releases: { '8': { revision: '8.10' }, '9': { revision: '9.7' }, '10': { revision: '10.0' } },
    ...over,
  });
}
const site = siteWith();

function plan(req: Partial<ReleaseRequestInput> = {}, s: SiteConfig = site) {
  const request = releaseRequestSchema.parse({ release: '9', sig: 'core', ...req });
  return planCompose(request, resolveSigRelease(catalogue, s, request.sig, request.release), s, STAMP);
}
const names = (p: ReturnType<typeof plan>) => planTasks(p).map((t) => t.name);
const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x'];

describe('planCompose: batches and tasks', () => {
  it('plans core 9 as two batches of nine tasks in config order: per arch binary then debug, then source (scenario 5)', () => {
    const p = plan();
    expect(p.batches.map((b) => b.map((t) => t.name))).toEqual(
      ['core-common', 'core-infra'].map((r) => [...ARCHES.flatMap((a) => [`${r}-${a}`, `${r}-debug-${a}`]), `${r}-source`]),
    );
    expect(p.composeId).toBe(`core-9-${STAMP}`);
    expect(p.revision).toBe('9.7');
    expect(p.warnings).toEqual([]);
  });

  it.each([
    [{ ignoreDebug: true, ignoreSource: false }, 5],
    [{ ignoreDebug: false, ignoreSource: true }, 8],
    [{ ignoreDebug: true, ignoreSource: true }, 4],
  ])('counts tasks per repo with %o (scenario 6)', (flags, perRepo) => {
    const p = plan(flags);
    expect(p.batches.map((b) => b.length)).toEqual([perRepo, perRepo]);
    expect(planTasks(p).some((t) => t.kind === 'debug')).toBe(!flags.ignoreDebug);
    expect(planTasks(p).some((t) => t.kind === 'source')).toBe(!flags.ignoreSource);
  });

  it('names tasks, logs and folders as the seed does (scenario 9)', () => {
    const tasks = new Map(planTasks(plan()).map((t) => [t.name, t]));
    expect(tasks.get('core-common-x86_64')).toMatchObject({ kind: 'binary', arch: 'x86_64', repoId: 'core-common', relDir: 'x86_64/core-common', logName: 'core-common-x86_64.log' });
    expect(tasks.get('core-common-debug-x86_64')).toMatchObject({ kind: 'debug', arch: 'x86_64', repoId: 'core-common-debug', relDir: 'x86_64/core-common-debug', logName: 'core-common-x86_64-debug.log' });
    expect(tasks.get('core-common-source')).toMatchObject({ kind: 'source', arch: 'source', repoId: 'core-common-source', relDir: 'source/core-common', logName: 'core-common-source.log' });
    // Our dnf config has one section per task (concrete URL per arch), so the section is the task name.
    for (const t of tasks.values()) expect(t.section).toBe(t.name);
  });

  it('places tasks under <compose>/compose/9/core and logs under work/logs/<stamp> (scenario 9)', () => {
    const report = describeComposePlan(plan(), `/mnt/compose/9/SIG-core-9.7-${STAMP}`);
    const byName = new Map(report.tasks.map((t) => [t.name, t]));
    const root = `/mnt/compose/9/SIG-core-9.7-${STAMP}`;
    expect(byName.get('core-common-x86_64')).toMatchObject({ destination: `${root}/compose/9/core/x86_64/core-common`, log: `${root}/work/logs/${STAMP}/core-common-x86_64.log` });
    expect(byName.get('core-common-debug-x86_64')).toMatchObject({ destination: `${root}/compose/9/core/x86_64/core-common-debug`, log: `${root}/work/logs/${STAMP}/core-common-x86_64-debug.log` });
    expect(byName.get('core-common-source')).toMatchObject({ destination: `${root}/compose/9/core/source/core-common`, log: `${root}/work/logs/${STAMP}/core-common-source.log` });
  });
});

describe('planCompose: yumrepofs URLs (scenario 2, 4)', () => {
  it('uses hashed-<repo> with --hashed for all three kinds', () => {
    const t = new Map(planTasks(plan({ hashed: true })).map((x) => [x.name, x.baseUrl]));
    expect(t.get('core-common-x86_64')).toBe(`${YUMREPOFS}/${CORE9}/repo/hashed-core-common/x86_64`);
    expect(t.get('core-common-debug-x86_64')).toBe(`${YUMREPOFS}/${CORE9}/repo/hashed-core-common/x86_64-debug`);
    expect(t.get('core-common-source')).toBe(`${YUMREPOFS}/${CORE9}/repo/hashed-core-common/src`);
  });

  it('has no hashed- prefix without --hashed', () => {
    const t = new Map(planTasks(plan()).map((x) => [x.name, x.baseUrl]));
    expect(t.get('core-infra-aarch64')).toBe(`${YUMREPOFS}/${CORE9}/repo/core-infra/aarch64`);
    expect(t.get('core-infra-source')).toBe(`${YUMREPOFS}/${CORE9}/repo/core-infra/src`);
  });

  it('refuses a repoBaseUrl that is a bare path', () => {
    expect(() => siteWith({ repoBaseUrl: '/srv/yumrepofs' })).toThrow(/repoBaseUrl: must be an http\(s\):\/\/ or file:\/\/ URL/);
  });

  it('lets one repo override the project id, for that repo only', () => {
    const cat = structuredClone(catalogue);
    cat['core']!.releases['9']!.repos['core-infra']!.projectId = 'infra-project';
    const request = releaseRequestSchema.parse({ release: '9', sig: 'core' });
    const p = planCompose(request, resolveSigRelease(cat, site, 'core', '9'), site, STAMP);
    const t = new Map(planTasks(p).map((x) => [x.name, x.baseUrl]));
    expect(t.get('core-infra-x86_64')).toBe(`${YUMREPOFS}/infra-project/repo/core-infra/x86_64`);
    expect(t.get('core-common-x86_64')).toBe(`${YUMREPOFS}/${CORE9}/repo/core-common/x86_64`);
  });

  it('applies the site URL rewrites to keys and extra files, not to yumrepofs', () => {
    const s = siteWith({ urlRewrites: [{ from: 'https://git.rockylinux.org/staging/src/', to: 'http://127.0.0.1:9/git/' }] });
    const p = plan({ fullRun: true }, s);
    expect(p.gpgKeys).toEqual(['http://127.0.0.1:9/git/rocky-release-core/-/raw/r9/SOURCES/RPM-GPG-KEY-Rocky-SIG-Core']);
    expect(p.extraFiles).toEqual({ baseUrl: 'http://127.0.0.1:9/git/rocky-release-core/-/raw/r9/', files: ['SOURCES/RPM-GPG-KEY-Rocky-SIG-Core'] });
    expect(planTasks(p)[0]!.baseUrl.startsWith(YUMREPOFS)).toBe(true);
  });
});

describe('planCompose: --arch (scenario 7, fixed)', () => {
  it('keeps x86_64 binary and debug, and still syncs the sources (the seed dropped them silently), with a warning', () => {
    const p = plan({ arches: ['x86_64'] });
    expect(p.batches.map((b) => b.map((t) => t.name))).toEqual([
      ['core-common-x86_64', 'core-common-debug-x86_64', 'core-common-source'],
      ['core-infra-x86_64', 'core-infra-debug-x86_64', 'core-infra-source'],
    ]);
    expect(p.warnings.join('\n')).toMatch(/--arch does not skip the source repos.*--ignore-source/);
  });

  it('syncs only x86_64 with --arch x86_64 --ignore-source', () => {
    expect(names(plan({ arches: ['x86_64'], ignoreSource: true }))).toEqual(['core-common-x86_64', 'core-common-debug-x86_64', 'core-infra-x86_64', 'core-infra-debug-x86_64']);
  });

  it('plans exactly one source task per repo for --arch source (the seed planned it twice)', () => {
    expect(names(plan({ arches: ['source'] }))).toEqual(['core-common-source', 'core-infra-source']);
    expect(names(plan({ arches: ['source', 'source'] }))).toEqual(['core-common-source', 'core-infra-source']);
  });

  it('keeps the repo arch order whatever order --arch lists', () => {
    expect(names(plan({ arches: ['s390x', 'x86_64'], ignoreDebug: true, ignoreSource: true }))).toEqual([
      'core-common-x86_64', 'core-common-s390x', 'core-infra-x86_64', 'core-infra-s390x',
    ]);
  });

  it('rejects an arch no selected repo allows, naming it and the allowed ones (stricter than the seed)', () => {
    expect(() => plan({ sig: 'desktop', arches: ['ppc64le'] })).toThrow(ConfigError);
    expect(() => plan({ sig: 'desktop', arches: ['x86_64', 'ppc64le'] })).toThrow(/arch "ppc64le" is not allowed for desktop 9 \(repos desktop-common\); allowed: x86_64, aarch64/);
  });

  it('skips an arch for a repo that does not allow it when another repo does, and says so', () => {
    const p = plan({ sig: 'cloud', arches: ['s390x'], ignoreSource: true });
    expect(names(p)).toEqual(['cloud-common-s390x', 'cloud-common-debug-s390x']);
    expect(p.warnings).toContain('cloud-kernel does not allow s390x; skipped for that repo (allowed: aarch64, x86_64)');
  });

  it('refuses a plan with nothing left to sync', () => {
    expect(() => plan({ arches: ['source'], ignoreSource: true })).toThrow(/nothing to sync for core 9/);
  });
});

describe('planCompose: --repo (scenario 8)', () => {
  it('plans only core-infra with --repo core-infra in place', () => {
    expect(plan({ repos: ['core-infra'] }).batches.map((b) => b[0]!.repo)).toEqual(['core-infra']);
  });

  it('plans both repos, in config order, for --repo core-infra,core-common', () => {
    expect(plan({ repos: ['core-infra', 'core-common'] }).batches.map((b) => b[0]!.repo)).toEqual(['core-common', 'core-infra']);
  });

  it('rejects an unknown repo, listing the known ones', () => {
    expect(() => plan({ repos: ['bogus'] })).toThrow('unknown repo "bogus" for core 9; known: core-common, core-infra');
  });

  it('ignores --repo on a full run with a warning and plans every repo', () => {
    const p = plan({ repos: ['core-infra'], fullRun: true });
    expect(p.batches.map((b) => b[0]!.repo)).toEqual(['core-common', 'core-infra']);
    expect(p.warnings).toContain('--repo core-infra is ignored on a full run: a full run syncs every repo (core-common, core-infra)');
  });
});

describe('planCompose: checks, extra files and options', () => {
  it('combines the site defaults with --disable-gpg-check / --disable-repo-gpg-check', () => {
    expect(plan()).toMatchObject({ gpgCheck: true, repoGpgCheck: true });
    expect(plan({ disableGpgCheck: true })).toMatchObject({ gpgCheck: false, repoGpgCheck: true });
    expect(plan({ disableRepoGpgCheck: true })).toMatchObject({ gpgCheck: true, repoGpgCheck: false });
    const off = siteWith({ compose: { gpgCheck: false, repoGpgCheck: false } });
    expect(plan({}, off)).toMatchObject({ gpgCheck: false, repoGpgCheck: false });
  });

  it('refuses signature checking when the SIG lists no keys', () => {
    const cat = structuredClone(catalogue);
    cat['core']!.releases['9']!.gpgKeys = [];
    const request = releaseRequestSchema.parse({ release: '9', sig: 'core' });
    expect(() => planCompose(request, resolveSigRelease(cat, site, 'core', '9'), site, STAMP)).toThrow(/core 9 has no gpgKeys but GPG checking is on/);
  });

  it('deploys extra files on a full run and with --refresh-extra-files, not otherwise', () => {
    expect(plan({ fullRun: true }).deployExtraFiles).toBe(true);
    expect(plan({ refreshExtraFiles: true }).deployExtraFiles).toBe(true);
    expect(plan().deployExtraFiles).toBe(false);
    expect(plan({ fullRun: true, refreshExtraFiles: true }).warnings.join()).toMatch(/--refresh-extra-files has no effect on a full run/);
  });

  it('carries the other flags and the site limits into the plan', () => {
    const p = plan({ hashed: true, cleanOldPackages: true, dryRun: true, requestedBy: 'alice' }, siteWith({ compose: { parallelism: 3, repoclosure: true } }));
    expect(p).toMatchObject({ hashed: true, cleanOldPackages: true, dryRun: true, fullRun: false, parallelism: 3, repoclosure: true });
    expect(p.options).toMatchObject({ hashed: true, cleanOldPackages: true, dryRun: true, requestedBy: 'alice', repos: null, arches: null });
  });

  it('runs repoclosure when the site or the request asks for it (the seed\'s --repoclosure did nothing)', () => {
    expect(plan().repoclosure).toBe(false);
    expect(plan({ repoclosure: true })).toMatchObject({ repoclosure: true, options: { repoclosure: true } });
    expect(plan({}, siteWith({ compose: { repoclosure: true } }))).toMatchObject({ repoclosure: true, options: { repoclosure: false } });
    const lookaside = [{ name: 'baseos', baseUrl: 'https://dl.rockylinux.org/pub/rocky/$releasever/BaseOS/$basearch/os/' }];
    expect(plan({ repoclosure: true }, siteWith({ compose: { repoclosureLookaside: lookaside } })).repoclosureLookaside).toEqual(lookaside);
  });

  it('refuses --full-run with --dry-run and a malformed stamp', () => {
    const request = { ...releaseRequestSchema.parse({ release: '9', sig: 'core' }), fullRun: true, dryRun: true };
    const resolved = resolveSigRelease(catalogue, site, 'core', '9');
    expect(() => planCompose(request, resolved, site, STAMP)).toThrow(/cannot be combined/);
    expect(() => planCompose({ ...request, dryRun: false }, resolved, site, '2026-02-17')).toThrow(/must look like 20260217.101500/);
  });

  it('refuses repos whose tasks would share a name and a folder', () => {
    const cat = structuredClone(catalogue);
    cat['core']!.releases['9']!.repos = { foo: { arches: ['x86_64'] }, 'foo-debug': { arches: ['x86_64'] } };
    const request = releaseRequestSchema.parse({ release: '9', sig: 'core' });
    expect(() => planCompose(request, resolveSigRelease(cat, site, 'core', '9'), site, STAMP)).toThrow('core 9: the debug task of repo foo and the binary task of repo foo-debug would share the name "foo-debug-x86_64"; rename one of the repos');
  });
});
