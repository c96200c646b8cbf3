// The publish activities under a (mock) Temporal activity context: heartbeats, cancellation, resume.
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncToProduction, syncToStaging } from '../../activities/publish.js';
import type { SyncHeartbeat } from '../../src/publish/types.js';
import { checkRepositories, exists, packages, removeDir, tempDir, treeDigest, writeFakeRepo, writeTree, type ReaderReport } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await tempDir('actenv');
});
afterAll(() => removeDir(root));

const guard = { maxDeleteShare: 0.1 };

async function randomTree(dir: string, files: number, size: number) {
  await writeTree(dir, Object.fromEntries(Array.from({ length: files }, (_, i) => [`x86_64/core-common/Packages/f/f${String(i).padStart(3, '0')}.rpm`, randomBytes(size)])));
}

function recordHeartbeats(env: MockActivityEnvironment): SyncHeartbeat[] {
  const seen: SyncHeartbeat[] = [];
  env.on('heartbeat', (d: SyncHeartbeat) => seen.push(d));
  return seen;
}

/** `env.run` with the activity's result type (MockActivityEnvironment.run cannot infer it). */
const runIn = <I, R>(env: MockActivityEnvironment, fn: (input: I) => Promise<R>, input: I): Promise<R> => env.run(fn, input) as Promise<R>;

const rsyncRunningFor = async (unique: string) => (await execa('pgrep', ['-f', unique], { reject: false })).exitCode === 0;

describe('syncToStaging in an activity context', () => {
  it('heartbeats the phase and rsync progress (bytes, percent, files) while it runs', async () => {
    const source = path.join(root, 'hb', 'compose');
    const target = path.join(root, 'hb', 'staging');
    await randomTree(source, 10, 100_000);
    const env = new MockActivityEnvironment();
    const beats = recordHeartbeats(env);
    const r = await runIn(env, syncToStaging, { source, target, reportFile: path.join(root, 'hb', 'r.txt'), guard, bwlimitKiB: 500, heartbeatIntervalMs: 200 });
    expect(r.transferredFiles).toBe(10);

    expect(beats[0]).toMatchObject({ phase: 'preview', bytes: 0, source });
    const transfer = beats.filter((b) => b.phase === 'transfer');
    // ~2 s at 500 KiB/s with a 200 ms timer: many beats, some mid-transfer.
    expect(transfer.length).toBeGreaterThanOrEqual(5);
    expect(transfer.some((b) => b.bytes > 0 && b.percent > 0 && b.percent < 100)).toBe(true);
    const bytes = transfer.map((b) => b.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b)); // never goes backwards
    expect(beats.at(-1)).toMatchObject({ phase: 'done', bytes: 1_000_000, percent: 100, filesTransferred: 10, toCheck: 0, total: 15 }); // 10 files + 5 dirs
  });

  describe('cancellation', () => {
    const unique = `cancel-${randomBytes(4).toString('hex')}`;
    const source = () => path.join(root, unique, 'compose');
    const target = () => path.join(root, unique, 'staging');
    let lastBeat: SyncHeartbeat | undefined;

    it('kills rsync (no process of it is left) and rejects with the CancelledFailure', async () => {
      await randomTree(source(), 20, 100_000);
      const env = new MockActivityEnvironment();
      const beats = recordHeartbeats(env);
      const run = runIn(env, syncToStaging, { source: source(), target: target(), reportFile: path.join(root, unique, 'r.txt'), guard, bwlimitKiB: 200, heartbeatIntervalMs: 100 });
      const outcome = run.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      // Wait until rsync has moved some bytes (a few files at 200 KiB/s).
      const until = Date.now() + 30_000;
      while (!beats.some((b) => b.phase === 'transfer' && b.filesTransferred >= 3) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await rsyncRunningFor(unique)).toBe(true);

      const cancelledAt = Date.now();
      env.cancel();
      const err = await outcome;
      expect(err).toBeInstanceOf(CancelledFailure);
      expect(Date.now() - cancelledAt).toBeLessThan(5000);
      expect(await rsyncRunningFor(unique)).toBe(false);
      lastBeat = beats.at(-1);
      expect(lastBeat).toMatchObject({ phase: 'transfer', source: source() });
    });

    it('a retried attempt keeps the files the cancelled attempt transferred and finishes the mirror', async () => {
      expect(lastBeat).toBeDefined();
      const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: lastBeat });
      const r = await runIn(env, syncToStaging, { source: source(), target: target(), reportFile: path.join(root, unique, 'r.txt'), guard });
      expect(r.transferredFiles).toBeGreaterThan(0);
      expect(r.transferredFiles).toBeLessThanOrEqual(20 - 3);
      expect(await treeDigest(target())).toEqual(await treeDigest(source()));
      // The retry's report does not overwrite the first attempt's.
      expect(r.preview.reportFile).toBe(path.join(root, unique, 'r.txt.attempt-2'));
      expect(await exists(path.join(root, unique, 'r.txt'))).toBe(true);
    });
  });

  it('a retried attempt reads the compose the first attempt resolved, even after latest flipped', async () => {
    const base = path.join(root, 'flip');
    await writeTree(base, { 'SIG-core-9.7-1/compose/9/core/a.rpm': 'old compose', 'SIG-core-9.7-2/compose/9/core/b.rpm': 'new compose' });
    const { symlink } = await import('node:fs/promises');
    await symlink(path.join(base, 'SIG-core-9.7-2'), path.join(base, 'latest-SIG-core-9'));
    const first = path.join(base, 'SIG-core-9.7-1/compose/9/core');
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { phase: 'transfer', source: first } });
    const r = await runIn(env, syncToStaging, { source: path.join(base, 'latest-SIG-core-9/compose/9/core'), target: path.join(base, 'staging'), reportFile: path.join(base, 'r.txt'), guard });
    expect(r.preview.source).toBe(first);
    expect(await readFile(path.join(base, 'staging', 'a.rpm'), 'utf8')).toBe('old compose');
  });
});

describe('syncToProduction in an activity context', () => {
  it('heartbeats each pass and the passes finished, in order', async () => {
    const staging = path.join(root, 'prodhb', 'staging');
    const production = path.join(root, 'prodhb', 'production');
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('p', 0, 50, '1.0', 4096), 'v1');
    const env = new MockActivityEnvironment();
    const beats = recordHeartbeats(env);
    const r = await runIn(env, syncToProduction, { source: staging, target: production, reportFile: path.join(root, 'prodhb', 'r.txt'), guard, heartbeatIntervalMs: 100 });
    expect(r.resumedAfterPass).toBe(0);
    const transitions = beats
      .map((b) => `${b.phase}:${b.completedPasses}`)
      .filter((s, i, all) => s !== all[i - 1]);
    expect(transitions).toEqual(['preview:0', 'pass1-content:0', 'pass1-content:1', 'pass2-repomd:1', 'pass2-repomd:2', 'pass3-delete:2', 'pass3-delete:3', 'done:3']);
  });

  it('skips the passes a previous attempt finished (from heartbeat details) and still ends equal to staging', async () => {
    const staging = path.join(root, 'resume', 'staging');
    const production = path.join(root, 'resume', 'production');
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('p', 0, 20, '1.0'), 'v1');
    await syncToProduction({ source: staging, target: production, reportFile: path.join(root, 'resume', 'r.txt'), guard });
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('p', 20, 22, '1.0'), 'v2');
    const env = new MockActivityEnvironment({ attempt: 3, heartbeatDetails: { phase: 'pass3-delete', completedPasses: 2, source: staging } });
    const beats = recordHeartbeats(env);
    const r = await runIn(env, syncToProduction, { source: staging, target: production, reportFile: path.join(root, 'resume', 'r.txt'), guard });
    expect(r.resumedAfterPass).toBe(2);
    expect(r.passes.map((p) => [p.pass, p.skipped])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    expect(beats.every((b) => b.completedPasses >= 2)).toBe(true);
    expect(await treeDigest(production)).toEqual(await treeDigest(staging));
  });

  it('a cancelled production sync leaves no rsync behind and every repository consistent', async () => {
    const unique = `prodcancel-${randomBytes(4).toString('hex')}`;
    const staging = path.join(root, unique, 'staging');
    const production = path.join(root, unique, 'production');
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('p', 0, 40, '1.0', 8192), 'v1');
    await syncToProduction({ source: staging, target: production, reportFile: path.join(root, unique, 'r.txt'), guard });
    await removeDir(path.join(staging, 'x86_64/core-common'));
    await writeFakeRepo(staging, 'x86_64/core-common', 'x86_64', packages('p', 0, 40, '1.1', 8192), 'v2');

    const env = new MockActivityEnvironment();
    const beats = recordHeartbeats(env);
    const outcome = runIn(env, syncToProduction, { source: staging, target: production, reportFile: path.join(root, unique, 'r2.txt'), guard, allowLargeDeletion: true, bwlimitKiB: 100, heartbeatIntervalMs: 100 })
      .then(
        () => 'resolved',
        (e: unknown) => e,
      );
    const until = Date.now() + 30_000;
    while (!beats.some((b) => b.phase === 'pass1-content' && b.filesTransferred >= 2) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    env.cancel();
    expect(await outcome).toBeInstanceOf(CancelledFailure);
    expect(await rsyncRunningFor(unique)).toBe(false);
    const report: ReaderReport = { rounds: 0, repomdChecks: 0, misses: 0, staleReads: 0, examples: [] };
    await checkRepositories(production, report);
    expect(report).toMatchObject({ repomdChecks: 1, misses: 0 });
    expect(beats.at(-1)?.completedPasses).toBe(0);
  });
});
