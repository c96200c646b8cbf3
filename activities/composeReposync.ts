// One `dnf reposync` task of a compose: seeds its folder from the previous compose, runs dnf through the tool
// runner, heartbeats progress parsed from its output, classifies how it ended, restores remote mtimes where dnf
// drops them, and places the SIG keys. Plan, task and paths are re-derived from the worker's own config.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ComposeLayout } from '../src/paths.js';
import { copyFileAtomic, fetchSmallFile, urlBasename, writeFileAtomic } from '../src/compose/files.js';
import { buildReposyncArgs, classifyReposyncOutcome, LastLines, ReposyncOutputParser, type OutputStream } from '../src/compose/reposyncOutput.js';
import { restoreRemoteMtimes } from '../src/compose/remoteTime.js';
import { linkTree, seedRepoDir, upstreamPackages } from '../src/compose/seed.js';
import { carryOverVerdict, sha256Hex } from '../src/compose/carryOver.js';
import { packagesOfRepo } from '../src/compose/verify.js';
import { recheckTask } from '../src/compose/trust.js';
import { ComposeSlots, SlotAbortedError } from '../src/compose/slots.js';
import { mkdirConfined } from '../src/roots.js';
import type { ComposePlan, ReposyncHeartbeat, ReposyncTask, TaskPlan, TaskResult } from '../src/compose/types.js';
import { classifyToolExit, DNF_EXITS } from '../src/tools/exit-codes.js';
import { runTool, type RunToolResult } from '../src/tools/run.js';
import { throwIfCancelled } from '../src/activityContext.js';
import { DNF_ENV, fetchFailure, HEARTBEAT_EVERY_MS, keysDir, refusal, refuseDryRun, trustCompose, type ComposeDeps, type TrustedCompose } from './composeCommon.js';
import { previousManifest, runKeysDigest, seededFromCompose } from './composeFolder.js';

export interface RunReposyncTaskInput {
  /** Runs begun before `reposync-input-without-task-list` send the whole plan. */
  plan: ComposePlan | TaskPlan;
  task: ReposyncTask;
  /** Checked against the paths the worker derives itself; refused when they differ. */
  composeDir?: string;
  dnfConfigPath?: string;
  rpmRoot?: string | null;
}

/**
 * Seeds the task's folder from the compose it follows (recorded by prepareCompose in the compose folder, never
 * taken from the request), against upstream's current metadata (src/compose/seed.ts); appends what it did to the log.
 */
async function seedTask(t: TrustedCompose, task: ReposyncTask, destDir: string, logFile: string, signal: AbortSignal): Promise<void> {
  const seed = await seededFromCompose(t);
  if (!seed) return;
  const from = path.join(seed.layout.sigRoot, task.relDir);
  if (!(await fs.stat(from).catch(() => null))?.isDirectory()) return;
  const upstream = await upstreamPackages(task.baseUrl, path.join(t.layout.dnf, 'state', task.name, 'upstream'), signal);
  let line: string;
  if (!upstream) {
    line = `not seeded from ${from}: upstream metadata at ${task.baseUrl} could not be read; every package is downloaded`;
  } else {
    const r = await seedRepoDir({ from, to: destDir, upstream, keepUnlisted: !t.plan.fullRun });
    line = r.crossDevice
      ? `not seeded from ${from}: another file system; every package is downloaded`
      : `seeded from ${from}: ${r.linked} files linked, ${r.notLinked} left to dnf (changed upstream or not wanted)`;
  }
  await fs.appendFile(logFile, `==== ${new Date().toISOString()} ${task.name}: ${line}\n`);
}

/** What a task carried over from the seed compose reports: dnf did not run, nothing was downloaded. */
interface CarriedOver {
  from: string;
  packages: number;
  deleted: number;
}

/**
 * Links the task's folder whole from the compose it was seeded from, without dnf, when upstream's repomd.xml is
 * byte for byte the one that compose recorded (src/compose/carryOver.ts says when); null when it is not, or when
 * anything stands in the way, and the task goes through dnf as before. What is linked is what dnf would have
 * left: repodata/ (the same bytes upstream serves), every package the metadata lists, the keys (replaced by rename
 * afterwards), and packages upstream no longer lists only where an in-place run keeps them.
 */
async function carryOver(t: TrustedCompose, task: ReposyncTask, destDir: string, logFile: string, signal: AbortSignal): Promise<CarriedOver | null> {
  const seed = await seededFromCompose(t);
  if (!seed) return null;
  // A retried attempt whose folder already holds files (dnf's, perhaps half written) goes through dnf.
  if ((await fs.readdir(destDir)).length > 0) return null;
  const from = path.join(seed.layout.sigRoot, task.relDir);
  const log = (line: string) => fs.appendFile(logFile, `==== ${new Date().toISOString()} ${task.name}: ${line}\n`);
  let upstream: Uint8Array;
  try {
    upstream = (await fetchSmallFile(`${task.baseUrl.replace(/\/+$/, '')}/repodata/repomd.xml`, { signal })).body;
  } catch {
    return null; // dnf fetches it again and reports what is wrong
  }
  const mine = await fs.readFile(path.join(from, 'repodata', 'repomd.xml')).catch(() => null);
  const verdict = carryOverVerdict(await previousManifest(seed.layout), {
    task,
    gpgCheck: t.plan.gpgCheck,
    repoGpgCheck: t.plan.repoGpgCheck,
    keysSha256: await runKeysDigest(t),
    upstreamRepomdSha256: sha256Hex(upstream),
    previousRepomdSha256: mine ? sha256Hex(mine) : null,
  });
  if (!verdict.carry) {
    await log(`not carried over: ${verdict.reason}; dnf runs`);
    return null;
  }
  const listed = await packagesOfRepo(from);
  if (!listed) return null;
  const keepUnlisted = !t.plan.fullRun && !t.plan.cleanOldPackages;
  let deleted = 0;
  const report = await linkTree(from, destDir, (rel) => {
    const href = rel.split(path.sep).join('/');
    if (!href.endsWith('.rpm') || listed.has(href) || keepUnlisted) return true;
    deleted++;
    return false;
  });
  if (report.crossDevice) {
    await fs.rm(destDir, { recursive: true, force: true });
    await fs.mkdir(destDir, { recursive: true });
    return null;
  }
  await log(`carried over from ${verdict.from} (${from}): upstream repomd.xml unchanged; ${report.linked} files linked, dnf not run`);
  return { from: verdict.from, packages: listed.size, deleted: t.plan.fullRun ? 0 : deleted };
}

export function createReposyncActivities(deps: ComposeDeps) {
  return {
    /**
     * Runs one `dnf reposync` into the run's own compose folder (seeded first from the previous compose),
     * appending its output to `work/logs/<stamp>/<logName>`, heartbeating progress, killing dnf on cancellation,
     * and failing with a typed `ApplicationFailure` (seed §6.2 step 7). On success the SIG keys go into the synced
     * folder, for the source task too (seed §6.2 wrong-folder bug).
     */
    async runReposyncTask(input: RunReposyncTaskInput): Promise<TaskResult> {
      const t = trustCompose(deps, input);
      const task = trustTask(t, input.task);
      refuseDryRun(t.plan, 'runReposyncTask');
      return reposync(t, task);
    },
  };
}

function trustTask(t: TrustedCompose, given: unknown): ReposyncTask {
  try {
    return recheckTask(t.plan, given);
  } catch (e) {
    throw refusal(e);
  }
}

async function confinedDirs(t: TrustedCompose, task: ReposyncTask) {
  try {
    const destDir = await mkdirConfined(t.roots.composeRoot, path.join(t.layout.sigRoot, task.relDir), 'reposync folder');
    // One dnf state folder per task: parallel reposyncs never wait on each other's cache lock.
    const stateDir = path.join(t.layout.dnf, 'state', task.name);
    await mkdirConfined(t.roots.composeRoot, path.join(stateDir, 'log'), 'dnf state folder');
    await mkdirConfined(t.roots.composeRoot, t.layout.logs, 'log folder');
    return { destDir, stateDir, logFile: path.join(t.layout.logs, task.logName) };
  } catch (e) {
    throw refusal(e);
  }
}

/**
 * This worker process's run slots: a compose schedules a few tasks beyond its parallelism ('reposync-lookahead'),
 * and each waits here, heartbeating, until one of its compose's `parallelism` slots is free.
 */
const slots = new ComposeSlots();

async function reposync(t: TrustedCompose, task: ReposyncTask): Promise<TaskResult> {
  const ctx = Context.current();
  const waitBeat = setInterval(() => ctx.heartbeat({ task: task.name, downloaded: 0, skipped: 0, total: 0, bytes: 0, waitingForSlot: true } satisfies ReposyncHeartbeat), HEARTBEAT_EVERY_MS);
  let release: () => void;
  try {
    release = await slots.acquire(t.plan.composeId, t.plan.parallelism, ctx.cancellationSignal);
  } catch (e) {
    if (e instanceof SlotAbortedError) throw e.reason;
    throw e;
  } finally {
    clearInterval(waitBeat);
  }
  try {
    return await reposyncInSlot(t, task);
  } finally {
    release();
  }
}

async function reposyncInSlot(t: TrustedCompose, task: ReposyncTask): Promise<TaskResult> {
  const { plan, rpmRoot } = t;
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const { destDir, stateDir, logFile } = await confinedDirs(t, task);
  const args = buildReposyncArgs(plan, task, { dnfConfigPath: t.dnfConfigPath, destDir, rpmRoot, stateDir });

  const parser = new ReposyncOutputParser([task.section]);
  const tail = new LastLines(15);
  const started = Date.now();
  const beat = () => {
    const p = parser.progress;
    const details: ReposyncHeartbeat = { task: task.name, downloaded: p.downloaded, skipped: p.skipped, total: p.total, bytes: p.bytes };
    ctx.heartbeat(details);
  };
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  let exit: RunToolResult;
  let carried: CarriedOver | null;
  try {
    beat();
    carried = await carryOver(t, task, destDir, logFile, ctx.cancellationSignal).catch((e: unknown) => Promise.reject(refusal(e)));
  } finally {
    clearInterval(timer);
  }
  if (carried) {
    await placeKeys(plan, t.layout, destDir, task.name);
    const { packages, deleted, from } = carried;
    return { name: task.name, repo: task.repo, kind: task.kind, arch: task.arch, downloaded: 0, skipped: packages, deleted, bytes: 0, packages, durationMs: Date.now() - started, attempt, carriedOverFrom: from };
  }
  const dnfTimer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    await seedTask(t, task, destDir, logFile, ctx.cancellationSignal).catch((e: unknown) => Promise.reject(refusal(e)));
    exit = await runDnfLogged(args, logFile, `${task.name} attempt ${attempt}`, (stream, text) => {
      tail.push(stream, text);
      if (parser.feed(stream, text)) beat();
    });
    parser.end();
  } finally {
    clearInterval(dnfTimer);
  }
  if (exit.spawnError) {
    const missing = classifyToolExit(DNF_EXITS, exit)!;
    throw ApplicationFailure.create({ type: 'ReposyncUnavailable', nonRetryable: true, message: `${task.name}: cannot start dnf: ${exit.spawnError.message}; ${missing.advice}` });
  }
  const progress = parser.progress;
  const outcome = classifyReposyncOutcome({ kind: task.kind, exitCode: exit.exitCode ?? null, signal: exit.signal ?? null, progress, noteworthyLines: parser.noteworthyLines, baseUrl: task.baseUrl });
  if (!outcome.ok) {
    throw ApplicationFailure.create({
      type: outcome.type,
      nonRetryable: outcome.nonRetryable,
      message: `${task.name}: ${outcome.reason}\nlast lines of ${logFile}:\n${tail.tail.join('\n')}`,
      details: [{ task: task.name, packages: outcome.packages, logFile, progress }],
    });
  }

  if (plan.repoGpgCheck) {
    // dnf drops --remote-time for packages when repo_gpgcheck is on (src/compose/remoteTime.ts).
    // Since the FIRST attempt was scheduled (minus clock skew): packages a killed or failed earlier attempt downloaded
    // still carry their download time, and this attempt's dnf skips them. Files linked from the previous compose
    // carry their old upstream time, so they are not touched (a touch would change latest's file too).
    const since = Math.min(started, ctx.info.scheduledTimestampMs) - 60_000;
    const rt = await restoreRemoteMtimes(destDir, task.baseUrl, since, { signal: ctx.cancellationSignal });
    // Fetches aborted by a cancel or a worker shutdown are not a server that cannot tell the time: report the cancel.
    throwIfCancelled();
    const failed = rt.failed.length ? `; could not read the server time of ${rt.failed.length}: ${rt.failed.slice(0, 5).join('; ')}` : '';
    await fs.appendFile(logFile, `==== remote mtimes restored on ${rt.restored} of ${rt.checked} downloaded packages${failed}\n`);
    if (rt.failed.length > 0) {
      throw ApplicationFailure.create({ type: 'RemoteTimeUnavailable', nonRetryable: false, message: `${task.name}: synced, but could not read the server time of ${rt.failed.length} packages (retried): ${rt.failed.slice(0, 3).join('; ')}` });
    }
  }
  await placeKeys(plan, t.layout, destDir, task.name);
  return {
    name: task.name,
    repo: task.repo,
    kind: task.kind,
    arch: task.arch,
    downloaded: progress.downloaded,
    skipped: progress.skipped,
    deleted: progress.deleted,
    bytes: progress.bytes,
    packages: progress.downloaded + progress.skipped,
    durationMs: Date.now() - started,
    attempt,
  };
}

/**
 * Runs dnf through the tool runner (own process group, dies with the worker, killed and awaited on cancel),
 * appending a header, its output and how it ended to `logFile`, and passing each chunk to `onOutput`.
 * Rethrows the cancellation once dnf is gone and the log says so.
 */
async function runDnfLogged(args: string[], logFile: string, label: string, onOutput: (stream: OutputStream, text: string) => void): Promise<RunToolResult> {
  const log = await fs.open(logFile, 'a');
  // One write in flight at a time, carrying everything appended meanwhile: dnf's output comes in many small chunks.
  let pending = '';
  let writes = Promise.resolve();
  let writing = false;
  const drain = async () => {
    while (pending !== '') {
      const text = pending;
      pending = '';
      await log.appendFile(text).catch(() => undefined);
    }
    writing = false;
  };
  const append = (text: string) => {
    pending += text;
    if (writing) return;
    writing = true;
    writes = drain();
  };
  const stamp = () => new Date().toISOString();
  try {
    append(`==== ${stamp()} ${label}: dnf ${args.join(' ')}\n`);
    const onData = (stream: OutputStream) => (text: string) => {
      append(text);
      onOutput(stream, text);
    };
    // The log has everything; the result keeps only a short tail of each stream.
    // privateTmp: a signature check interrupted mid-way leaves its gpg-agent running; it carries this run's TMPDIR
    // and is stopped after the run (src/tools/private-tmp.ts).
    const r = await runTool('dnf', args, { env: DNF_ENV, privateTmp: true, onStdout: onData('stdout'), onStderr: onData('stderr'), outputCapChars: 4096 });
    append(`==== ${stamp()} ${label}: ${r.spawnError ? `could not start: ${r.spawnError.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`}\n`);
    return r;
  } catch (e) {
    // Cancellation is reported as such, not as a failed attempt (temporal-notes.md §2.4).
    append(`==== ${stamp()} ${label}: cancelled\n`);
    throw e;
  } finally {
    await writes;
    await log.close();
  }
}

/** Seed §6.2 step 7: `curl -RO <key>` into the synced folder; ours copies the run's fetched key (mtime kept). */
async function placeKeys(plan: ComposePlan, layout: ComposeLayout, destDir: string, taskName: string): Promise<void> {
  for (const url of plan.gpgKeys) {
    const name = urlBasename(url);
    const local = path.join(keysDir(layout), name);
    try {
      if (await fs.stat(local).catch(() => null)) {
        await copyFileAtomic(local, path.join(destDir, name));
      } else {
        const got = await fetchSmallFile(url, { signal: Context.current().cancellationSignal });
        await writeFileAtomic(path.join(destDir, name), got.body, got.lastModified ?? undefined);
      }
    } catch (e) {
      throw fetchFailure('GpgKeyFetchFailed', `${taskName}: synced, but cannot place the GPG key ${name}`, e);
    }
  }
}
