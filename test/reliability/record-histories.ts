// Records the workflow histories that test/reliability/replay.test.ts replays against the current workflow code.
// Run it again whenever the workflows change ON PURPOSE (a new activity, timer, child or reordering, shipped with
// a `patched()` guard or a deliberate break), and commit the JSON files it writes:
//
//   npx tsx test/reliability/record-histories.ts
//
// It starts its own dev server, fixture build system and workers (nothing shared), runs one small release to
// completion (approved by update) and one to the approval gate (waiting, after one reminder), and writes:
//   histories/sigRelease-promoted.json             a completed run
//   histories/composeSig-completed.json            its compose child
//   histories/productionLock-after-grant.json      the production lock after one grant and release (still open)
//   histories/sigRelease-awaiting-approval.json    a run waiting at the gate
//   histories/index.json                           file → workflow ID and type (histories carry no workflow ID)
// Before re-recording, move the current set to histories/archive/<short commit>/ (its index.json included) when
// runs of that version could still be open somewhere: the replay test replays every archived set too.
// Histories are in the JSON form of `temporal workflow show --output json` (historyToJSON).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Client, Connection } from '@temporalio/client';
// Not re-exported by the package index; the same function the CLI's JSON history format goes through.
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startRelease } from '../../src/client.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import { startDevServer } from '../../src/devserver.js';
import { productionSigDir } from '../../src/paths.js';
import { createWorkers } from '../../src/worker.js';
import { approveUpdate, statusQuery, type ReleaseStatus } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs } from '../fixtures/yumrepofs.js';

export const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));

export interface HistoryIndexEntry {
  file: string;
  workflowId: string;
  workflowType: 'sigRelease' | 'composeSig' | 'productionLock';
  description: string;
  /**
   * Set by hand in an archive's index.json when a later version broke this history on purpose or by a past
   * mistake that cannot be undone: why it no longer replays. The replay test then expects the violation.
   */
  noLongerReplays?: string;
}
export interface HistoryIndex {
  recordedAt: string;
  /** `git rev-parse HEAD` and whether workflows/ had uncommitted changes when recorded. */
  commit: string;
  workflowsDirty: boolean;
  histories: HistoryIndexEntry[];
}

const request = { release: '9', sig: 'core', hashed: true, fullRun: true, ignoreDebug: true, arches: ['x86_64'] };
const runtime = (reminderInterval: string): RuntimeOptions => ({
  approval: { reminderInterval, expireAfter: '30d' },
  timeouts: { heartbeat: '30s', retryInitial: '1s', maxAttempts: 3 },
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stage(client: Client, workflowId: string, wanted: (s: ReleaseStatus) => boolean, what: string): Promise<ReleaseStatus> {
  return until(what, async () => {
    const st = await client.workflow.getHandle(workflowId).query(statusQuery);
    if (st.stage === 'failed') throw new Error(`${workflowId} failed: ${st.error}`);
    return wanted(st) ? st : undefined;
  });
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-record-'));
  const server = await startDevServer({ dbFile: path.join(work, 'temporal.db'), headless: true, logFile: path.join(work, 'server.log') });
  const tree = await buildYumrepofs(path.join(work, 'yum'), defaultCoreFixture());
  const yum = await startYumrepofs({ root: tree.root });
  // A short metadata grace period, so the promoted run goes through the grace timer (the `patched()` path).
  const site = parseSite(
    localSiteRaw(path.join(work, 'site'), { repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { publish: { metadataGrace: '2s' } } }),
    'recording site',
  );
  initRoots(site);
  // A package an earlier release left in production: the promoted run has something to delete, so it waits out
  // the grace period on its timer (and its approval must allow the deletion the guard flags).
  const stale = path.join(productionSigDir(site, '9', 'core'), 'x86_64', 'core-common', 'Packages', 'z', 'zulu-core-common-0.9-1.el9.x86_64.rpm');
  fs.mkdirSync(path.dirname(stale), { recursive: true });
  fs.writeFileSync(stale, 'from an earlier release\n');
  const catalogue = loadCatalogue();
  const taskQueue = 'sigrelease-record-histories';
  const { workers, close } = await createWorkers({ address: server.address, namespace: server.namespace, site, catalogue, queues: ['control', 'host'], taskQueue });
  const runs = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const entries: HistoryIndexEntry[] = [];
  const save = async (file: string, workflowId: string, workflowType: HistoryIndexEntry['workflowType'], description: string) => {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(path.join(HISTORIES_DIR, file), JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
    entries.push({ file, workflowId, workflowType, description });
    console.log(`recorded ${file}: ${history.events?.length ?? 0} events of ${workflowId}`);
  };
  try {
    fs.mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const f of fs.readdirSync(HISTORIES_DIR)) if (f.endsWith('.json')) fs.rmSync(path.join(HISTORIES_DIR, f));

    // (a) A completed run: compose, staging, the gate, an approval by update, production, hardlink, file lists.
    const promotedId = 'sigrelease-core-9-history-promoted';
    const promoted = await startRelease(client, site, catalogue, request, { taskQueue, workflowId: promotedId, runtime: runtime('1h') });
    const atGate = await stage(client, promotedId, (s) => s.stage === 'awaiting-approval', 'the first run to reach the gate');
    await promoted.executeUpdate(approveUpdate, { args: [{ by: 'recorder', comment: 'recorded history', allowLargeDeletion: true }] });
    const result = await promoted.result();
    if (result.outcome !== 'promoted') throw new Error(`expected a promoted run, got ${result.outcome}`);
    if (fs.existsSync(stale)) throw new Error('the promoted run did not delete what left staging');
    await save('sigRelease-promoted.json', promotedId, 'sigRelease', 'a release approved by update and promoted, file lists published');
    await save('composeSig-completed.json', atGate.composeWorkflowId!, 'composeSig', 'the compose child of sigRelease-promoted');
    await save('productionLock-after-grant.json', lockWorkflowId(site.productionRoot), 'productionLock', 'the production lock after granting and getting back one lock (still open)');

    // (b) A run waiting at the gate, after its first reminder.
    const waitingId = 'sigrelease-core-9-history-awaiting-approval';
    const waiting = await startRelease(client, site, catalogue, request, { taskQueue, workflowId: waitingId, runtime: runtime('3s') });
    await stage(client, waitingId, (s) => s.stage === 'awaiting-approval' && s.remindersSent >= 1, 'the second run to wait at the gate and send a reminder');
    await save('sigRelease-awaiting-approval.json', waitingId, 'sigRelease', 'a release waiting at the approval gate after one reminder (still open)');
    await waiting.terminate('history recorded');
    await client.workflow.getHandle(lockWorkflowId(site.productionRoot)).terminate('history recorded').catch(() => undefined);

    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const commit = (await execa('git', ['rev-parse', 'HEAD'], { cwd: repo, reject: false })).stdout.trim() || 'unknown';
    const dirty = (await execa('git', ['status', '--porcelain', '--', 'workflows'], { cwd: repo, reject: false })).stdout.trim() !== '';
    const index: HistoryIndex = { recordedAt: new Date().toISOString(), commit, workflowsDirty: dirty, histories: entries };
    fs.writeFileSync(path.join(HISTORIES_DIR, 'index.json'), JSON.stringify(index, null, 2) + '\n');
    console.log(`wrote ${entries.length} histories to ${HISTORIES_DIR} (workflows at ${commit}${dirty ? ', with uncommitted changes' : ''})`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(runs);
    await close();
    await connection.close();
    await server.stop();
    await yum.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
