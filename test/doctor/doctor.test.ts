// `sigrelease doctor` without a server: tool verdicts from real probes on a PATH we control, the roots and their
// markers on real folders, and the report's wording and verdict.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allWell, check, formatReport } from '../../src/doctor/report.js';
import { checkRoots, ROOT_MARKER, rootMarkerProblem } from '../../src/doctor/roots.js';
import { checkTools, compareVersions, findOnPath, TOOLS, toolVerdict, type ToolSpec } from '../../src/doctor/tools.js';

const tmp = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `sigrelease-doctor-${label}-`));
const spec = (name: string) => TOOLS.find((t) => t.name === name)!;

/** A PATH folder holding links to the real tools, minus `without`. */
function pathWithout(...without: string[]): string {
  const dir = tmp('path');
  for (const program of new Set(TOOLS.flatMap((t) => [t.program, ...(t.versionFrom ? [t.versionFrom.program] : [])]))) {
    if (without.includes(program)) continue;
    const real = findOnPath(program, process.env.PATH);
    if (real) fs.symlinkSync(real, path.join(dir, program));
  }
  return dir;
}

describe('tool checks', () => {
  it('find every tool of this machine, with a version that is new enough', async () => {
    const checks = await checkTools(process.env);
    expect(checks.map((c) => `${c.what} ${c.status}`)).toEqual(TOOLS.map((t) => `${t.name} ok`));
    expect(checks.find((c) => c.what === 'rsync')!.detail).toMatch(/^\d+\.\d+\.\d+ \(\/.*rsync\)$/);
  });

  it('say which tool is missing from PATH, what needs it and how to install it', async () => {
    const dir = pathWithout('rsync', 'createrepo_c');
    const checks = await checkTools({ ...process.env, PATH: dir });
    const rsync = checks.find((c) => c.what === 'rsync')!;
    expect(rsync.status).toBe('fail');
    expect(rsync.detail).toBe(`rsync is not on PATH (${dir}); it is needed for staging and production syncs. Install it: apt-get install rsync`);
    // createrepo_c only builds fixture repositories: missing is worth a warning, not a failure.
    expect(checks.find((c) => c.what === 'createrepo_c')!.status).toBe('warn');
    expect(checks.find((c) => c.what === 'hardlink')!.status).toBe('ok');
    expect(allWell(checks)).toBe(false);
  });

  it('notice dnf without the reposync plugin', async () => {
    const dir = tmp('fake-dnf');
    // A dnf that knows no plugins, as on a host without dnf-plugins-core.
    fs.writeFileSync(path.join(dir, 'dnf'), '#!/bin/sh\nif [ "$1" = "--version" ]; then echo 4.14.0; exit 0; fi\necho "No such command: $1." >&2; exit 1\n', { mode: 0o755 });
    const [dnf, reposync] = await checkTools({ ...process.env, PATH: dir }, [spec('dnf'), spec('dnf reposync')]);
    expect(dnf!.status).toBe('ok');
    expect(reposync!.status).toBe('fail');
    expect(reposync!.detail).toContain('No such command: reposync.');
    expect(reposync!.detail).toContain('apt-get install dnf-plugins-core');
  });

  it('refuse a version older than the minimum, naming both', () => {
    const c = toolVerdict(spec('rsync'), { at: '/usr/bin/rsync', output: 'rsync  version 3.0.9  protocol version 30\n' }, '/usr/bin');
    expect(c).toEqual(check('tools', 'rsync', 'fail', '/usr/bin/rsync is version 3.0.9; 3.1.0 or later is needed for staging and production syncs. Upgrade: apt-get install rsync'));
    expect(toolVerdict(spec('hardlink'), { at: '/x/hardlink', output: 'hardlink from util-linux 2.36\n' }, '/x').status).toBe('ok');
    expect(toolVerdict(spec('ssh-keygen'), { at: '/x/ssh-keygen', output: 'usage: ssh-keygen [-q] ...' }, '/x').status).toBe('fail');
  });

  it('compare dotted versions numerically', () => {
    expect(compareVersions('3.10.0', '3.9')).toBe(1);
    expect(compareVersions('2.36', '2.36.0')).toBe(0);
    expect(compareVersions('0.9', '0.15')).toBe(-1);
  });

  it('find a program only where it is executable', () => {
    const dir = tmp('exec');
    fs.writeFileSync(path.join(dir, 'tool'), '', { mode: 0o644 });
    expect(findOnPath('tool', dir)).toBeNull();
    fs.chmodSync(path.join(dir, 'tool'), 0o755);
    expect(findOnPath('tool', `/nonexistent:${dir}`)).toBe(path.join(dir, 'tool'));
  });

  it('report a probe that could not run instead of hanging or throwing', () => {
    const s: ToolSpec = { ...spec('rsync') };
    expect(toolVerdict(s, { at: '/x/rsync', output: '', error: 'spawnSync /x/rsync ETIMEDOUT' }, '/x')).toMatchObject({ status: 'fail', detail: '/x/rsync did not run: spawnSync /x/rsync ETIMEDOUT' });
  });
});

describe('root checks', () => {
  const site = (base: string) => ({ composeRoot: path.join(base, 'compose'), stagingRoot: path.join(base, 'staging'), productionRoot: path.join(base, 'production') });
  const mark = (dir: string, text: string) => fs.writeFileSync(path.join(dir, ROOT_MARKER), text);

  it('pass writable roots that carry their own marker, and leave nothing behind', () => {
    const roots = site(tmp('roots'));
    for (const [role, dir] of [['compose', roots.composeRoot], ['staging', roots.stagingRoot], ['production', roots.productionRoot]] as const) {
      fs.mkdirSync(dir);
      mark(dir, `${role}\n# written by sigrelease init-roots\n`);
    }
    const checks = checkRoots(roots);
    expect(checks.map((c) => c.status)).toEqual(['ok', 'ok', 'ok']);
    expect(fs.readdirSync(roots.stagingRoot)).toEqual([ROOT_MARKER]);
  });

  it('fail a root that does not exist or is not a folder, naming the config key', () => {
    const base = tmp('roots');
    const roots = site(base);
    fs.mkdirSync(roots.composeRoot);
    fs.writeFileSync(roots.stagingRoot, 'not a folder');
    const [compose, staging, production] = checkRoots(roots);
    expect(compose!.status).toBe('fail'); // exists and writable, not marked yet: activities would refuse it
    expect(compose!.detail).toContain('run `sigrelease init-roots`');
    expect(staging).toMatchObject({ status: 'fail', detail: `${roots.stagingRoot} is not a folder: fix stagingRoot in the site config` });
    expect(production).toMatchObject({ status: 'fail', detail: `${roots.productionRoot} does not exist: mount the share, or fix productionRoot in the site config` });
  });

  it('fail a root marked as another root: two roots mixed up in the site config', () => {
    const dir = tmp('marker');
    mark(dir, 'staging\n');
    expect(rootMarkerProblem(dir, 'production')).toBe('it is marked as the staging root, but the site config uses it as the production root: are two roots mixed up in the site config?');
    mark(dir, '# only a comment\n\nnonsense\n');
    expect(rootMarkerProblem(dir, 'production')).toMatch(/does not name a root \(expected "production"/);
    expect(rootMarkerProblem(tmp('nomarker'), 'compose')).toBe('missing');
  });
});

describe('the report', () => {
  it('lists checks by area and ends with the verdict; warnings do not fail a host', () => {
    const checks = [check('temporal', 'server', 'ok', '127.0.0.1:7233'), check('roots', 'compose root', 'warn', 'not marked'), check('tools', 'rsync', 'ok', '3.2.7')];
    expect(formatReport(checks)).toBe(['tools', '  ok    rsync: 3.2.7', 'roots', '  WARN  compose root: not marked', 'temporal', '  ok    server: 127.0.0.1:7233', 'all is well (1 warning)'].join('\n'));
    expect(allWell(checks)).toBe(true);
    const failed = [...checks, check('temporal', 'workflow worker on q', 'fail', 'nobody polls')];
    expect(allWell(failed)).toBe(false);
    expect(formatReport(failed).split('\n').at(-1)).toBe('1 problem, 1 warning: this host is not ready to run releases');
  });
});
