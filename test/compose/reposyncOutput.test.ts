// dnf reposync as data: command lines (seed scenario 10), progress parsing on real captured output
// (test/compose/outputs/), and outcome classification (scenario 11).
import fs from 'node:fs';
import path from 'node:path';
import { core9Plan } from './support.js';
import { describe, expect, it } from 'vitest';
import { planTasks } from '../../src/compose/plan.js';
import {
  buildReposyncArgs,
  classifyReposyncOutcome,
  LastLines,
  parseDnfSize,
  ReposyncOutputParser,
} from '../../src/compose/reposyncOutput.js';
import type { ReposyncProgress } from '../../src/compose/types.js';

const plan = core9Plan;
const task = (p: ReturnType<typeof plan>, name: string) => planTasks(p).find((t) => t.name === name)!;
const CFG = '/c/work/dnf/20260217.101500/dnf.conf';
const ROOT = '/c/work/dnf/20260217.101500/rpmroot';
const dest = (rel: string) => `/c/compose/9/core/${rel}`;
const state = (name: string) => `/c/work/dnf/20260217.101500/state/${name}`;
const GLOBAL = (name: string) => [
  '-c', CFG, '--releasever=9', '--setopt=module_platform_id=platform:el9',
  `--setopt=cachedir=${state(name)}/cache`, `--setopt=logdir=${state(name)}/log`, `--setopt=persistdir=${state(name)}/persist`,
];

describe('buildReposyncArgs (scenario 10)', () => {
  it('builds the binary command with the seed flags, an arch filter and signature checking in the private root', () => {
    const p = plan();
    const t = task(p, 'core-common-aarch64');
    expect(buildReposyncArgs(p, t, { dnfConfigPath: CFG, destDir: dest(t.relDir), rpmRoot: ROOT, stateDir: state(t.name) })).toEqual([
      ...GLOBAL(t.name),
      'reposync', '--download-metadata', '--repoid=core-common-aarch64', '-p', dest('aarch64/core-common'),
      '--forcearch', 'aarch64', '--arch', 'aarch64', '--arch', 'noarch',
      '--norepopath', '--remote-time', '--assumeyes', '--gpgcheck', `--installroot=${ROOT}`,
    ]);
  });

  it('keeps i686 multilib packages in x86_64 repos', () => {
    const p = plan();
    const args = buildReposyncArgs(p, task(p, 'core-common-x86_64'), { dnfConfigPath: CFG, destDir: dest('x86_64/core-common'), rpmRoot: ROOT, stateDir: state('x') });
    expect(args.join(' ')).toContain('--forcearch x86_64 --arch x86_64 --arch i686 --arch noarch');
  });

  it('syncs the debug task from its own section into <arch>/<repo>-debug', () => {
    const p = plan();
    const t = task(p, 'core-common-debug-s390x');
    const args = buildReposyncArgs(p, t, { dnfConfigPath: CFG, destDir: dest(t.relDir), rpmRoot: ROOT, stateDir: state(t.name) });
    expect(args).toContain('--repoid=core-common-debug-s390x');
    expect(args.slice(args.indexOf('-p'), args.indexOf('-p') + 2)).toEqual(['-p', dest('s390x/core-common-debug')]);
  });

  it('gives the source task no --forcearch and no --arch filter', () => {
    const p = plan();
    const t = task(p, 'core-infra-source');
    const args = buildReposyncArgs(p, t, { dnfConfigPath: CFG, destDir: dest(t.relDir), rpmRoot: ROOT, stateDir: state(t.name) });
    expect(args).toContain('--repoid=core-infra-source');
    expect(args).not.toContain('--forcearch');
    expect(args).not.toContain('--arch');
  });

  it('adds --delete to every kind with --clean-old-packages and changes nothing else', () => {
    const p = plan();
    const pc = plan({ cleanOldPackages: true });
    for (const name of ['core-common-x86_64', 'core-common-debug-x86_64', 'core-common-source']) {
      const input = { dnfConfigPath: CFG, destDir: dest('d'), rpmRoot: ROOT, stateDir: state(name) };
      expect(buildReposyncArgs(pc, task(pc, name), input)).toEqual([...buildReposyncArgs(p, task(p, name), input), '--delete']);
    }
  });

  it('drops --gpgcheck and the install root with --disable-gpg-check, and needs a root otherwise', () => {
    const off = plan({ disableGpgCheck: true });
    const args = buildReposyncArgs(off, task(off, 'core-common-x86_64'), { dnfConfigPath: CFG, destDir: dest('d'), rpmRoot: null, stateDir: state('x') });
    expect(args).not.toContain('--gpgcheck');
    expect(args.some((a) => a.startsWith('--installroot'))).toBe(false);
    const on = plan();
    expect(() => buildReposyncArgs(on, task(on, 'core-common-x86_64'), { dnfConfigPath: CFG, destDir: dest('d'), rpmRoot: null, stateDir: state('x') })).toThrow(/needs the private rpm root/);
  });
});

const captured = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'outputs', name), 'utf8');
/** Feeds captured output in odd-sized chunks, as a pipe delivers it. */
function parse(text: string, names: string[], chunk = 37): ReposyncOutputParser {
  const p = new ReposyncOutputParser(names);
  for (let i = 0; i < text.length; i += chunk) p.feed('stdout', text.slice(i, i + chunk));
  p.end();
  return p;
}

describe('ReposyncOutputParser on real reposync output', () => {
  it('counts a fresh sync: four packages, metadata lines not counted, bytes from the size column', () => {
    const p = parse(captured('fresh-sync.txt'), ['cc-x86_64']).progress;
    expect(p).toMatchObject({ total: 4, downloaded: 4, skipped: 0, deleted: 0, failedPackages: [], removedPackages: [] });
    // 6.6 kB + 3 × 6.2 kB, in dnf's 1024-byte units.
    expect(p.bytes).toBe(Math.round(6.6 * 1024) + 3 * Math.round(6.2 * 1024));
  });

  it('counts a re-sync where everything is already there as skipped', () => {
    expect(parse(captured('resync-all-skipped.txt'), ['cc-x86_64']).progress).toMatchObject({ total: 4, downloaded: 0, skipped: 4, bytes: 0 });
  });

  it('counts the one package of a single-package repo, which dnf prints without an (i/N) counter', () => {
    expect(parse(captured('single-package.txt'), ['one-x86_64']).progress).toMatchObject({ total: 1, downloaded: 1, skipped: 0 });
  });

  it('counts [DELETED] lines', () => {
    expect(parse(captured('delete.txt'), ['cc-x86_64']).progress).toMatchObject({ skipped: 4, deleted: 1 });
  });

  it('names the package behind [FAILED], not the [MIRROR] retries', () => {
    const parser = parse(captured('package-404.txt'), ['cc-x86_64']);
    expect(parser.progress).toMatchObject({ total: 4, downloaded: 3, failedPackages: ['bravo-2.0-1.x86_64.rpm'] });
    expect(parser.mirrorErrorCount).toBe(4);
  });

  it('names every package the signature check removed', () => {
    const parser = parse(captured('gpg-key-not-installed.txt'), ['sig-x86_64']);
    expect(parser.progress.removedPackages).toEqual([
      'a-really-long-package-name-for-truncation-testing-12.345.6789-1.x86_64.rpm',
      'alpha-1.0-1.x86_64.rpm',
      'bravo-2.0-1.x86_64.rpm',
      'charlie-1.1-1.noarch.rpm',
    ]);
    expect(parser.reasonsForRemoval[1]).toBe('Public key for alpha-1.0-1.x86_64.rpm is not installed');
  });

  it('reports a change only for lines that move a counter (what triggers a heartbeat)', () => {
    const p = new ReposyncOutputParser(['cc-x86_64']);
    expect(p.feed('stdout', 'cc-x86_64                                        28 kB/s | 1.4 kB     00:00    \n')).toBe(false);
    expect(p.feed('stdout', '(1/4): alpha-1.0-1.x86_64.rpm   323 kB/s | 6.2 kB     00:00    ')).toBe(false); // no newline yet
    expect(p.feed('stdout', '\n')).toBe(true);
    expect(p.feed('stderr', 'Importing GPG key 0x44D2A317:\n')).toBe(false);
  });

  it('reads dnf sizes in 1024 steps', () => {
    expect(parseDnfSize('512', '')).toBe(512);
    expect(parseDnfSize('6.1', 'k')).toBe(6246);
    expect(parseDnfSize('1.9', 'M')).toBe(Math.round(1.9 * 1024 * 1024));
  });
});

const clean: ReposyncProgress = { total: 4, downloaded: 4, skipped: 0, deleted: 0, bytes: 1, failedPackages: [], removedPackages: [] };
const classifyCaptured = (file: string, exitCode: number, names: string[], kind: 'binary' | 'debug' | 'source' = 'binary') => {
  const p = parse(captured(file), names);
  return classifyReposyncOutcome({ kind, exitCode, signal: null, progress: p.progress, noteworthyLines: p.noteworthyLines, baseUrl: 'http://h/v1/projects/P/repo/hashed-nope/src' });
};

describe('classifyReposyncOutcome (scenario 11)', () => {
  it('calls a clean zero exit a success', () => {
    expect(classifyReposyncOutcome({ kind: 'binary', exitCode: 0, signal: null, progress: clean, noteworthyLines: [] })).toEqual({ ok: true });
  });

  it('fails a 404 package as retryable PackageDownloadFailed naming it', () => {
    const o = classifyCaptured('package-404.txt', 1, ['cc-x86_64']);
    expect(o).toMatchObject({ ok: false, type: 'PackageDownloadFailed', nonRetryable: false, packages: ['bravo-2.0-1.x86_64.rpm'] });
    expect(!o.ok && o.reason).toBe('1 package(s) did not download: bravo-2.0-1.x86_64.rpm');
  });

  it('fails a [FAILED] line even when dnf exits 0', () => {
    const o = classifyReposyncOutcome({ kind: 'binary', exitCode: 0, signal: null, progress: { ...clean, failedPackages: ['x.rpm'] }, noteworthyLines: [] });
    expect(o).toMatchObject({ ok: false, type: 'PackageDownloadFailed' });
  });

  it.each(['binary', 'debug', 'source'] as const)('fails a %s task whose packages failed the key check as non-retryable GpgKeyViolation', (kind) => {
    expect(classifyCaptured('gpg-key-not-installed.txt', 1, ['sig-x86_64'], kind)).toMatchObject({ ok: false, type: 'GpgKeyViolation', nonRetryable: true });
    // Exit 0 with removals (the seed's exit-2 case) is the same failure.
    expect(classifyReposyncOutcome({ kind, exitCode: 0, signal: null, progress: { ...clean, removedPackages: ['a.rpm'] }, noteworthyLines: [] })).toMatchObject({ type: 'GpgKeyViolation' });
  });

  it('fails an unknown repo id as non-retryable UnknownRepo', () => {
    expect(classifyCaptured('unknown-repo.txt', 1, ['bogus'])).toMatchObject({ type: 'UnknownRepo', nonRetryable: true, reason: "dnf reposync exited with status 1: Error: Unknown repo: 'bogus'" });
  });

  it('fails a repo whose repomd.xml is 404 as non-retryable RepoNotFound, hinting at the hashed variant', () => {
    const o = classifyCaptured('repomd-404.txt', 1, ['nope']);
    expect(o).toMatchObject({ type: 'RepoNotFound', nonRetryable: true });
    expect(!o.ok && o.reason).toMatch(/does not exist at http:\/\/h\/v1\/projects\/P\/repo\/hashed-nope\/src .*hashed-<repo> variant/);
  });

  it('fails an unreachable server as retryable MetadataDownloadFailed', () => {
    const o = classifyCaptured('server-down.txt', 1, ['down']);
    expect(o).toMatchObject({ type: 'MetadataDownloadFailed', nonRetryable: false });
    expect(!o.ok && o.reason).toContain("Error: Failed to download metadata for repo 'down'");
  });

  it('fails any other non-zero exit, or a kill, as retryable ReposyncFailed', () => {
    expect(classifyReposyncOutcome({ kind: 'source', exitCode: 3, signal: null, progress: clean, noteworthyLines: [] })).toMatchObject({ type: 'ReposyncFailed', nonRetryable: false, reason: 'dnf reposync exited with status 3' });
    expect(classifyReposyncOutcome({ kind: 'source', exitCode: null, signal: 'SIGKILL', progress: clean, noteworthyLines: [] })).toMatchObject({ type: 'ReposyncFailed', reason: 'dnf was killed by SIGKILL' });
  });
});

describe('LastLines', () => {
  it('keeps the last lines of both streams without mixing half lines', () => {
    const t = new LastLines(3);
    t.push('stdout', 'one\ntw');
    t.push('stderr', 'err\n');
    t.push('stdout', 'o\nthree\nfour');
    expect(t.tail).toEqual(['two', 'three', 'four']);
  });
});
