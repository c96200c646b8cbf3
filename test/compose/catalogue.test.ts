// The SIG catalogue in config/sigs/ against the seed's table (reference/seed-systems.md §4).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadCatalogue, parseSite, resolveSigRelease } from '../../src/config/load.js';

const x = 'x86_64', a = 'aarch64', p = 'ppc64le', s = 's390x';
// sig -> release -> [projectId, [repo, arches][]]: the seed table, row by row.
const TABLE: Record<string, Record<string, [string, [string, string[]][]]>> = {
  altarch: {
    '8': ['a1aac235-dd66-4d5b-8ff0-87467732f322', [['altarch-common', [a]], ['altarch-rockyrpi', [a]], ['altarch-devel', [a]]]],
    '9': ['6047887d-a395-4bc7-a0bd-fc1873b5d13d', [['altarch-common', [a]], ['altarch-rockyrpi', [a]], ['altarch-devel', [a]]]],
    '10': ['1a9de2a5-1280-4d69-bdad-8b048d176ea5', [['altarch-common', [a]], ['altarch-rockyrpi', [a]], ['altarch-devel', [a]]]],
  },
  cloud: {
    '8': ['f91da90d-5bdb-4cf2-80ea-e07f8dae5a5c', [['cloud-kernel', [a, x]], ['cloud-common', [a, x]]]],
    '9': ['15016370-1410-4459-a1a2-a1576041fd19', [['cloud-kernel', [a, x]], ['cloud-common', [a, x, p, s]]]],
    '10': ['0e3d85ed-ca12-47af-8279-739625e33268', [['cloud-kernel', [a, x]], ['cloud-common', [a, x, p, s]]]],
  },
  core: {
    '8': ['91e0dd2f-448e-4b75-9066-3946aceb60db', [['core-common', [x, a]], ['core-infra', [x, a]]]],
    '9': ['47e0b4a8-84ba-43a9-bb94-eb99dde4cf14', [['core-common', [x, a, p, s]], ['core-infra', [x, a, p, s]]]],
    '10': ['391b67bf-423d-4192-9a31-749a126ebfca', [['core-common', [x, a, p, s]], ['core-infra', [x, a, p, s]]]],
  },
  desktop: {
    '8': ['8b3c9b53-0633-47bd-98a3-1ca3ec141278', [['desktop-common', [x, a]]]],
    '9': ['b0460c25-22cf-496c-a3a3-067b9a2af14a', [['desktop-common', [x, a]]]],
  },
  fasttrack: {
    '8': ['f809968c-b3ae-49ca-9cbc-8e18c7bde433', [['fasttrack-new', [x, a]], ['fasttrack-updates', [x, a]]]],
    '9': ['1af1c9e8-96a9-4753-9a1a-4b66d65de649', [['fasttrack-new', [x, a, p, s]], ['fasttrack-updates', [x, a, p, s]]]],
    '10': ['ff236e29-03d4-4153-80e0-a9e5f0fb9622', [['fasttrack-new', [x, a, p, s]], ['fasttrack-updates', [x, a, p, s]]]],
  },
  hpc: {
    '8': ['78a2db02-ebe5-4654-9a04-6482eb9c8b84', [['hpc-common', [x, a]], ['hpc-core', [x, a]]]],
    '9': ['aee28795-e163-4a99-935d-f0a78cf33e75', [['hpc-common', [x, a, p, s]], ['hpc-core', [x, a, p, s]]]],
  },
  kernel: {
    '8': ['13172560-6e5d-4e65-ae71-750f99096856', [['kernel-lts', [a, x]], ['kernel-drivers', [a, x]], ['kernel-mainline', [a, x]]]],
    '9': ['708f99fe-7e89-4241-959a-4ff259786b4a', [['kernel-lts', [a, x, p, s]], ['kernel-drivers', [a, x, p, s]], ['kernel-mainline', [a, x, p, s]]]],
  },
  security: {
    '8': ['41baa8a8-7dbe-46fe-9f0b-4e2420372bbc', [['security-common', [x, a]]]],
    '9': ['041a90b2-51f5-44a4-8be8-b2905c1ad95b', [['security-common', [x, a, p, s]]]],
  },
  virt: {
    '8': ['d911867a-658e-4f41-8343-5ceac6c41f67', [['virt-common', [x, a]]]],
    '9': ['925ceece-47ce-4f51-90f7-ff8689e4fe5e', [['virt-common', [x, a, p]]]],
  },
};
const NAMES: Record<string, string> = { altarch: 'AltArch', cloud: 'Cloud', core: 'Core', desktop: 'Desktop', fasttrack: 'FastTrack', hpc: 'HPC', kernel: 'Kernel', security: 'Security', virt: 'Virt' };

const site = parseSite({
  composeRoot: '/mnt/compose',
  stagingRoot: '/mnt/repos-staging',
  productionRoot: '/mnt/repos-production',
  repoBaseUrl: 'https://yumrepofs.build.resf.org/v1/projects',
  releases: { '8': { revision: '8.10' }, '9': { revision: '9.7' }, '10': { revision: '10.0' } },
});

describe('the SIG catalogue (config/sigs)', () => {
  const catalogue = loadCatalogue();

  it('has exactly the SIGs and releases of the seed table', () => {
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(TABLE).sort());
    for (const [sig, releases] of Object.entries(TABLE)) {
      expect(Object.keys(catalogue[sig]!.releases).sort(), sig).toEqual(Object.keys(releases).sort());
    }
  });

  it('keeps every project id, repo and arch of the seed table, in the seed order', () => {
    for (const [sig, releases] of Object.entries(TABLE)) {
      for (const [rel, [projectId, repos]] of Object.entries(releases)) {
        const entry = catalogue[sig]!.releases[rel]!;
        expect(entry.projectId, `${sig} ${rel}`).toBe(projectId);
        expect(Object.entries(entry.repos).map(([r, e]) => [r, e.arches]), `${sig} ${rel}`).toEqual(repos);
      }
    }
  });

  it('takes the key and the extra file from the release branch of rocky-release-<sig>, including cloud 10 and altarch 10', () => {
    for (const [sig, releases] of Object.entries(TABLE)) {
      expect(catalogue[sig]!.name).toBe(NAMES[sig]);
      for (const rel of Object.keys(releases)) {
        const entry = catalogue[sig]!.releases[rel]!;
        const raw = `https://git.rockylinux.org/staging/src/rocky-release-${sig}/-/raw/r${rel}/`;
        expect(entry.gpgKeys, `${sig} ${rel}`).toEqual([`${raw}SOURCES/RPM-GPG-KEY-Rocky-SIG-${NAMES[sig]}`]);
        expect(entry.extraFiles, `${sig} ${rel}`).toEqual({ baseUrl: raw, files: [`SOURCES/RPM-GPG-KEY-Rocky-SIG-${NAMES[sig]}`] });
      }
    }
  });

  it('resolves core 9 to core-common and core-infra on four arches with one key (seed scenario 1)', () => {
    const r = resolveSigRelease(catalogue, site, 'core', '9');
    expect(r.revision).toBe('9.7');
    expect(r.entry.projectId).toBe('47e0b4a8-84ba-43a9-bb94-eb99dde4cf14');
    expect(Object.keys(r.entry.repos)).toEqual(['core-common', 'core-infra']);
    for (const repo of Object.values(r.entry.repos)) expect(repo.arches).toEqual(['x86_64', 'aarch64', 'ppc64le', 's390x']);
    expect(r.entry.gpgKeys).toHaveLength(1);
  });

  it('rejects an unknown SIG or release, listing what exists', () => {
    expect(() => resolveSigRelease(catalogue, site, 'cor', '9')).toThrow(/unknown SIG "cor"; known: altarch, cloud, core/);
    expect(() => resolveSigRelease(catalogue, site, 'desktop', '10')).toThrow(/SIG "desktop" has no release "10"; known for desktop: 8, 9/);
  });
});

describe('a broken SIG file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is rejected naming the file, the field and the reason', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigcat-'));
    fs.copyFileSync(path.join(import.meta.dirname, '../../config/sigs/core.yaml'), path.join(dir, 'core.yaml'));
    const broken = path.join(dir, 'virt.yaml');
    fs.writeFileSync(broken, ['sig: virt', 'name: Virt', 'releases:', '  "9":', '    projectId: p1', '    repos:', '      virt-common:', '        arches: [x86_64, sparc]', ''].join('\n'));
    let err: unknown;
    try {
      loadCatalogue(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(broken);
    expect((err as Error).message).toContain('releases.9.repos.virt-common.arches.1');
    expect((err as Error).message).toMatch(/unknown arch "sparc"; known: x86_64, aarch64/);
  });
});

describe('the catalogue of one SIG (loadCatalogue with only)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function folder(): string {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigcat-'));
    fs.copyFileSync(path.join(import.meta.dirname, '../../config/sigs/core.yaml'), path.join(dir, 'core.yaml'));
    fs.writeFileSync(path.join(dir, 'virt.yaml'), 'sig: virt\nreleases: [not, a, map]\n');
    return dir;
  }

  it('reads that SIG alone: a broken file of another SIG is left to the commands about it', () => {
    const d = folder();
    const one = loadCatalogue(d, ['core']);
    expect(Object.keys(one)).toEqual(['core']);
    expect(one.core!.releases['9']!.projectId).toBe('47e0b4a8-84ba-43a9-bb94-eb99dde4cf14');
    expect(() => loadCatalogue(d, ['virt'])).toThrow(/virt\.yaml/);
    expect(() => loadCatalogue(d)).toThrow(/virt\.yaml/);
  });

  it('names an unknown SIG with the known ones, from the listing, and builds no path from the name', () => {
    const d = folder();
    fs.mkdirSync(path.join(d, 'sub'));
    fs.copyFileSync(path.join(d, 'core.yaml'), path.join(d, 'sub', 'inner.yaml'));
    expect(() => loadCatalogue(d, ['cor'])).toThrow(/unknown SIG "cor"; known: core, virt$/);
    // A name that would reach another file as a path is only ever compared with the folder's file names.
    expect(() => loadCatalogue(path.join(d, 'sub'), ['../core'])).toThrow(/unknown SIG "\.\.\/core"; known: inner$/);
  });

  it('still checks that the file is the SIG it is named after', () => {
    const d = folder();
    fs.writeFileSync(path.join(d, 'core.yaml'), fs.readFileSync(path.join(d, 'core.yaml'), 'utf8').replace('sig: core', 'sig: virt'));
    expect(() => loadCatalogue(d, ['core'])).toThrow(/sig: "virt" does not match the file name "core"/);
  });
});
