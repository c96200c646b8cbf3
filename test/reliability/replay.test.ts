// Determinism across upgrades: histories recorded from real runs (test/reliability/histories/, written by
// record-histories.ts) replay against the current workflow code without a determinism violation. A release can
// wait days at the approval gate while new worker code is deployed; if this test fails, the change would break the
// runs that are open at deploy time: guard it with `patched()` (temporal-notes §2.11), or re-record the histories
// if breaking them is intended. No server needed: replay runs offline.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../src/bundleOptions.js';
import type { HistoryIndex } from './record-histories.js';

// Replay logs every nondeterminism it finds (the test provokes one); errors are asserted below, not printed.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
} catch {
  /* already installed in this process */
}

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const variant = (name: string) => fileURLToPath(new URL(`./workflow-variants/${name}.ts`, import.meta.url));
const index = JSON.parse(fs.readFileSync(path.join(HISTORIES, 'index.json'), 'utf8')) as HistoryIndex;
const load = (file: string) => JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as unknown;
const entry = (file: string) => {
  const e = index.histories.find((h) => h.file === file);
  if (!e) throw new Error(`${file} is not in histories/index.json; run test/reliability/record-histories.ts`);
  return e;
};
/**
 * Histories recorded by earlier versions (histories/archive/<commit>/, each with its own index.json): runs that
 * were open when a later version shipped. They must keep replaying, through the `patched()` guards.
 */
const ARCHIVE = path.join(HISTORIES, 'archive');
const archived = fs.existsSync(ARCHIVE)
  ? fs.readdirSync(ARCHIVE).sort().map((dir) => {
      const idx = JSON.parse(fs.readFileSync(path.join(ARCHIVE, dir, 'index.json'), 'utf8')) as HistoryIndex;
      return { dir, index: idx, load: (file: string) => JSON.parse(fs.readFileSync(path.join(ARCHIVE, dir, file), 'utf8')) as unknown };
    })
  : [];
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
// With the interceptors every deployed bundle carries (the sig/release header on activities): they must not
// change what replay compares either.
const bundle = async (workflowsPath: string): Promise<WorkflowBundle> => ({
  code: (await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: quiet })).code,
});

describe('recorded workflow histories', () => {
  let current: WorkflowBundle;
  beforeAll(async () => {
    current = await bundle(WORKFLOWS_PATH);
  });

  it('cover a completed release, its compose, the production lock and a release waiting at the gate', () => {
    expect(index.histories.map((h) => h.file).sort()).toEqual(
      ['composeSig-completed.json', 'productionLock-after-grant.json', 'sigRelease-awaiting-approval.json', 'sigRelease-promoted.json'].sort(),
    );
    for (const h of index.histories) expect(fs.existsSync(path.join(HISTORIES, h.file)), h.file).toBe(true);
    console.log(`[replay] histories recorded ${index.recordedAt} at ${index.commit}${index.workflowsDirty ? ' (workflows had uncommitted changes)' : ''}`);
  });

  it('replay against the current workflow code without a determinism violation', async () => {
    const t0 = Date.now();
    const results: Array<{ workflowId: string; error?: Error }> = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: current, replayName: 'reliability-current' },
      index.histories.map((h) => ({ workflowId: h.workflowId, history: load(h.file) })),
    )) {
      results.push(r);
    }
    console.log(`[replay] ${results.length} histories replayed in ${Date.now() - t0} ms`);
    expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? `${r.error.name}: ${r.error.message}` : null }))).toEqual(
      index.histories.map((h) => ({ workflowId: h.workflowId, error: null })),
    );
  });

  it('include every archived version', () => {
    expect(archived.map((a) => a.dir)).toEqual(expect.arrayContaining(['513b5b0', '1fb85d4', '7e12bbc', 'aa96f5a', 'e9b14ba', 'ba34451', 'a910a27']));
  });

  // One case per archived version, so that one version that no longer replays does not hide another.
  it.each(archived.map((a) => [a.dir, a] as const))('recorded at %s (runs open at an upgrade) replay against the current code, or fail as their index says', async (_dir, a) => {
    const results: Array<{ workflowId: string; error?: Error }> = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: current, replayName: `reliability-archive-${a.dir}` },
      a.index.histories.map((h) => ({ workflowId: h.workflowId, history: a.load(h.file) })),
    )) {
      results.push(r);
    }
    console.log(`[replay] ${results.length} histories recorded at ${a.index.commit} replayed`);
    // A history whose index entry says `noLongerReplays` must fail with a determinism violation: the reason is
    // kept beside it, and if it ever replays again the note is wrong and this test says so.
    expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? r.error.name : null }))).toEqual(
      a.index.histories.map((h) => ({ workflowId: h.workflowId, error: h.noLongerReplays ? 'DeterminismViolationError' : null })),
    );
    for (const [i, r] of results.entries()) {
      if (r.error && !a.index.histories[i]!.noLongerReplays) console.error(r.error.message);
    }
  });

  describe('a changed sigRelease', () => {
    const histories = ['sigRelease-promoted.json', 'sigRelease-awaiting-approval.json'];

    it.each(histories)('that runs an extra activity before resolveRelease, unguarded, fails to replay %s with a DeterminismViolationError', async (file) => {
      const incompatible = await bundleOnce('incompatible');
      const err = await Worker.runReplayHistory({ workflowBundle: incompatible, replayName: 'reliability-incompatible' }, load(file), entry(file).workflowId).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DeterminismViolationError);
      // The message says what did not match: the recorded first step versus the new activity.
      expect(String((err as Error).message)).toMatch(/nondetermin/i);
    });

    it.each(histories)('that has the same change behind patched() replays %s', async (file) => {
      const patched = await bundleOnce('patched');
      await expect(Worker.runReplayHistory({ workflowBundle: patched, replayName: 'reliability-patched' }, load(file), entry(file).workflowId)).resolves.toBeUndefined();
    });
  });
});

const bundles = new Map<string, Promise<WorkflowBundle>>();
function bundleOnce(name: 'incompatible' | 'patched'): Promise<WorkflowBundle> {
  if (!bundles.has(name)) bundles.set(name, bundle(variant(name)));
  return bundles.get(name)!;
}
