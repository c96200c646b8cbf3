// What the reliability tests share: a small release, short durations, a fixture build system, the worker as a
// separate process (so it can be SIGKILLed), an rsync shim that can slow transfers down, and the figures the
// report quotes (package GETs per path, process groups still alive).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import YAML from 'yaml';
import { afterAll } from 'vitest';
import type { SiteConfig } from '../../src/config/schema.js';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../src/bundleOptions.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';
import type { RequestRecord } from '../fixtures/yumrepofs.js';
import { waitFor } from '../helpers/temporal.js';

export const BIN = fileURLToPath(new URL('../../bin/sigrelease', import.meta.url));

/** One arch, no debug repos: core 9 x86_64 binaries and sources, four reposync tasks of four packages each. */
export const smallRequest = { release: '9', sig: 'core', hashed: true, fullRun: true, ignoreDebug: true, arches: ['x86_64'] } as const;

/**
 * Seconds instead of days. The heartbeat timeout is how long a dead worker's activity stays "running" before the
 * server schedules a retry: the main part of the time to recover from a crash.
 */
export const fastRuntime = (o: { heartbeat?: string; maxAttempts?: number } = {}): RuntimeOptions => ({
  approval: { reminderInterval: '1h', expireAfter: '30m' },
  timeouts: { heartbeat: o.heartbeat ?? '6s', retryInitial: '1s', maxAttempts: o.maxAttempts ?? 5 },
});

/** Temp folders of this file's tests (fixture trees, bundles, shims, site files), removed after the file's last test. */
const tempDirs: string[] = [];
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sigrelease-rel-${label}-`));
  tempDirs.push(dir);
  return dir;
}
// Registered on import, so it runs after the file's own afterAll hooks (servers closed, tmpfs unmounted).
afterAll(() => {
  for (const d of tempDirs.splice(0)) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* still mounted or busy: leave it */
    }
  }
});

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------------
// The worker as its own process: `bin/sigrelease worker`, in its own process group.

/**
 * The workflow bundle for worker processes, so none runs webpack: the run's shared one (built by the integration
 * set-up, see clean-env.ts), else bundled once per file.
 */
let bundleFile: Promise<string> | null = null;
export function prebuiltWorkflowBundle(): Promise<string> {
  const shared = process.env.SIGRELEASE_WORKFLOW_BUNDLE;
  if (shared) return Promise.resolve(shared);
  bundleFile ??= (async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
    const file = path.join(tempDir('bundle'), 'workflow-bundle.js');
    fs.writeFileSync(file, code);
    return file;
  })();
  return bundleFile;
}

/** The site as YAML, pointing at `address`, with the test's own task queue. */
export function writeSiteYaml(site: SiteConfig, o: { address: string; namespace: string; taskQueue: string }): string {
  const file = path.join(tempDir('site'), 'site.yaml');
  fs.writeFileSync(file, YAML.stringify({ ...site, temporal: { ...site.temporal, address: o.address, namespace: o.namespace, taskQueue: o.taskQueue } }));
  return file;
}

export interface WorkerProcess {
  pid: number;
  /** ms from spawn until the worker said it polls. */
  startupMs: number;
  output(): string;
  /** SIGKILL to the worker's whole process group (the worker and dnf; rsync runs in a group of its own). */
  crash(): Promise<void>;
  /** SIGTERM: a graceful shutdown. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.pid) killGroup(c.pid, 'SIGKILL');
});

export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of group `pgid` is still running (zombies waiting to be reaped do not count). */
export function groupAlive(pgid: number): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may contain spaces and parentheses, so parse after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

export async function startWorkerProcess(o: { siteFile: string; address: string; namespace: string; pathPrefix?: string; extraArgs?: string[] }): Promise<WorkerProcess> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIGRELEASE_SITE: o.siteFile,
    TEMPORAL_ADDRESS: o.address,
    TEMPORAL_NAMESPACE: o.namespace,
    SIGRELEASE_WORKFLOW_BUNDLE: await prebuiltWorkflowBundle(),
    ...(o.pathPrefix ? { PATH: `${o.pathPrefix}:${process.env.PATH ?? '/usr/bin:/bin'}` } : {}),
  };
  // The test runner's own env may carry vitest variables; the worker must behave as in production.
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  const child = spawn(BIN, ['worker', ...(o.extraArgs ?? [])], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', () => live.delete(child));
  await waitFor(
    'the worker process to poll',
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited (${child.exitCode ?? child.signalCode}):\n${out}`);
      return /worker polling/.test(out) ? true : undefined;
    },
    90_000,
    100,
  ).catch((e) => {
    killGroup(child.pid!, 'SIGKILL');
    throw e;
  });
  const pid = child.pid!;
  return {
    pid,
    startupMs: Date.now() - started,
    output: () => out,
    async crash() {
      killGroup(pid, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// An rsync shim first on the worker's PATH: logs every invocation and, while `<dir>/bwlimit` holds a number,
// adds --bwlimit=<KiB/s> to transfers (not to dry runs), so a sync lasts long enough to be interrupted. The
// workflow does not expose the activities' bwlimitKiB; a slow link is what this stands in for.

export interface RsyncShim {
  dir: string;
  /** KiB/s for the following transfers; null for full speed. */
  setBwlimit(kib: number | null): void;
  /** One entry per rsync started: its pid (= its process group: runTool spawns it detached) and arguments. */
  runs(): Array<{ pid: number; args: string[]; dryRun: boolean; target: string }>;
}

export function rsyncShim(): RsyncShim {
  const dir = tempDir('shim');
  const real = ['/usr/bin/rsync', '/bin/rsync'].find((p) => fs.existsSync(p));
  if (!real) throw new Error('rsync not found in /usr/bin or /bin');
  const log = path.join(dir, 'runs.log');
  // printf %q keeps each argument on one line whatever it contains; the shim never evaluates an argument.
  fs.writeFileSync(
    path.join(dir, 'rsync'),
    [
      '#!/bin/bash',
      `log=${JSON.stringify(log)}`,
      `limit_file=${JSON.stringify(path.join(dir, 'bwlimit'))}`,
      'dry=0; for a in "$@"; do case "$a" in --dry-run|-n) dry=1;; esac; done',
      'printf "%s" "$$" >> "$log"; for a in "$@"; do printf " %q" "$a" >> "$log"; done; printf "\\n" >> "$log"',
      'limit=""; if [ "$dry" = 0 ] && [ -s "$limit_file" ]; then limit="--bwlimit=$(cat "$limit_file")"; fi',
      `if [ -n "$limit" ]; then exec ${real} "$limit" "$@"; else exec ${real} "$@"; fi`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    dir,
    setBwlimit(kib) {
      if (kib === null) fs.rmSync(path.join(dir, 'bwlimit'), { force: true });
      else fs.writeFileSync(path.join(dir, 'bwlimit'), String(kib));
    },
    runs() {
      if (!fs.existsSync(log)) return [];
      return fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          // Arguments are separated by unescaped spaces (%q escapes the ones inside an argument).
          const [pid, ...args] = line.split(/(?<!\\) /);
          return { pid: Number(pid), args, dryRun: args.includes('--dry-run'), target: args.at(-1) ?? '' };
        });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Figures

/** Package requests the fixture build system answered with a whole file (200), per path. */
export function packageGets(log: readonly RequestRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of log) if (r.method === 'GET' && r.status === 200 && /\/Packages\/.*\.rpm$/.test(r.path)) out.set(r.path, (out.get(r.path) ?? 0) + 1);
  return out;
}

/** Paths whose digest differs between two trees, or that only one has. */
export function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(b.has(k) ? `changed ${k}` : `only in first: ${k}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`only in second: ${k}`);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------------
// Reading a run from outside

/** The pending activities of a run (or of its compose child), as the server sees them. */
export async function pendingActivities(client: Client, workflowId: string) {
  const d = await client.workflow.getHandle(workflowId).describe();
  return (d.raw.pendingActivities ?? []).map((a) => ({
    type: a.activityType?.name ?? '?',
    attempt: a.attempt ?? 0,
    state: a.state,
    lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? null,
    lastFailure: a.lastFailure?.message ?? null,
  }));
}

/** Ends what a test left running: its runs and the production lock of its site. */
export async function terminateAll(client: Client, workflowIds: string[], productionRoots: string[] = []): Promise<void> {
  const ids = [...workflowIds, ...productionRoots.map((r) => lockWorkflowId(r))];
  await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate('reliability test finished').catch(() => undefined)));
}

/** Processes whose command line mentions `dir` (e.g. gpg-agents dnf started for a compose, left behind by a kill). */
export function processesMentioning(dir: string, name: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes(dir) && cmd.split(' ')[0]!.endsWith(name)) out.push(Number(entry));
  }
  return out;
}

/** Resolves with the ms until the process group `pgid` is gone (polled every 20 ms), or null after `timeoutMs`. */
export async function groupLifetime(pgid: number, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (!groupAlive(pgid)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

/**
 * Resolves with the ms until the server shows an activity of `type` on attempt 2 or later (the dead attempt timed
 * out and a retry was scheduled), or until no activity of `type` is pending any more (a fast retry already ended).
 */
export async function retryScheduled(client: Client, workflowId: string, type: string, timeoutMs = 120_000): Promise<number> {
  const start = Date.now();
  await waitFor(
    `a retry of ${type} in ${workflowId}`,
    async () => {
      const mine = (await pendingActivities(client, workflowId)).filter((a) => a.type === type);
      return mine.length === 0 || mine.some((a) => a.attempt >= 2) ? true : undefined;
    },
    timeoutMs,
    100,
  );
  return Date.now() - start;
}

/** Relative path → mtime in whole seconds (ISO), for every regular file: what mirrors compare besides the size. */
export function mtimesOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.set(path.relative(root, full), new Date(Math.floor(fs.statSync(full).mtimeMs / 1000) * 1000).toISOString());
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

/** From a run's history: the attempt on which each activity of `type` ended (one entry per scheduled activity). */
export async function finalAttempts(client: Client, workflowId: string, type: string): Promise<number[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

/** Encoded size (bytes) of the failure of each failed attempt of `type` recorded in a run's history. */
export async function failureSizes(client: Client, workflowId: string, type: string): Promise<number[]> {
  const { temporal } = await import('@temporalio/proto');
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)));
  return events
    .filter((e) => e.activityTaskFailedEventAttributes?.failure && scheduled.has(String(e.activityTaskFailedEventAttributes.scheduledEventId)))
    .map((e) => temporal.api.failure.v1.Failure.encode(e.activityTaskFailedEventAttributes!.failure!).finish().length);
}
