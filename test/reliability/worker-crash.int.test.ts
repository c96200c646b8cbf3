// A worker that dies mid-work (SIGKILL to its process group: no shutdown, no cleanup) loses nothing: the server
// times out the dead attempt by its heartbeat, a new worker process retries it, and the release ends exactly as
// an undisturbed one. One release is killed three times: during reposync, during the staging rsync and during the
// production sync. Measured: time to recover, and what the retries fetched or copied again.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { productionCategory, productionSigDir, stagingSigDir } from '../../src/paths.js';
import type { ComposeResult } from '../../workflows/compose.js';
import { approveSignal, statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult, sigRelease } from '../../workflows/sigRelease.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type RequestRecord, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { serverAddress, testCatalogue, testClient, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { untilStage } from '../gate/support.js';
import {
  fastRuntime,
  groupAlive,
  groupLifetime,
  killGroup,
  mtimesOf,
  packageGets,
  processesMentioning,
  retryScheduled,
  rsyncShim,
  seconds,
  smallRequest,
  startWorkerProcess,
  tempDir,
  terminateAll,
  treeDiff,
  writeSiteYaml,
  type RsyncShim,
  type WorkerProcess,
} from './support.js';

const HEARTBEAT = '6s';
let yum: YumrepofsServer;
let shim: RsyncShim;
let client: Client;
const workflowIds: string[] = [];
const productionRoots: string[] = [];
const workers: WorkerProcess[] = [];
/** gpg-agents that dnf started and nobody stopped (pids), ended in afterAll. */
const leftovers: number[] = [];
const { address, namespace } = serverAddress();

const rpmsUnder = (dir: string) => [...treeDigest(dir).keys()].filter((f) => f.endsWith('.rpm')).length;
const isPackageGet = (r: RequestRecord) => r.method === 'GET' && /\/Packages\/.*\.rpm$/.test(r.path);
/**
 * The served packages (URL paths) that a client holds whole below `dir` (outside `skip`, an earlier compose): a file
 * of the same name and the served size.
 * The server logs a download answered once it has written the last byte to the socket; under load the client may
 * not have read it yet, so "answered" is not "downloaded" and only the client's disk says what a kill interrupted.
 */
function packagesWholeUnder(dir: string, servedRoot: string, served: string[], skip: string): string[] {
  const sizes = new Map<string, number[]>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // a folder dnf removed while we looked
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory() && path.resolve(full) !== path.resolve(skip)) walk(full);
      else if (e.isFile() && e.name.endsWith('.rpm')) {
        const size = fs.statSync(full, { throwIfNoEntry: false })?.size; // dnf may remove a file between the two calls
        if (size !== undefined) sizes.set(e.name, [...(sizes.get(e.name) ?? []), size]);
      }
    }
  };
  walk(dir);
  return served.filter((p) => (sizes.get(path.basename(p)) ?? []).includes(fs.statSync(path.join(servedRoot, p)).size));
}

interface FaultContext {
  handle: WorkflowHandle<typeof sigRelease>;
  /** Starts another worker process on the run's task queue. */
  spawnWorker(): Promise<WorkerProcess>;
  stagingDir: string;
  productionDir: string;
  composeRoot: string;
}
type Fault = (w: WorkerProcess, ctx: FaultContext) => Promise<WorkerProcess>;

interface Outcome {
  result: ReleaseResult;
  compose: ComposeResult;
  trees: { compose: Map<string, string>; staging: Map<string, string>; production: Map<string, string>; fileList: string };
  /** mtimes of the compose's and production's files (mirrors compare size and mtime). */
  mtimes: { compose: Map<string, string>; production: Map<string, string> };
  ms: { compose: number; staging: number; production: number; total: number };
  /** Workflow tasks that timed out (on a dead worker's sticky queue), parent and compose child. */
  workflowTaskTimeouts: number;
}

function treesOf(site: SiteConfig, result: ReleaseResult): Outcome['trees'] {
  return {
    // The compose's SIG tree only: its folder name carries the run's stamp, and work/ its logs and manifests.
    compose: treeDigest(path.join(result.composeDir!, 'compose', '9', 'core')),
    staging: treeDigest(stagingSigDir(site, '9', 'core')),
    production: treeDigest(productionSigDir(site, '9', 'core')),
    fileList: fs.readFileSync(path.join(productionCategory(site), 'fullfilelist'), 'utf8'),
  };
}

async function workflowTaskTimeouts(workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length;
}

/** One release served by worker processes; each fault runs when the release is in its phase and returns the worker that takes over. */
async function release(label: string, faults: { composing?: Fault; staging?: Fault; promoting?: Fault } = {}): Promise<Outcome> {
  const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
  productionRoots.push(site.productionRoot);
  const taskQueue = uniqueQueue(`crash-${label}`);
  const siteFile = writeSiteYaml(site, { address, namespace, taskQueue });
  const spawnWorker = async () => {
    const w = await startWorkerProcess({ siteFile, address, namespace, pathPrefix: shim.dir });
    workers.push(w);
    return w;
  };
  let worker = await spawnWorker();
  const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue(label)}`;
  workflowIds.push(workflowId);
  const t0 = Date.now();
  const handle = await startRelease(client, site, testCatalogue(), { ...smallRequest }, { taskQueue, workflowId, runtime: fastRuntime({ heartbeat: HEARTBEAT }) });
  const ctx: FaultContext = { handle, spawnWorker, stagingDir: stagingSigDir(site, '9', 'core'), productionDir: productionSigDir(site, '9', 'core'), composeRoot: site.composeRoot };
  const composing = await untilStage(handle, 'composing');
  const childId = composing.composeWorkflowId!;
  workflowIds.push(childId);
  if (faults.composing) worker = await faults.composing(worker, ctx);
  await untilStage(handle, ['staging', 'awaiting-approval']);
  const tCompose = Date.now();
  if (faults.staging) worker = await faults.staging(worker, ctx);
  await untilStage(handle, 'awaiting-approval');
  const tGate = Date.now();
  await handle.signal(approveSignal, { by: 'reliability', comment: label });
  if (faults.promoting) worker = await faults.promoting(worker, ctx);
  const result = await handle.result();
  const tEnd = Date.now();
  const compose = (await client.workflow.getHandle(childId).result()) as ComposeResult;
  await worker.stop();
  return {
    result,
    compose,
    trees: treesOf(site, result),
    mtimes: { compose: mtimesOf(path.join(result.composeDir!, 'compose', '9', 'core')), production: mtimesOf(productionSigDir(site, '9', 'core')) },
    ms: { compose: tCompose - t0, staging: tGate - tCompose, production: tEnd - tGate, total: tEnd - t0 },
    workflowTaskTimeouts: (await workflowTaskTimeouts(workflowId)) + (await workflowTaskTimeouts(childId)),
  };
}

/** `dnf reposync` processes writing under `composeRoot` (dnf runs as python: match the arguments, not the name). */
function reposyncProcesses(composeRoot: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes('reposync') && args.some((a) => a.includes(composeRoot))) out.push(Number(entry));
  }
  return out;
}

beforeAll(async () => {
  const tree = await buildYumrepofs(tempDir('yum'), defaultCoreFixture());
  yum = await startYumrepofs({ root: tree.root });
  shim = rsyncShim();
  client = await testClient();
});
afterAll(async () => {
  for (const w of workers) await w.stop().catch(() => undefined);
  // rsyncs the shim saw that are still alive behind a killed worker (they run in process groups of their own).
  for (const r of shim?.runs() ?? []) if (groupAlive(r.pid)) killGroup(r.pid, 'SIGKILL');
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  if (client) await terminateAll(client, workflowIds, productionRoots);
  await yum?.close();
});

describe('a worker process killed with SIGKILL during reposync, the staging rsync and the production sync', () => {
  let undisturbed: Outcome;
  let crashed: Outcome;
  const figures: string[] = [];
  const reposync = {
    answered: [] as string[],
    inFlight: [] as string[],
    /** Answered packages the killed worker's dnf held whole on disk just before the kill. */
    wholeAtKill: [] as string[],
    fetchedAgain: [] as string[],
    /** The killed worker's `dnf reposync` processes (each leads its own process group), and when they ended. */
    dnfAtKill: [] as number[],
    dnfAliveAtRetry: [] as number[],
    dnfLifetimesMs: [] as Array<number | null>,
    retryAfterMs: 0,
  };
  const rsyncs: Array<{ phase: 'staging' | 'production'; pid: number; packagesAtKill: number; aliveAfterKill: boolean; lifetimeMs: number | null; retryAfterMs: number }> = [];

  beforeAll(async () => {
    yum.resetCounters();
    undisturbed = await release('undisturbed');
    const gets = packageGets(yum.log);
    const agents = processesMentioning(undisturbed.result.composeDir!, 'gpg-agent');
    leftovers.push(...agents);
    figures.push(
      `undisturbed run: compose ${seconds(undisturbed.ms.compose)}, staging ${seconds(undisturbed.ms.staging)}, production ${seconds(undisturbed.ms.production)}, ` +
        `total ${seconds(undisturbed.ms.total)}; ${gets.size} packages fetched, each ${[...gets.values()].every((n) => n === 1) ? 'once' : 'more than once'}; ` +
        `reposync attempts ${undisturbed.compose.tasks.map((t) => t.attempt).join(',')}; gpg-agents left: ${agents.length}`,
    );

    crashed = await release('crashed', {
      // 1. Packages answer slowly (2.5 s each); the worker dies once the first downloads have been answered.
      async composing(w, { handle, spawnWorker, composeRoot }) {
        yum.resetCounters();
        yum.setFaults({ slowPaths: /\/Packages\/.*\.rpm$/, slowMs: 2500 });
        const answered = () => [...new Set(yum.log.filter((r) => isPackageGet(r) && r.status === 200).map((r) => r.path))];
        await waitFor('the first packages downloaded whole', async () => (packagesWholeUnder(composeRoot, yum.root, answered(), undisturbed.result.composeDir!).length >= 3 ? true : undefined), 120_000, 50);
        const childId = (await handle.query(statusQuery)).composeWorkflowId!;
        reposync.answered = answered();
        reposync.inFlight = [...new Set(yum.log.filter((r) => isPackageGet(r) && r.status === 0).map((r) => r.path))];
        reposync.wholeAtKill = packagesWholeUnder(composeRoot, yum.root, reposync.answered, undisturbed.result.composeDir!);
        const killedAt = yum.log.length;
        reposync.dnfAtKill = reposyncProcesses(composeRoot);
        const tKill = Date.now();
        await w.crash();
        yum.setFaults(null);
        // From now on rsync transfers crawl at 16 KiB/s, so the staging sync is still running when the next kill comes.
        shim.setBwlimit(16);
        const lifetimes = Promise.all(reposync.dnfAtKill.map((pid) => groupLifetime(pid, 90_000)));
        const [next, retryAfter] = await Promise.all([
          spawnWorker(),
          retryScheduled(client, childId, 'runReposyncTask').then((ms) => {
            // The moment the retry is seen scheduled, before its new dnf could start on the same folder.
            reposync.dnfAliveAtRetry = reposync.dnfAtKill.filter((pid) => groupAlive(pid));
            return ms;
          }),
        ]);
        reposync.dnfLifetimesMs = await lifetimes;
        reposync.retryAfterMs = retryAfter;
        await untilStage(handle, ['staging', 'awaiting-approval']);
        const recovered = Date.now() - tKill;
        const after = yum.log.slice(killedAt).filter((r) => isPackageGet(r) && r.status === 200);
        reposync.fetchedAgain = [...new Set(after.map((r) => r.path))];
        const completeAgain = reposync.wholeAtKill.filter((p) => reposync.fetchedAgain.includes(p));
        const bytesAgain = after.reduce((n, r) => n + fs.statSync(path.join(yum.root, r.path)).size, 0);
        figures.push(
          `reposync: killed with ${reposync.answered.length} package downloads answered (${reposync.wholeAtKill.length} of them whole on disk) and ${reposync.inFlight.length} in flight; ` +
            `new worker polling after ${seconds(next.startupMs)}; retry scheduled ${seconds(retryAfter)} after the kill (heartbeat timeout ${HEARTBEAT}); ` +
            `compose finished ${seconds(recovered)} after the kill; fetched again: ${reposync.fetchedAgain.length} packages, ${bytesAgain} bytes ` +
            `(${reposync.inFlight.filter((p) => reposync.fetchedAgain.includes(p)).length} of those in flight, ${completeAgain.length} of those whole on disk at the kill); ` +
            `dnf reposync processes of the killed worker: ${reposync.dnfAtKill.length}, ended ${reposync.dnfLifetimesMs.map((ms) => (ms === null ? 'never (90 s)' : seconds(ms))).join(', ')} after the kill`,
        );
        return next;
      },
      // 2. Transfers crawl at 16 KiB/s; the worker dies once staging has its first package; the retry runs at full speed.
      async staging(w, ctx) {
        const next = await killDuringRsync('staging', w, ctx, ctx.stagingDir, 'syncToStaging', () => untilStage(ctx.handle, 'awaiting-approval'));
        // Slow again before the approval, for the production sync.
        shim.setBwlimit(16);
        return next;
      },
      // 3. The same in the production sync (pass 1 of 3: content), once production has its first package.
      async promoting(w, ctx) {
        return killDuringRsync('production', w, ctx, ctx.productionDir, 'syncToProduction', () => ctx.handle.result());
      },
    });
    const agents2 = processesMentioning(crashed.result.composeDir!, 'gpg-agent');
    leftovers.push(...agents2);
    const p = crashed.result.production!;
    figures.push(
      `production retry resumed after pass ${p.resumedAfterPass} and transferred ${p.transferredFiles} files, ${p.transferredBytes} bytes ` +
        `(undisturbed: ${undisturbed.result.production!.transferredFiles} files, ${undisturbed.result.production!.transferredBytes} bytes); ` +
        `staging retry transferred ${crashed.result.staging!.transferredFiles} files, ${crashed.result.staging!.transferredBytes} bytes ` +
        `(undisturbed: ${undisturbed.result.staging!.transferredFiles} files, ${undisturbed.result.staging!.transferredBytes} bytes)`,
      `crashed run: total ${seconds(crashed.ms.total)} (undisturbed ${seconds(undisturbed.ms.total)}); workflow tasks timed out on a dead worker's sticky queue: ` +
        `${crashed.workflowTaskTimeouts} (undisturbed ${undisturbed.workflowTaskTimeouts}); reposync attempts ${crashed.compose.tasks.map((t) => `${t.name}#${t.attempt}`).join(', ')}; ` +
        `gpg-agents left: ${agents2.length}`,
    );
    for (const f of figures) console.log(`[worker-crash] ${f}`);
  }, 600_000);

  async function killDuringRsync(
    phase: 'staging' | 'production',
    w: WorkerProcess,
    ctx: FaultContext,
    target: string,
    activity: string,
    untilDone: () => Promise<unknown>,
  ): Promise<WorkerProcess> {
    const run = await waitFor(`the ${phase} rsync transfer to start`, async () => shim.runs().find((r) => !r.dryRun && r.target.startsWith(target)), 120_000, 50);
    await waitFor(`${phase} to receive its first package`, async () => (rpmsUnder(target) >= 1 ? true : undefined), 60_000, 50);
    const before = rpmsUnder(target);
    const tKill = Date.now();
    await w.crash();
    shim.setBwlimit(null);
    const aliveAfterKill = groupAlive(run.pid);
    const [next, lifetimeMs, retryAfterMs] = await Promise.all([ctx.spawnWorker(), groupLifetime(run.pid, 90_000), retryScheduled(client, ctx.handle.workflowId, activity)]);
    await untilDone();
    const recovered = Date.now() - tKill;
    rsyncs.push({ phase, pid: run.pid, packagesAtKill: before, aliveAfterKill, lifetimeMs, retryAfterMs });
    const transfers = shim.runs().filter((r) => !r.dryRun && r.target.startsWith(target)).length;
    figures.push(
      `${phase} rsync: killed with ${before} packages in ${phase}; the killed worker's rsync ` +
        (aliveAfterKill ? `(its own process group) ended ${lifetimeMs === null ? 'more than 90 s' : seconds(lifetimeMs)} after the kill` : 'died with the worker') +
        `; retry scheduled ${seconds(retryAfterMs)} after the kill; ${phase} done ${seconds(recovered)} after the kill; rsync transfers into ${phase}: ${transfers}`,
    );
    return next;
  }

  it('finishes the release on the new workers: the killed activities are retried, not lost', () => {
    expect(undisturbed.result.outcome).toBe('promoted');
    expect(undisturbed.compose.tasks.every((t) => t.attempt === 1)).toBe(true);
    expect(crashed.result.outcome).toBe('promoted');
    expect(crashed.compose.tasks.some((t) => t.attempt > 1)).toBe(true);
    // Each rsync kill came mid-transfer: some packages had arrived, not all.
    const packages = [...crashed.trees.staging.keys()].filter((f) => f.endsWith('.rpm')).length;
    expect(rsyncs.map((r) => r.phase)).toEqual(['staging', 'production']);
    for (const r of rsyncs) expect(r.packagesAtKill, r.phase).toBeLessThan(packages);
  });

  it('ends with the same compose, staging, production and file list as the undisturbed run', () => {
    expect(crashed.trees.compose.size).toBeGreaterThan(0);
    expect(treeDiff(crashed.trees.compose, undisturbed.trees.compose)).toEqual([]);
    expect(treeDiff(crashed.trees.staging, undisturbed.trees.staging)).toEqual([]);
    expect(treeDiff(crashed.trees.production, undisturbed.trees.production)).toEqual([]);
    expect(crashed.trees.fileList).toBe(undisturbed.trees.fileList);
  });

  it('gives every file the same modification time as the undisturbed run (the upstream time), so mirrors see no change', () => {
    const differing = treeDiff(crashed.mtimes.compose, undisturbed.mtimes.compose);
    console.log(`[worker-crash] files whose mtime differs from the undisturbed run: compose ${differing.length}, production ${treeDiff(crashed.mtimes.production, undisturbed.mtimes.production).length}`);
    expect(differing).toEqual([]);
    expect(treeDiff(crashed.mtimes.production, undisturbed.mtimes.production)).toEqual([]);
  });

  it('leaves no dnf reposync of the killed worker running once the retry is scheduled (it dies with its worker)', () => {
    // Two reposyncs writing into one compose folder at once is what this forbids.
    expect(reposync.dnfAtKill.length, 'dnf reposync processes running when the worker was killed').toBeGreaterThan(0);
    expect(reposync.dnfAliveAtRetry, 'dnf processes still alive when the retry was scheduled').toEqual([]);
    for (const ms of reposync.dnfLifetimesMs) {
      expect(ms, 'a dnf of the killed worker outlived the 90 s watch').not.toBeNull();
      expect(ms!).toBeLessThan(reposync.retryAfterMs);
    }
  });

  it('fetches again only the packages whose download the kill interrupted', () => {
    // What dnf held whole when its worker died is not downloaded again; what it had not (in flight, or answered by
    // the server but not yet read by a client starved of CPU) is.
    expect(reposync.wholeAtKill.length).toBeGreaterThanOrEqual(3);
    expect(reposync.fetchedAgain.filter((p) => reposync.wholeAtKill.includes(p))).toEqual([]);
  });

  it('does not copy again what reached production before the kill: the retry transfers less than a full sync', () => {
    const p = crashed.result.production!;
    expect(p.passes.map((x) => x.pass)).toEqual([1, 2, 3]);
    expect(p.transferredBytes).toBeLessThan(undisturbed.result.production!.transferredBytes);
  });

  it('leaves no rsync of the killed worker writing into staging or production once the retry is scheduled', () => {
    // Two rsyncs into one tree at once, one of them outside the production lock, is what this forbids.
    const overlapping = rsyncs.filter((r) => r.lifetimeMs === null || r.lifetimeMs >= r.retryAfterMs);
    expect(overlapping, `killed workers' rsyncs that outlived the retry's start: ${JSON.stringify(overlapping)}`).toEqual([]);
  });
});
