// Compose activities against real dnf, rpm and createrepo_c, with the fixture yumrepofs server; no Temporal
// server (MockActivityEnvironment).
import { execa } from 'execa';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildYumrepofs, FIXTURE_MTIME, removePackage, startYumrepofs, type FixtureTree, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { parseSite, type ResolvedSigRelease } from '../../src/config/load.js';
import { releaseRequestSchema, sigFileSchema, type ReleaseRequestInput, type SiteConfig } from '../../src/config/schema.js';
import { planCompose, planTasks } from '../../src/compose/plan.js';
import { latestLink, type Roots } from '../../src/paths.js';
import type { ComposePlan, ReposyncHeartbeat } from '../../src/compose/types.js';
import { createComposeActivities, type ComposeActivities, type PreparedCompose } from '../../activities/compose.js';

const PROJECT = 'f0f0f0f0-1111-4222-8333-444455556666';
const KEY_PATH = 'rocky-release-demo/-/raw/r9/SOURCES/RPM-GPG-KEY-Rocky-SIG-Demo';
const STAMP = '20260217.101500';

let tmp: string;
let tree: FixtureTree;
let server: YumrepofsServer;
let site: SiteConfig;
let roots: Roots;
let acts: ComposeActivities;
/** The compose activities of a worker with this site config and the demo catalogue. */
const activitiesFor = (s: SiteConfig, sig = sigFile) => createComposeActivities({ site: s, catalogue: { [sig.sig]: sig } });
const sigFile = sigFileSchema.parse({
  sig: 'demo',
  name: 'Demo',
  releases: {
    '9': {
      projectId: PROJECT,
      repos: { 'demo-common': { arches: ['x86_64', 'aarch64'] } },
      gpgKeys: [`https://git.rockylinux.org/staging/src/${KEY_PATH}`],
      extraFiles: { baseUrl: 'https://git.rockylinux.org/staging/src/rocky-release-demo/-/raw/r9/', files: ['SOURCES/RPM-GPG-KEY-Rocky-SIG-Demo'] },
    },
  },
});

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'compose-acts-'));
  tree = await buildYumrepofs(path.join(tmp, 'upstream'), {
    projects: {
      [PROJECT]: {
        'demo-common': {
          arches: ['x86_64', 'aarch64'],
          packages: [{ name: 'alpha', version: '1.0' }, { name: 'bravo', version: '2.0' }, { name: 'charlie', version: '1.1', arch: 'noarch' }],
        },
      },
    },
    sign: true,
    variants: ['hashed'],
    gitFiles: { [KEY_PATH]: 'PUBLIC_KEY' },
  });
  server = await startYumrepofs({ root: tree.root });
  roots = { composeRoot: path.join(tmp, 'compose'), stagingRoot: path.join(tmp, 'staging'), productionRoot: path.join(tmp, 'production') };
  site = parseSite({
    ...roots,
    repoBaseUrl: server.baseUrl,
    urlRewrites: [{ from: 'https://git.rockylinux.org/staging/src/', to: server.gitBaseUrl }],
    releases: { '9': { revision: '9.7' } },
  });
  acts = activitiesFor(site);
  // Roots exist before anything runs (a missing root is an unmounted share: refused, never created).
  for (const r of ['compose', 'staging', 'production', 'nolatest', 'flip', 'closure']) await fs.mkdir(path.join(tmp, r), { recursive: true });
});
afterAll(async () => {
  await server?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

function makePlan(req: Partial<ReleaseRequestInput> = {}, stamp = STAMP, s: SiteConfig = site): ComposePlan {
  const request = releaseRequestSchema.parse({ release: '9', sig: 'demo', hashed: true, ...req });
  const resolved: ResolvedSigRelease = { sigFile, entry: sigFile.releases['9']!, revision: '9.7' };
  return planCompose(request, resolved, s, stamp);
}
const task = (plan: ComposePlan, name: string) => planTasks(plan).find((t) => t.name === name)!;

async function run<I, O>(fn: (input: I) => Promise<O>, input: I, env = new MockActivityEnvironment()): Promise<O> {
  return env.run(fn, input);
}
async function failureOf(p: Promise<unknown>): Promise<{ type?: string; nonRetryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { type?: string; nonRetryable?: boolean; message: string };
  }
  throw new Error('expected a failure');
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      out.push(path.relative(dir, p) + (e.isDirectory() ? '/' : e.isSymbolicLink() ? '@' : ''));
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

describe('a full-run compose, activity by activity', () => {
  let plan: ComposePlan;
  let prepared: PreparedCompose;

  it('prepareCompose creates the dated folder, the per-run dnf config and the private rpm root with the key (idempotently)', async () => {
    plan = makePlan({ fullRun: true });
    prepared = await run(acts.prepareCompose, { plan, roots });
    expect(prepared.composeDir).toBe(path.join(roots.composeRoot, '9', `SIG-demo-9.7-${STAMP}`));
    for (const d of ['compose/9/demo', 'work/entries', `work/logs/${STAMP}`]) expect((await fs.stat(path.join(prepared.composeDir, d))).isDirectory()).toBe(true);
    expect(prepared.dnfConfigPath).toBe(path.join(prepared.composeDir, 'work', 'dnf', STAMP, 'dnf.conf'));
    const config = await fs.readFile(prepared.dnfConfigPath, 'utf8');
    expect(config).toContain(`gpgkey=file://${prepared.layout.dnf}/keys/RPM-GPG-KEY-Rocky-SIG-Demo`);
    const keys = await execa('rpm', ['--root', prepared.rpmRoot!, '-q', 'gpg-pubkey', '--qf', '%{VERSION}\n']);
    expect(keys.stdout.trim()).toBe(tree.key!.keyId.slice(-8).toLowerCase());
    // A retry after a crash converges to the same state.
    expect(await run(acts.prepareCompose, { plan, roots })).toEqual(prepared);
  });

  it('runReposyncTask syncs the hashed layout with remote mtimes, heartbeats progress and places the key', async () => {
    const t = task(plan, 'demo-common-x86_64');
    const env = new MockActivityEnvironment({ attempt: 2 });
    const beats: ReposyncHeartbeat[] = [];
    env.on('heartbeat', (d: ReposyncHeartbeat) => beats.push(d));
    const r = await run(acts.runReposyncTask, { plan, task: t, ...prepared }, env);
    expect(r).toMatchObject({ name: 'demo-common-x86_64', repo: 'demo-common', kind: 'binary', arch: 'x86_64', downloaded: 3, skipped: 0, deleted: 0, packages: 3, attempt: 2 });
    expect(r.bytes).toBeGreaterThan(3 * 5000);
    const dest = path.join(prepared.layout.sigRoot, 'x86_64', 'demo-common');
    const alpha = await fs.stat(path.join(dest, 'Packages/a/alpha-1.0-1.x86_64.rpm'));
    expect(alpha.mtime.getTime()).toBe(FIXTURE_MTIME.getTime());
    expect(await fs.stat(path.join(dest, 'Packages/c/charlie-1.1-1.noarch.rpm'))).toBeTruthy();
    expect((await fs.readdir(path.join(dest, 'repodata'))).some((f) => f.endsWith('primary.sqlite.bz2'))).toBe(true);
    expect(await fs.readFile(path.join(dest, 'RPM-GPG-KEY-Rocky-SIG-Demo'), 'utf8')).toBe(tree.key!.publicKey);
    expect(beats[0]).toEqual({ task: 'demo-common-x86_64', downloaded: 0, skipped: 0, total: 0, bytes: 0 });
    expect(beats.some((b) => b.downloaded > 0 && b.total === 3)).toBe(true);
    const log = await fs.readFile(path.join(prepared.layout.logs, 'demo-common-x86_64.log'), 'utf8');
    expect(log).toMatch(/^==== \S+ demo-common-x86_64 attempt 2: dnf -c /);
    expect(log).toMatch(/\(3\/3\): /);
    // dnf 4.14 keeps --remote-time on packages only without repo_gpgcheck; the activity restores it.
    expect(log).toContain('==== remote mtimes restored on 3 of 3 downloaded packages');
    // repo_gpgcheck made dnf start a gpg-agent for the repo keyring; it must not outlive the task.
    const agents = await execa('pgrep', ['-f', `gpg-agent --homedir ${prepared.layout.dnf}/state/demo-common-x86_64/`], { reject: false });
    expect(agents.stdout).toBe('');
  });

  it('runReposyncTask puts the key into the source folder too (the seed put it into the last debug folder)', async () => {
    const r = await run(acts.runReposyncTask, { plan, task: task(plan, 'demo-common-source'), ...prepared });
    expect(r).toMatchObject({ kind: 'source', downloaded: 3 });
    const dir = path.join(prepared.layout.sigRoot, 'source', 'demo-common');
    expect(await fs.readdir(dir)).toEqual(expect.arrayContaining(['Packages', 'repodata', 'RPM-GPG-KEY-Rocky-SIG-Demo']));
    expect(await fs.stat(path.join(dir, 'Packages/a/alpha-1.0-1.src.rpm'))).toBeTruthy();
  });

  it('a re-run of a task skips what it has', async () => {
    const r = await run(acts.runReposyncTask, { plan, task: task(plan, 'demo-common-x86_64'), ...prepared });
    expect(r).toMatchObject({ downloaded: 0, skipped: 3, packages: 3 });
  });

  it('deployExtraFiles writes the key into metadata/ and work/global/extra-files/', async () => {
    const r = await run(acts.deployExtraFiles, { plan, composeDir: prepared.composeDir });
    expect(r.files).toEqual([path.join(prepared.layout.metadataDir, 'RPM-GPG-KEY-Rocky-SIG-Demo'), path.join(prepared.layout.globalExtraFiles, 'RPM-GPG-KEY-Rocky-SIG-Demo')]);
    for (const f of r.files) {
      expect(await fs.readFile(f, 'utf8')).toBe(tree.key!.publicKey);
      expect((await fs.stat(f)).mtime.getTime()).toBe(FIXTURE_MTIME.getTime());
    }
  });

  it('verifyCompose fails, non-retryably, while planned repos are missing, and lists them', async () => {
    const f = await failureOf(run(acts.verifyCompose, { plan, composeDir: prepared.composeDir }));
    expect(f).toMatchObject({ type: 'ComposeVerificationFailed', nonRetryable: true });
    expect(f.message).toContain('x86_64/demo-common-debug: repodata/repomd.xml is missing');
    expect(f.message).not.toContain('x86_64/demo-common:');
  });

  it('verifyCompose passes once every task has synced (all at once: no shared dnf lock), and the manifest records it', async () => {
    const results = await Promise.all(planTasks(plan).map((t) => run(acts.runReposyncTask, { plan, task: t, ...prepared })));
    const report = await run(acts.verifyCompose, { plan, composeDir: prepared.composeDir });
    expect(report.ok).toBe(true);
    expect(report.repos.map((r) => [r.relDir, r.packages])).toEqual([
      ['x86_64/demo-common', 3], ['x86_64/demo-common-debug', 4], ['aarch64/demo-common', 3], ['aarch64/demo-common-debug', 4], ['source/demo-common', 3],
    ]);
    const file = await run(acts.writeComposeManifest, { plan, composeDir: prepared.composeDir, tasks: results, verify: report, startedAt: 'a', finishedAt: 'b' });
    expect(file).toBe(path.join(prepared.composeDir, 'work', `manifest-${STAMP}.json`));
    const manifest = JSON.parse(await fs.readFile(file, 'utf8'));
    expect(manifest).toMatchObject({ composeId: `demo-9-${STAMP}`, fullRun: true, options: { hashed: true }, verification: { ok: true, problems: [] }, totals: { packages: 17 } });
    expect(manifest.tasks.map((t: { name: string }) => t.name)).toEqual(planTasks(plan).map((t) => t.name));
    // Each synced folder's source metadata, as its repomd.xml says (the fixture's is reproducible: fixed revision).
    const source = manifest.sourceMetadata as Array<{ relDir: string; revision: string | null; timestamp: number | null }>;
    expect(source.map((m) => m.relDir)).toEqual(planTasks(plan).map((t) => t.relDir));
    for (const m of source) expect(m.revision).toMatch(/^\d+$/);
    for (const m of source) expect(m.timestamp).toBeGreaterThan(0);
  });

  it('flipLatestSymlink points latest at the absolute compose folder and reports the previous target', async () => {
    const first = await run(acts.flipLatestSymlink, { roots, release: '9', sig: 'demo', composeDir: prepared.composeDir });
    expect(first).toEqual({ previous: null, current: prepared.composeDir });
    expect(await fs.readlink(latestLink(roots, '9', 'demo'))).toBe(prepared.composeDir);
    const again = await run(acts.flipLatestSymlink, { roots, release: '9', sig: 'demo', composeDir: prepared.composeDir });
    expect(again.previous).toBe(prepared.composeDir);
  });
});

describe('runReposyncTask failures', () => {
  let plan: ComposePlan;
  let prepared: PreparedCompose;
  let acts: ComposeActivities;
  beforeAll(async () => {
    // A compose root of its own, without a latest compose to seed from: every package is really downloaded.
    const own = parseSite({ ...site, composeRoot: path.join(tmp, 'failures') });
    await fs.mkdir(own.composeRoot, { recursive: true });
    acts = activitiesFor(own);
    plan = makePlan({ fullRun: true }, '20260217.110000', own);
    prepared = await run(acts.prepareCompose, { plan });
  });

  it('fails a package that is 404 upstream as retryable PackageDownloadFailed, naming it, with the log tail', async () => {
    server.setFaults({ failPaths: /bravo-2\.0-1\.aarch64\.rpm$/ });
    try {
      const f = await failureOf(run(acts.runReposyncTask, { plan, task: task(plan, 'demo-common-aarch64'), ...prepared }));
      expect(f).toMatchObject({ type: 'PackageDownloadFailed', nonRetryable: false });
      expect(f.message).toMatch(/^demo-common-aarch64: 1 package\(s\) did not download: bravo-2\.0-1\.aarch64\.rpm\nlast lines of \S+demo-common-aarch64\.log:\n/);
      expect(f.message).toContain('[FAILED] bravo-2.0-1.aarch64.rpm');
    } finally {
      server.setFaults(null);
    }
  });

  it('fails packages whose key is not in the rpm root as non-retryable GpgKeyViolation', async () => {
    const keyless = { ...plan, stamp: '20260217.111500', composeId: 'demo-9-20260217.111500' };
    const p = await run(acts.prepareCompose, { plan: keyless });
    await execa('rpm', ['--root', p.rpmRoot!, '-e', '--allmatches', 'gpg-pubkey']);
    const f = await failureOf(run(acts.runReposyncTask, { plan: keyless, task: task(keyless, 'demo-common-debug-x86_64'), ...p }));
    expect(f).toMatchObject({ type: 'GpgKeyViolation', nonRetryable: true });
    expect(f.message).toMatch(/failed the signature check and were removed: alpha-debuginfo-1\.0-1\.x86_64\.rpm/);
  });

  it('kills dnf when the activity is cancelled and reports the cancellation', async () => {
    server.setFaults({ slowPaths: /\/Packages\//, slowMs: 60_000 });
    try {
      const t = task(plan, 'demo-common-debug-aarch64');
      const dest = path.join(prepared.layout.sigRoot, t.relDir);
      const env = new MockActivityEnvironment();
      const running = run(acts.runReposyncTask, { plan, task: t, ...prepared }, env);
      const dnfRunning = async () => (await execa('pgrep', ['-f', dest], { reject: false })).exitCode === 0;
      for (let i = 0; i < 100 && !(await dnfRunning()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await dnfRunning()).toBe(true);
      env.cancel();
      await expect(running).rejects.toBeInstanceOf(CancelledFailure);
      expect(await dnfRunning()).toBe(false);
    } finally {
      server.setFaults(null);
    }
  });

  it('refuses to run for a dry-run plan', async () => {
    const dry = makePlan({ dryRun: true });
    const f = await failureOf(run(acts.runReposyncTask, { plan: dry, task: task(dry, 'demo-common-x86_64') }));
    expect(f).toMatchObject({ type: 'DryRunViolation', nonRetryable: true });
  });
});

describe('in-place runs and the latest link', () => {
  it('fails NoLatestCompose when there is no latest, or it dangles', async () => {
    const r2: Roots = { ...roots, composeRoot: path.join(tmp, 'nolatest') };
    const s2 = parseSite({ ...site, ...r2 });
    const acts2 = activitiesFor(s2);
    const plan = makePlan({}, '20260217.120000', s2);
    const f = await failureOf(run(acts2.prepareCompose, { plan, roots: r2 }));
    expect(f).toMatchObject({ type: 'NoLatestCompose', nonRetryable: true });
    expect(f.message).toBe(`no compose to update in place at ${latestLink(r2, '9', 'demo')} (missing or dangling); run with --full-run first`);
    await fs.mkdir(path.join(r2.composeRoot, '9'), { recursive: true });
    await fs.symlink(path.join(r2.composeRoot, '9', 'gone'), latestLink(r2, '9', 'demo'));
    expect(await failureOf(run(acts2.prepareCompose, { plan, roots: r2 }))).toMatchObject({ type: 'NoLatestCompose' });
  });

  it('a dry run writes nothing', async () => {
    const plan = makePlan({ dryRun: true, refreshExtraFiles: true }, '20260217.130000');
    const before = await listTree(roots.composeRoot);
    const prepared = await run(acts.prepareCompose, { plan, roots });
    expect(await listTree(roots.composeRoot)).toEqual(before);
    // In place too, a run builds its own dated folder (seeded from latest), which a dry run only names.
    expect(prepared.composeDir).toBe(path.join(roots.composeRoot, '9', 'SIG-demo-9.7-20260217.130000'));
    expect(prepared.seededFrom).toBe(await fs.realpath(latestLink(roots, '9', 'demo')));
  });

  it('flipLatestSymlink never leaves a moment without latest (a concurrent reader over 200 flips)', async () => {
    const r3: Roots = { ...roots, composeRoot: path.join(tmp, 'flip') };
    const acts3 = activitiesFor(parseSite({ ...site, ...r3 }));
    const a = path.join(r3.composeRoot, '9', 'SIG-demo-9.7-20260101.000001');
    const b = path.join(r3.composeRoot, '9', 'SIG-demo-9.7-20260101.000002');
    await fs.mkdir(a, { recursive: true });
    await fs.mkdir(b, { recursive: true });
    const link = latestLink(r3, '9', 'demo');
    await run(acts3.flipLatestSymlink, { roots: r3, release: '9', sig: 'demo', composeDir: a });
    const stop = path.join(tmp, 'flip-stop');
    const ready = path.join(tmp, 'flip-ready');
    // A separate process, so reads really interleave with the renames.
    const reader = execa('node', [
      '-e',
      `const fs=require('fs');let reads=0,missing=0;while(!fs.existsSync(${JSON.stringify(stop)})){try{fs.readlinkSync(${JSON.stringify(link)});if(++reads===1)fs.writeFileSync(${JSON.stringify(ready)},'')}catch(e){missing++}}console.log(JSON.stringify({reads,missing}))`,
    ]);
    // Flip only once the reader is really reading (a loaded machine can take a while to start node).
    for (let waited = 0; !existsSync(ready); waited += 20) {
      if (waited > 30_000) throw new Error('the reader process never started reading');
      await new Promise((r) => setTimeout(r, 20));
    }
    const env = new MockActivityEnvironment();
    for (let i = 0; i < 200; i++) await env.run(acts3.flipLatestSymlink, { roots: r3, release: '9', sig: 'demo', composeDir: i % 2 ? a : b });
    await fs.writeFile(stop, '');
    const counts = JSON.parse((await reader).stdout) as { reads: number; missing: number };
    expect(counts.reads).toBeGreaterThan(0);
    expect(counts.missing).toBe(0);
    expect(await fs.readlink(link)).toBe(a);
    expect((await fs.readdir(path.dirname(link))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('an in-place run with --clean-old-packages removes a package that left upstream, in its own folder: latest keeps it', async () => {
    const plan = makePlan({ cleanOldPackages: true, ignoreDebug: true, ignoreSource: true, arches: ['x86_64'] }, '20260217.140000');
    const prepared = await run(acts.prepareCompose, { plan, roots });
    const latest = await fs.realpath(latestLink(roots, '9', 'demo'));
    expect(prepared.seededFrom).toBe(latest);
    const rel = 'compose/9/demo/x86_64/demo-common/Packages/b/bravo-2.0-1.x86_64.rpm';
    const latestBravo = await fs.readFile(path.join(latest, rel));
    await removePackage(tree, { repo: 'demo-common', name: 'bravo' });
    const r = await run(acts.runReposyncTask, { plan, task: task(plan, 'demo-common-x86_64'), ...prepared });
    // Seeded by hard links: nothing downloaded again, the package that left upstream deleted from the new folder only.
    expect(r).toMatchObject({ downloaded: 0, deleted: 1, skipped: 2, packages: 2 });
    await expect(fs.stat(path.join(prepared.composeDir, rel))).rejects.toThrow(/ENOENT/);
    expect(await fs.readFile(path.join(latest, rel))).toEqual(latestBravo);
    expect(await fs.readdir(prepared.layout.logs)).toEqual(['demo-common-x86_64.log']);
    expect(await fs.readFile(path.join(prepared.layout.logs, 'demo-common-x86_64.log'), 'utf8')).toMatch(/seeded from \S+x86_64\/demo-common: 4 files linked, 0 left to dnf/);
  });
});

describe('repoclosure (site compose.repoclosure), unsigned packages', () => {
  const LOOKASIDE_PROJECT = '0a0a0a0a-2222-4333-8444-555566667777';
  let tree2: FixtureTree;
  let server2: YumrepofsServer;
  let closureRoots: Roots;
  let prepared: PreparedCompose;
  const entry = { ...sigFile.releases['9']!, repos: { 'demo-common': { arches: ['x86_64' as const] } }, gpgKeys: [] };
  const request = releaseRequestSchema.parse({ release: '9', sig: 'demo', fullRun: true, ignoreDebug: true });
  const closurePlan = (lookaside: Array<{ name: string; baseUrl: string }> = []) => {
    const s = parseSite({
      ...closureRoots,
      repoBaseUrl: server2.baseUrl,
      releases: { '9': { revision: '9.7' } },
      compose: { repoclosure: true, repoclosureLookaside: lookaside, gpgCheck: false, repoGpgCheck: false },
    });
    return { plan: planCompose(request, { sigFile, entry, revision: '9.7' }, s, STAMP), acts: activitiesFor(s, { ...sigFile, releases: { '9': entry } }) };
  };
  beforeAll(async () => {
    tree2 = await buildYumrepofs(path.join(tmp, 'upstream-closure'), {
      projects: {
        [PROJECT]: {
          'demo-common': {
            arches: ['x86_64'],
            debuginfo: false,
            packages: [{ name: 'alpha', version: '1.0' }, { name: 'needy', version: '1.0', requires: ['libmissing.so.1()(64bit)'] }],
          },
        },
        // What the SIG builds against (BaseOS, say): the provider of needy's dependency lives only here.
        [LOOKASIDE_PROJECT]: {
          baseos: { arches: ['x86_64'], debuginfo: false, packages: [{ name: 'libmissing', version: '1.0', provides: ['libmissing.so.1()(64bit)'] }] },
        },
      },
      variants: ['plain'],
    });
    server2 = await startYumrepofs({ root: tree2.root });
    closureRoots = { ...roots, composeRoot: path.join(tmp, 'closure') };
    // No keys to fetch: the catalogue's key host is not reachable from tests, and nothing checks signatures.
    const { plan, acts: a } = closurePlan();
    prepared = await run(a.prepareCompose, { plan, roots: closureRoots });
    for (const t of planTasks(plan)) await run(a.runReposyncTask, { plan, task: t, ...prepared });
  });
  afterAll(async () => {
    await server2?.close();
  });

  it('syncs without signature checks (no rpm root) and fails verification naming the unresolved dependency', async () => {
    expect(prepared.rpmRoot).toBeNull();
    const c = closurePlan();
    const f = await failureOf(run(c.acts.verifyCompose, { plan: c.plan, composeDir: prepared.composeDir }));
    expect(f).toMatchObject({ type: 'ComposeVerificationFailed', nonRetryable: true });
    expect(f.message).toContain('x86_64/demo-common: repoclosure: needy-1.0-1.x86_64 needs libmissing.so.1()(64bit)');
    expect(f.message).not.toContain('source/');
  });

  it('resolves from a lookaside repo whose URL dnf fills in per arch, and reports nothing from it', async () => {
    const baseUrl = `${server2.baseUrl}/${LOOKASIDE_PROJECT}/repo/baseos/$basearch`;
    const c = closurePlan([{ name: 'baseos', baseUrl }]);
    const report = await run(c.acts.verifyCompose, { plan: c.plan, composeDir: prepared.composeDir });
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.repos.map((r) => r.relDir).sort()).toEqual(['source/demo-common', 'x86_64/demo-common']);
  });

  it('fails verification when a lookaside repo cannot be read, instead of skipping it', async () => {
    const baseUrl = `${server2.baseUrl}/${LOOKASIDE_PROJECT}/repo/no-such-repo/$basearch`;
    const c = closurePlan([{ name: 'baseos', baseUrl }]);
    const f = await failureOf(run(c.acts.verifyCompose, { plan: c.plan, composeDir: prepared.composeDir }));
    expect(f).toMatchObject({ type: 'ComposeVerificationFailed', nonRetryable: true });
    expect(f.message).toMatch(/x86_64\/demo-common: repoclosure could not run \(exit 1\): .*lookaside-baseos/);
  });
});
