// Compose benchmark, the real path: a sigRelease run (compose only, full run) whose `composeSig` child schedules
// every reposync task through a Temporal dev server, served by a worker in this process (the one-process
// deployment: `sigrelease worker` polling both queues), against the plain `dnf reposync` loop of plain.ts at the
// same parallelism. Two SIGs: today's 15 tasks (3 repos × 2 arches × 3 kinds, as run.ts) and a wide one of
// 17 repos × 4 arches × 3 kinds = 153 tasks.
//
// What is compared: the child from its start to the completion of its last reposync task (the same span the
// in-process part of run.ts measures: prepareCompose + every task), read from the child's history on the
// server, against the plain loop's wall time. Verification, the manifest and the `latest` flip have no plain
// counterpart; they are printed beside it, as is the whole run as the client sees it.
import fs from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { buildYumrepofs, startYumrepofs, type FixtureSpec, type FixturePackage } from '../../test/fixtures/yumrepofs.js';
import { parseSite } from '../../src/config/load.js';
import { initRoots } from '../../src/config/roots.js';
import { releaseRequestSchema, sigFileSchema, type SigFile } from '../../src/config/schema.js';
import { planCompose, planTasks } from '../../src/compose/plan.js';
import { composeStamp, latestLink } from '../../src/paths.js';
import { startDevServer } from '../../src/devserver.js';
import { startRelease } from '../../src/client.js';
import { createWorkers } from '../../src/worker.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { dirStats, median, plainReposyncLoop, plainReposyncShell } from './plain.js';
import { dnfRunsInLog } from '../../src/compose/taskLog.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface WorkflowBenchOptions {
  runs: number;
  /** Source packages per repo of the 15-task SIG (run.ts's --packages). */
  packages: number;
  /** Source packages per repo of the 153-task SIG: few, so the fixture builds quickly and orchestration shows. */
  widePackages: number;
  sizeBytes: number;
  parallelism: number;
  /** The dev server keeps its state in a SQLite file (as `./dev demo` does) rather than in memory (as the tests do). */
  serverDbFile?: boolean;
  /** Which of the two SIGs to run ('15', '150'); both by default. */
  sizes?: string[];
}

interface SigShape {
  /** The size's name in the printed keys (`overhead_ratio_<label>=`). */
  label: string;
  sig: string;
  projectId: string;
  repos: string[];
  arches: string[];
  packages: number;
}

/** Where the time of one child run went, from its history (server clock). */
export interface ChildTimeline {
  /** Child start → last runReposyncTask completed. */
  fetchMs: number;
  /** The same two instants, epoch ms (server clock, this machine's). */
  startMs: number;
  lastTaskMs: number;
  /** Child start → child completed. */
  childMs: number;
  prepareMs: number;
  verifyMs: number;
  /** Manifest and latest flip. */
  afterVerifyMs: number;
  /** Reposync tasks: scheduled → started (waiting for a worker slot or the poll), summed and the largest. */
  queueMsSum: number;
  queueMsMax: number;
  /** Reposync tasks: started → completed, summed (the work itself). */
  runMsSum: number;
  /** Completion of one task → scheduling of the next, summed over the tasks after the first `parallelism`. */
  refillMsSum: number;
  tasks: number;
  events: number;
}

const at = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** User + system CPU seconds a process has used so far (0 when it cannot be read). */
function processCpuS(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Summed time dnf ran in one compose, and when the first dnf began and the last ended, from its task logs (src/compose/taskLog.ts). */
async function dnfBusy(composeDir: string): Promise<{ busyMs: number; firstStartMs: number; lastEndMs: number }> {
  const logRoot = path.join(composeDir, 'work', 'logs');
  let busyMs = 0;
  let firstStartMs = Number.POSITIVE_INFINITY;
  let lastEndMs = 0;
  for (const stamp of await fs.readdir(logRoot)) {
    for (const name of await fs.readdir(path.join(logRoot, stamp))) {
      for (const run of dnfRunsInLog(await fs.readFile(path.join(logRoot, stamp, name), 'utf8'))) {
        if (run.endMs === null) continue;
        busyMs += run.endMs - run.startMs;
        firstStartMs = Math.min(firstStartMs, run.startMs);
        lastEndMs = Math.max(lastEndMs, run.endMs);
      }
    }
  }
  return { busyMs, firstStartMs, lastEndMs };
}

/** CPU seconds per thread name of this process so far (threads that ended are not counted). */
function threadCpuS(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      /* gone */
    }
  }
  return out;
}

function addThreads(into: Map<string, number>, before: Map<string, number>, after: Map<string, number>): void {
  for (const [k, v] of after) into.set(k, (into.get(k) ?? 0) + v - (before.get(k) ?? 0));
}

/** Reads one composeSig history into the figures above. */
export function childTimeline(events: HistoryEvent[], parallelism: number): ChildTimeline {
  const start = at(events[0]!);
  const end = at(events.at(-1)!);
  const scheduled = new Map<string, { type: string; t: number }>();
  const started = new Map<string, number>();
  const byType = new Map<string, Array<{ scheduled: number; started: number; completed: number }>>();
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', t: at(e) });
    else if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at(e));
    else if (e.activityTaskCompletedEventAttributes) {
      const sid = String(e.activityTaskCompletedEventAttributes.scheduledEventId);
      const s = scheduled.get(sid)!;
      const list = byType.get(s.type) ?? [];
      list.push({ scheduled: s.t, started: started.get(sid) ?? s.t, completed: at(e) });
      byType.set(s.type, list);
    }
  }
  const span = (type: string) => (byType.get(type) ?? []).reduce((ms, a) => ms + (a.completed - a.scheduled), 0);
  const tasks = byType.get('runReposyncTask') ?? [];
  const lastTask = Math.max(...tasks.map((t) => t.completed));
  const verifyDone = Math.max(...(byType.get('verifyCompose') ?? []).map((a) => a.completed));
  // Each task after the first `parallelism` took the slot of one that completed: the gap is the round trip
  // through the server and a workflow task before the slot works again.
  const completions = tasks.map((t) => t.completed).sort((a, b) => a - b);
  const schedules = tasks.map((t) => t.scheduled).sort((a, b) => a - b);
  let refillMsSum = 0;
  for (let i = parallelism; i < schedules.length; i++) refillMsSum += Math.max(0, schedules[i]! - completions[i - parallelism]!);
  return {
    fetchMs: lastTask - start,
    startMs: start,
    lastTaskMs: lastTask,
    childMs: end - start,
    prepareMs: span('prepareCompose'),
    verifyMs: span('verifyCompose'),
    afterVerifyMs: end - verifyDone,
    queueMsSum: tasks.reduce((ms, t) => ms + (t.started - t.scheduled), 0),
    queueMsMax: Math.max(...tasks.map((t) => t.started - t.scheduled)),
    runMsSum: tasks.reduce((ms, t) => ms + (t.completed - t.started), 0),
    refillMsSum,
    tasks: tasks.length,
    events: events.length,
  };
}

function sigFileFor(shape: SigShape): SigFile {
  return sigFileSchema.parse({
    sig: shape.sig,
    name: `Bench ${shape.sig}`,
    releases: { '9': { projectId: shape.projectId, repos: Object.fromEntries(shape.repos.map((r) => [r, { arches: shape.arches }])) } },
  });
}

function fixtureFor(shapes: SigShape[], sizeBytes: number): FixtureSpec {
  const projects: FixtureSpec['projects'] = {};
  for (const s of shapes) {
    const packages: FixturePackage[] = Array.from({ length: s.packages }, (_, i) => ({ name: `pkg${String(i).padStart(3, '0')}`, version: '1.0', sizeBytes }));
    projects[s.projectId] = Object.fromEntries(s.repos.map((r) => [r, { arches: [...s.arches], packages }]));
  }
  return { projects, variants: ['hashed'] };
}

/**
 * Runs the workflow part of bench/compose and prints its lines (one block per size); returns the overhead ratio
 * of each size, smallest first.
 */
export async function benchComposeWorkflow(o: WorkflowBenchOptions): Promise<Array<{ label: string; tasks: number; ratio: number }>> {
  const shapes: SigShape[] = [
    // run.ts's SIG, under another name so that the two parts never share a compose folder or `latest`.
    { label: '15', sig: 'benchwf', projectId: 'b0b0b0b0-1111-4222-8333-444455556666', repos: ['bench-common', 'bench-extras', 'bench-tools'], arches: ['x86_64', 'aarch64'], packages: o.packages },
    {
      label: '150',
      sig: 'benchwide',
      projectId: 'b1b1b1b1-1111-4222-8333-444455556666',
      repos: Array.from({ length: 17 }, (_, i) => `wide-${String(i).padStart(2, '0')}`),
      arches: ['x86_64', 'aarch64', 'ppc64le', 's390x'],
      packages: o.widePackages,
    },
  ].filter((s) => o.sizes === undefined || o.sizes.includes(s.label));
  if (shapes.length === 0) throw new Error(`--sizes: pick 15, 150 or both, got ${o.sizes?.join(',')}`);
  // The worker's state changes are not figures: warnings and errors only.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-compose-wf-'));
  const closers: Array<() => Promise<void>> = [];
  try {
    const t0 = Date.now();
    const tree = await buildYumrepofs(path.join(tmp, 'upstream'), fixtureFor(shapes, o.sizeBytes));
    const yum = await startYumrepofs({ root: tree.root });
    closers.push(() => yum.close());
    const server = await startDevServer({ ...(o.serverDbFile ? { dbFile: path.join(tmp, 'temporal.db') } : {}), headless: true, logFile: path.join(tmp, 'server.log') });
    closers.push(() => server.stop());
    console.log(`workflow part: fixture and dev server ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const site = parseSite({
      composeRoot: path.join(tmp, 'compose'),
      stagingRoot: path.join(tmp, 's'),
      productionRoot: path.join(tmp, 'p'),
      repoBaseUrl: yum.baseUrl,
      releases: { '9': { revision: '9.7' } },
      owner: null,
      compose: { parallelism: o.parallelism, gpgCheck: false, repoGpgCheck: false },
      temporal: { address: server.address, namespace: server.namespace, taskQueue: 'bench-compose' },
    });
    initRoots(site);
    const catalogue = Object.fromEntries(shapes.map((s) => [s.sig, sigFileFor(s)]));
    // As `sigrelease worker` runs by default: one process polling the control and the host queue.
    const { workers, close } = await createWorkers({ address: server.address, namespace: server.namespace, site, catalogue, queues: ['control', 'host'] });
    const running = workers.map((w) => w.run());
    closers.unshift(async () => {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await close();
    });
    // A 153-task child's history is over gRPC's default 4 MiB (every task's input carries the whole plan).
    const connection = await Connection.connect({ address: server.address, channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } });
    closers.unshift(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });

    // CPU seconds of the server and of this process (the worker) over each side's runs: on two cores, whatever
    // the orchestration burns beside dnf is wall time dnf does not get.
    const cpu = () => {
      const usage = process.resourceUsage();
      return { server: processCpuS(server.pid), self: (usage.userCPUTime + usage.systemCPUTime) / 1e6, faults: usage.minorPageFault };
    };
    let runId = 0;
    const ours = async (sig: string) => {
      const workflowId = `bench-${sig}-${runId++}`;
      const startedAt = performance.now();
      const handle = await startRelease(client, site, catalogue, { release: '9', sig, hashed: true, fullRun: true, composeOnly: true }, { workflowId });
      const result = await handle.result();
      const clientMs = performance.now() - startedAt;
      if (result.outcome !== 'composed') throw new Error(`${workflowId} ended ${result.outcome}, not composed`);
      const parent = (await handle.fetchHistory()).events ?? [];
      const childId = parent.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (!childId) throw new Error(`${workflowId} started no compose child`);
      const child = (await client.workflow.getHandle(childId).fetchHistory()).events ?? [];
      const composeDir = await fs.realpath(latestLink(site, '9', sig));
      // The next round composes from nothing again, as the plain loop does: no `latest` to seed from.
      await fs.rm(latestLink(site, '9', sig));
      const timeline = childTimeline(child, o.parallelism);
      const busy = await dnfBusy(composeDir);
      // Before the first dnf: the child's first workflow task, prepareCompose, scheduling, the first task's checks.
      // After the last: its clean-up, counting and key, its completion through the server.
      return { timeline, clientMs, composeDir, dnfMs: busy.busyMs, leadInMs: busy.firstStartMs - timeline.startMs, tailMs: timeline.lastTaskMs - busy.lastEndMs };
    };
    const planFor = (sig: string, i: number) =>
      planCompose(
        releaseRequestSchema.parse({ release: '9', sig, hashed: true, fullRun: true }),
        { sigFile: catalogue[sig]!, entry: catalogue[sig]!.releases['9']!, revision: '9.7' },
        site,
        composeStamp(Date.UTC(2026, 0, 1, 0, 0, i)),
      );

    const ratios: Array<{ label: string; tasks: number; ratio: number }> = [];
    let warmedUp = false;
    for (const shape of shapes) {
      const tasks = planTasks(planFor(shape.sig, 0)).length;
      // One warm-up of each side (page cache, Python bytecode, the worker's first workflow tasks), once.
      if (!warmedUp) {
        await fs.rm((await ours(shape.sig)).composeDir, { recursive: true });
        await plainReposyncLoop(planFor(shape.sig, 999), path.join(tmp, 'plain-warm'));
        warmedUp = true;
      }
      const timelines: ChildTimeline[] = [];
      const clientMs: number[] = [];
      const dnfMs: number[] = [];
      const leadInMs: number[] = [];
      const tailMs: number[] = [];
      const plainMs: number[] = [];
      const shellMs: number[] = [];
      let size = { files: 0, bytes: 0 };
      const threadsOurs = new Map<string, number>();
      const threadsPlain = new Map<string, number>();
      type Cpu = ReturnType<typeof cpu>;
      const cpuOurs: Cpu = { server: 0, self: 0, faults: 0 };
      const cpuPlain: Cpu = { server: 0, self: 0, faults: 0 };
      const add = (into: Cpu, a: Cpu, b: Cpu) => {
        into.server += b.server - a.server;
        into.self += b.self - a.self;
        into.faults += b.faults - a.faults;
      };
      for (let i = 0; i < o.runs; i++) {
        const c0 = cpu();
        const t0 = threadCpuS();
        const a = await ours(shape.sig);
        add(cpuOurs, c0, cpu());
        addThreads(threadsOurs, t0, threadCpuS());
        timelines.push(a.timeline);
        clientMs.push(a.clientMs);
        dnfMs.push(a.dnfMs);
        leadInMs.push(a.leadInMs);
        tailMs.push(a.tailMs);
        size = await dirStats(a.composeDir);
        await fs.rm(a.composeDir, { recursive: true });
        const base = path.join(tmp, `plain-${shape.sig}-${i}`);
        const c1 = cpu();
        const t1 = threadCpuS();
        const b = await plainReposyncLoop(planFor(shape.sig, 100 + i), base);
        add(cpuPlain, c1, cpu());
        addThreads(threadsPlain, t1, threadCpuS());
        plainMs.push(b.ms);
        const bs = await dirStats(b.dir);
        if (bs.files !== size.files) throw new Error(`plain sync got ${bs.files} packages, the workflow ${size.files}`);
        await fs.rm(base, { recursive: true });
        // The same loop from a shell (xargs -P): dnf forked by a small process, as the seed's scripts do.
        const sh = await plainReposyncShell(planFor(shape.sig, 200 + i), base);
        shellMs.push(sh.ms);
        const shs = await dirStats(sh.dir);
        if (shs.files !== size.files) throw new Error(`the shell loop got ${shs.files} packages, the workflow ${size.files}`);
        await fs.rm(base, { recursive: true });
      }
      const pick = (f: (t: ChildTimeline) => number) => median(timelines.map(f));
      const fetch = pick((t) => t.fetchMs);
      const plain = median(plainMs);
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(`workflow, ${tasks} tasks (${shape.repos.length} repos × ${shape.arches.length} arches), ${size.files} packages, ${(size.bytes / 1048576).toFixed(1)} MB, parallelism ${o.parallelism}, ${o.runs} runs (medians):`);
      console.log(`  composeSig start → last reposync done ${s(fetch)} (${(size.files / (fetch / 1000)).toFixed(1)} packages/s)`);
      console.log(`  plain dnf reposync loop               ${s(plain)} (${(size.files / (plain / 1000)).toFixed(1)} packages/s)`);
      console.log(`  the same loop from a shell (xargs -P)  ${s(median(shellMs))} (${(size.files / (median(shellMs) / 1000)).toFixed(1)} packages/s)`);
      console.log(`  prepareCompose ${s(pick((t) => t.prepareMs))}; tasks queued (scheduled → started) ${s(pick((t) => t.queueMsSum))} summed, ${s(pick((t) => t.queueMsMax))} at most; slot refill (a task done → the next scheduled) ${s(pick((t) => t.refillMsSum))} summed over ${Math.max(0, tasks - o.parallelism)} refills; task work ${s(pick((t) => t.runMsSum))} summed`);
      console.log(`  verifyCompose ${s(pick((t) => t.verifyMs))}, manifest + latest flip ${s(pick((t) => t.afterVerifyMs))}; whole child ${s(pick((t) => t.childMs))} (${pick((t) => t.events)} events); whole sigRelease run as the client saw it ${s(median(clientMs))}`);
      // Slots standing empty while the server and the workflow hand the next task over, spread over the slots.
      const gaps = (pick((t) => t.queueMsSum) + pick((t) => t.refillMsSum)) / o.parallelism;
      console.log(`  orchestration gaps ≈ (queued + refill) / parallelism = ${s(gaps)} of the ${s(fetch)} span (${((gaps / fetch) * 100).toFixed(1)}%)`);
      // From the task logs: the share of parallelism × span in which no dnf ran (hand-overs at the worker included).
      const idle = 1 - median(dnfMs) / (o.parallelism * fetch);
      console.log(`  dnf running (task logs): ${s(median(dnfMs))} summed; slots without a dnf ${(idle * 100).toFixed(1)}% of parallelism × span; span start → first dnf ${s(median(leadInMs))}, last dnf ended → span end ${s(median(tailMs))}`);
      const perRun = (x: number) => (x / o.runs).toFixed(2);
      console.log(`  CPU per run beside dnf: server ${perRun(cpuOurs.server)} s, worker process ${perRun(cpuOurs.self)} s (during the plain loop: ${perRun(cpuPlain.server)} s and ${perRun(cpuPlain.self)} s); minor page faults of this process ${Math.round(cpuOurs.faults / o.runs)} (plain loop ${Math.round(cpuPlain.faults / o.runs)})`);
      const byThread = (m: Map<string, number>) => [...m].filter(([, v]) => v >= 0.005 * o.runs).map(([k, v]) => `${k} ${perRun(v)} s`).join(', ');
      console.log(`  this process by thread name, per run: ${byThread(threadsOurs)} (plain loop: ${byThread(threadsPlain)}; the fixture server runs here too)`);
      const ratio = fetch / plain;
      console.log(`overhead_ratio_shell_${shape.label}=${(fetch / median(shellMs)).toFixed(3)}`);
      console.log(`overhead_ratio_${shape.label}=${ratio.toFixed(3)}`);
      ratios.push({ label: shape.label, tasks, ratio });
    }
    return ratios;
  } finally {
    for (const c of closers) await c().catch((e: unknown) => console.error(`bench clean-up: ${(e as Error).message}`));
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
