// The per-run dnf config (seed scenario 3, and the isolation the seed lacked: §7 risk 6).
import { core9Plan } from './support.js';
import { describe, expect, it } from 'vitest';
import { renderDnfConfig, renderLocalRepoConfig, type DnfIsolation } from '../../src/compose/dnfConfig.js';

const plan = core9Plan;
const dirs: DnfIsolation = { cacheDir: '/c/work/dnf/s/cache', logDir: '/c/work/dnf/s/log', persistDir: '/c/work/dnf/s/persist', reposDir: '/c/work/dnf/s/no-repos.d' };

/** INI text → ordered sections of key/value maps. */
function parseIni(text: string): [string, Record<string, string>][] {
  const out: [string, Record<string, string>][] = [];
  for (const line of text.split('\n')) {
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) out.push([sec[1]!, {}]);
    else if (/^[a-z_]+=/.test(line) && out.length) {
      const i = line.indexOf('=');
      out[out.length - 1]![1][line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return out;
}

describe('renderDnfConfig', () => {
  it('isolates dnf in [main]: own cache, logs, persist dir, no system repo files, no skipping an unreachable repo', () => {
    const main = parseIni(renderDnfConfig(plan(), dirs))[0]!;
    expect(main[0]).toBe('main');
    expect(main[1]).toMatchObject({
      cachedir: dirs.cacheDir,
      logdir: dirs.logDir,
      persistdir: dirs.persistDir,
      reposdir: dirs.reposDir,
      keepcache: '0',
      skip_if_unavailable: '0',
      plugins: '1',
    });
  });

  it('writes one section per task, in plan order, with the concrete URL of that task (scenario 3)', () => {
    const p = plan({ hashed: true });
    const sections = parseIni(renderDnfConfig(p, dirs)).slice(1);
    expect(sections.map(([s]) => s)).toEqual(p.batches.flat().map((t) => t.name));
    expect(sections).toHaveLength(18);
    const [name, x86] = sections[0]!;
    expect(name).toBe('core-common-x86_64');
    expect(x86).toEqual({
      name: 'core-common-x86_64',
      baseurl: 'https://yumrepofs.build.resf.org/v1/projects/47e0b4a8-84ba-43a9-bb94-eb99dde4cf14/repo/hashed-core-common/x86_64',
      enabled: '1',
      skip_if_unavailable: '0',
      gpgcheck: '1',
      repo_gpgcheck: '1',
      gpgkey: 'https://git.rockylinux.org/staging/src/rocky-release-core/-/raw/r9/SOURCES/RPM-GPG-KEY-Rocky-SIG-Core',
    });
  });

  it('follows --disable-gpg-check and --disable-repo-gpg-check in every section', () => {
    const sections = parseIni(renderDnfConfig(plan({ disableGpgCheck: true, disableRepoGpgCheck: true }), dirs));
    for (const [, kv] of sections) expect([kv['gpgcheck'], kv['repo_gpgcheck']]).toEqual(['0', '0']);
  });

  it('space-joins several keys, e.g. the local copies prepareCompose fetched', () => {
    const sections = parseIni(renderDnfConfig(plan(), dirs, ['file:///k/one', 'file:///k/two'])).slice(1);
    for (const [, kv] of sections) expect(kv['gpgkey']).toBe('file:///k/one file:///k/two');
  });

  it('refuses a value with a line break rather than writing a broken INI file', () => {
    expect(() => renderDnfConfig(plan(), { ...dirs, cacheDir: '/c\nreposdir=/etc' })).toThrow(/cachedir contains a line break/);
  });
});

describe('renderLocalRepoConfig', () => {
  it('points each section at a synced folder through a file:// URL', () => {
    const sections = parseIni(renderLocalRepoConfig(dirs, [{ section: 'local-core-common-x86_64', dir: '/c/compose/9/core/x86_64/core-common' }]));
    expect(sections[1]).toEqual(['local-core-common-x86_64', expect.objectContaining({ baseurl: 'file:///c/compose/9/core/x86_64/core-common', gpgcheck: '0' })]);
  });
});
