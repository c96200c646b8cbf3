// Compose activities: they carry out a `ComposePlan` (src/compose/plan.ts) and nothing else decides here.
// Each one is idempotent: after a crash at any point, running it again converges to the same tree.
// Only activity functions and types are exported: activities/index.ts registers every export.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { composeDir as datedComposeDir, composeLayout, latestLink, type ComposeLayout, type Roots } from '../src/paths.js';
import { renderDnfConfig, lookasideSection, renderLocalRepoConfig, type DnfIsolation } from '../src/compose/dnfConfig.js';
import { copyFileAtomic, FetchError, fetchSmallFile, urlBasename, writeFileAtomic } from '../src/compose/files.js';
import { buildComposeManifest, describeComposePlan, type ComposeManifestInput, type DryRunReport } from '../src/compose/report.js';
import { buildReposyncArgs, classifyReposyncOutcome, LastLines, ReposyncOutputParser, type OutputStream } from '../src/compose/reposyncOutput.js';
import { parseRepoclosureOutput } from '../src/compose/repoclosure.js';
import { restoreRemoteMtimes } from '../src/compose/remoteTime.js';
import { verifyRepoDir } from '../src/compose/verify.js';
import { describeUnlistableName, findUnlistableNames } from '../src/compose/listableNames.js';
import type { ComposePlan, ReposyncHeartbeat, ReposyncTask, RepoVerification, TaskResult, VerifyReport } from '../src/compose/types.js';

export type { ComposePlan, ReposyncTask, TaskResult, VerifyReport, RepoVerification, ReposyncHeartbeat, DryRunReport, ComposeLayout, Roots };

/** Same environment for every dnf we start: English, parseable messages. */
const DNF_ENV = { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
const HEARTBEAT_EVERY_MS = 2000;
const MAX_LISTED_PROBLEMS = 20;

function refuseDryRun(plan: ComposePlan, activity: string): void {
  if (plan.dryRun) {
    throw ApplicationFailure.create({ type: 'DryRunViolation', nonRetryable: true, message: `${activity} writes to the compose and must not run for a dry run (${plan.composeId})` });
  }
}

const dnfDirs = (dnfDir: string): DnfIsolation => ({
  cacheDir: path.join(dnfDir, 'cache'),
  logDir: path.join(dnfDir, 'log'),
  persistDir: path.join(dnfDir, 'persist'),
  // Never created: dnf must read no repo files but the sections of our config.
  reposDir: path.join(dnfDir, 'no-repos.d'),
});

const keysDir = (layout: ComposeLayout) => path.join(layout.dnf, 'keys');

function fetchFailure(type: string, what: string, e: unknown): ApplicationFailure {
  const permanent = e instanceof FetchError && e.permanent;
  return ApplicationFailure.create({
    type,
    // A 404/403 will not fix itself; a timeout or 5xx may (the retry policy bounds the attempts).
    nonRetryable: permanent,
    message: `${what}: ${(e as Error).message}${permanent ? ' (check the URL in the SIG catalogue or the site urlRewrites)' : ''}`,
  });
}

// ---------------------------------------------------------------------------------------------------------

export interface PrepareComposeInput {
  plan: ComposePlan;
  roots: Roots;
}

export interface PreparedCompose {
  composeDir: string;
  layout: ComposeLayout;
  dnfConfigPath: string;
  /** Private rpm root with the SIG keys imported, when signatures are checked. */
  rpmRoot: string | null;
}

/** The compose folder an in-place run writes into: what `latest` points at now, resolved once. */
async function resolveLatest(roots: Roots, plan: ComposePlan): Promise<string> {
  const link = latestLink(roots, plan.release, plan.sig);
  const noLatest = (why: string) =>
    ApplicationFailure.create({
      type: 'NoLatestCompose',
      nonRetryable: true,
      message: `no compose to update in place at ${link} (${why}); run with --full-run first`,
    });
  let dir: string;
  try {
    dir = await fs.realpath(link);
  } catch (e) {
    throw noLatest((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing or dangling' : (e as Error).message);
  }
  const st = await fs.stat(dir);
  if (!st.isDirectory()) throw noLatest(`${dir} is not a folder`);
  return dir;
}

/**
 * Creates (full run) or finds (in place) the compose folder, writes the per-run dnf config, fetches the SIG
 * keys and imports them into a private rpm root. A dry run writes nothing and returns the would-be paths.
 * In place, `latest` is resolved once here so every task writes into the same folder even if `latest`
 * moves during the run (the seed wrote through the link: seed §2 stage 1 step 4).
 */
export async function prepareCompose({ plan, roots }: PrepareComposeInput): Promise<PreparedCompose> {
  const dir = plan.fullRun ? datedComposeDir(roots, plan.release, plan.sig, plan.revision, plan.stamp) : await resolveLatest(roots, plan);
  const layout = composeLayout(dir, plan.release, plan.sig, plan.stamp);
  const dnfConfigPath = path.join(layout.dnf, 'dnf.conf');
  const rpmRoot = plan.gpgCheck ? path.join(layout.dnf, 'rpmroot') : null;
  const prepared: PreparedCompose = { composeDir: dir, layout, dnfConfigPath, rpmRoot };
  if (plan.dryRun) return prepared;

  // Seed §2 stage 1 step 4 / §8 scenario 13: compose/, work/entries/, work/logs/<stamp>/; mkdir -p is idempotent.
  for (const d of [layout.syncRoot, layout.sigRoot, layout.entries, layout.logs, layout.dnf]) await fs.mkdir(d, { recursive: true });

  // Keys are fetched once per run: tasks place them next to each repo and dnf reads them from disk, so no
  // task depends on the key host (seed §7 risk 8).
  const keyFiles: string[] = [];
  for (const url of plan.gpgKeys) {
    const file = path.join(keysDir(layout), urlBasename(url));
    try {
      const got = await fetchSmallFile(url, { signal: Context.current().cancellationSignal });
      await writeFileAtomic(file, got.body, got.lastModified ?? undefined);
    } catch (e) {
      throw fetchFailure('GpgKeyFetchFailed', `cannot fetch the GPG key for ${plan.sig} ${plan.release}`, e);
    }
    keyFiles.push(file);
  }
  const config = renderDnfConfig(plan, dnfDirs(layout.dnf), keyFiles.map((f) => pathToFileURL(f).href));
  await writeFileAtomic(dnfConfigPath, config);

  if (rpmRoot && keyFiles.length > 0) {
    await fs.mkdir(rpmRoot, { recursive: true });
    const r = await execa('rpm', ['--root', rpmRoot, '--import', ...keyFiles], { reject: false, all: true, stdin: 'ignore', env: DNF_ENV });
    if (r.exitCode !== 0) {
      throw ApplicationFailure.create({
        type: 'GpgKeyImportFailed',
        nonRetryable: true,
        message: `rpm --root ${rpmRoot} --import failed (exit ${r.exitCode ?? r.signal}) for ${plan.gpgKeys.join(' ')}: ${String(r.all ?? r.shortMessage).trim()}`,
      });
    }
  }
  return prepared;
}

// ---------------------------------------------------------------------------------------------------------

export interface RunReposyncTaskInput {
  plan: ComposePlan;
  task: ReposyncTask;
  composeDir: string;
  dnfConfigPath: string;
  rpmRoot: string | null;
}

/**
 * Runs one `dnf reposync`, appending its output to `work/logs/<stamp>/<logName>`, heartbeating progress,
 * killing dnf on cancellation, and failing with a typed `ApplicationFailure` (seed §6.2 step 7). On
 * success the SIG keys go into the synced folder, for the source task too (seed §6.2 wrong-folder bug).
 */
export async function runReposyncTask(input: RunReposyncTaskInput): Promise<TaskResult> {
  const { plan, task, composeDir, dnfConfigPath, rpmRoot } = input;
  refuseDryRun(plan, 'runReposyncTask');
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const layout = composeLayout(composeDir, plan.release, plan.sig, plan.stamp);
  const destDir = path.join(layout.sigRoot, task.relDir);
  // One dnf state folder per task: parallel reposyncs never wait on each other's cache lock.
  const stateDir = path.join(layout.dnf, 'state', task.name);
  const args = buildReposyncArgs(plan, task, { dnfConfigPath, destDir, rpmRoot, stateDir });
  await fs.mkdir(destDir, { recursive: true });
  await fs.mkdir(path.join(stateDir, 'log'), { recursive: true });
  await fs.mkdir(layout.logs, { recursive: true });
  const logFile = path.join(layout.logs, task.logName);
  const log = await fs.open(logFile, 'a');

  const parser = new ReposyncOutputParser([task.section]);
  const tail = new LastLines(15);
  const started = Date.now();
  const beat = () => {
    const p = parser.progress;
    const details: ReposyncHeartbeat = { task: task.name, downloaded: p.downloaded, skipped: p.skipped, total: p.total, bytes: p.bytes };
    ctx.heartbeat(details);
  };
  let exit: { exitCode: number | null; signal: string | null; spawnError: string | null };
  let writes = Promise.resolve();
  const append = (text: string) => {
    writes = writes.then(() => log.appendFile(text)).catch(() => undefined);
  };
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    append(`==== ${new Date().toISOString()} ${task.name} attempt ${attempt}: dnf ${args.join(' ')}\n`);
    beat();
    const child = execa('dnf', args, {
      cancelSignal: ctx.cancellationSignal,
      forceKillAfterDelay: 5000,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      env: DNF_ENV,
    });
    const onData = (stream: OutputStream) => (chunk: Buffer | string) => {
      const text = chunk.toString();
      append(text);
      tail.push(stream, text);
      if (parser.feed(stream, text)) beat();
    };
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));
    const r = await child;
    parser.end();
    const spawnError = r.exitCode === undefined && !r.signal ? (r.shortMessage ?? "dnf did not start") : null;
    exit = { exitCode: r.exitCode ?? null, signal: r.signal ?? null, spawnError };
    append(`==== ${new Date().toISOString()} ${task.name} attempt ${attempt}: ${r.isCanceled ? 'cancelled' : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`}\n`);
  } finally {
    clearInterval(timer);
    await stopGpgAgents(stateDir, rpmRoot);
    await writes;
    await log.close();
  }
  // Cancellation is reported as such, not as a failed attempt (temporal-notes.md §2.4).
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;

  if (exit.spawnError) {
    throw ApplicationFailure.create({ type: 'ReposyncUnavailable', nonRetryable: true, message: `${task.name}: cannot start dnf: ${exit.spawnError}` });
  }
  const progress = parser.progress;
  const outcome = classifyReposyncOutcome({ kind: task.kind, exitCode: exit.exitCode, signal: exit.signal ?? null, progress, noteworthyLines: parser.noteworthyLines, baseUrl: task.baseUrl });
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
    // still carry their download time, and this attempt's dnf skips them.
    const since = Math.min(started, ctx.info.scheduledTimestampMs) - 60_000;
    const rt = await restoreRemoteMtimes(destDir, task.baseUrl, since, { signal: ctx.cancellationSignal });
    const failed = rt.failed.length ? `; could not read the server time of ${rt.failed.length}: ${rt.failed.slice(0, 5).join('; ')}` : '';
    await fs.appendFile(logFile, `==== remote mtimes restored on ${rt.restored} of ${rt.checked} downloaded packages${failed}\n`);
    if (rt.failed.length > 0) {
      throw ApplicationFailure.create({ type: 'RemoteTimeUnavailable', nonRetryable: false, message: `${task.name}: synced, but could not read the server time of ${rt.failed.length} packages (retried): ${rt.failed.slice(0, 3).join('; ')}` });
    }
  }
  await placeKeys(plan, layout, destDir, task.name);
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
 * With repo_gpgcheck, dnf imports the repo key into a keyring in its cache (`<cache>/<repo>-<hash>/pubring`),
 * which starts a gpg-agent that outlives dnf: one per task and run, for as long as the compose folder exists.
 * (The seed's containers took theirs down with them.) Stop them once dnf has exited.
 */
async function stopGpgAgents(stateDir: string, rpmRoot: string | null): Promise<void> {
  // With --installroot dnf keeps part of its state under <root>/<stateDir> (see buildReposyncArgs).
  const caches = [path.join(stateDir, 'cache'), ...(rpmRoot ? [path.join(rpmRoot, stateDir, 'cache')] : [])];
  for (const cache of caches) {
    for (const entry of await fs.readdir(cache).catch(() => [] as string[])) {
      const ring = path.join(cache, entry, 'pubring');
      if (!(await fs.stat(ring).catch(() => null))?.isDirectory()) continue;
      await execa('gpgconf', ['--homedir', ring, '--kill', 'gpg-agent'], { reject: false, stdin: 'ignore', timeout: 10_000 });
    }
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

// ---------------------------------------------------------------------------------------------------------

export interface DeployExtraFilesInput {
  plan: ComposePlan;
  composeDir: string;
}

/**
 * Fetches each extra file over HTTP into `<sig>/metadata/` and `work/global/extra-files/`, atomically. Replaces
 * the seed's `git clone … /tmp/clone`, whose failure was ignored and whose folder was shared (seed §2 stage 1
 * step 9, §7 risk 6); a failed fetch fails the activity.
 */
export async function deployExtraFiles({ plan, composeDir }: DeployExtraFilesInput): Promise<{ files: string[] }> {
  refuseDryRun(plan, 'deployExtraFiles');
  if (!plan.extraFiles) return { files: [] };
  const layout = composeLayout(composeDir, plan.release, plan.sig, plan.stamp);
  const base = plan.extraFiles.baseUrl.replace(/\/*$/, '/');
  const written: string[] = [];
  for (const rel of plan.extraFiles.files) {
    const url = base + rel;
    const name = path.posix.basename(rel);
    let got;
    try {
      got = await fetchSmallFile(url, { signal: Context.current().cancellationSignal });
    } catch (e) {
      throw fetchFailure('ExtraFileFetchFailed', `cannot fetch extra file ${rel} for ${plan.sig} ${plan.release}`, e);
    }
    for (const target of [path.join(layout.metadataDir, name), path.join(layout.globalExtraFiles, name)]) {
      await writeFileAtomic(target, got.body, got.lastModified ?? undefined);
      written.push(target);
    }
  }
  return { files: written };
}

// ---------------------------------------------------------------------------------------------------------

export interface VerifyComposeInput {
  plan: ComposePlan;
  composeDir: string;
}

/**
 * Checks every synced folder against its own metadata (and, when the site asks, `dnf repoclosure` over each
 * binary repo). Returns the report when all is well; otherwise fails with non-retryable
 * `ComposeVerificationFailed` carrying the report as details, so `latest` is never flipped to it.
 */
export async function verifyCompose({ plan, composeDir }: VerifyComposeInput): Promise<VerifyReport> {
  const ctx = Context.current();
  const layout = composeLayout(composeDir, plan.release, plan.sig, plan.stamp);
  const tasks = plan.batches.flat();
  let done = 0;
  const timer = setInterval(() => ctx.heartbeat({ verified: done, of: tasks.length }), HEARTBEAT_EVERY_MS);
  const repos: RepoVerification[] = [];
  try {
    for (const t of tasks) {
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const r = await verifyRepoDir(path.join(layout.sigRoot, t.relDir));
      repos.push({ relDir: t.relDir, packages: r.packages, bytes: r.bytes, problems: r.problems });
      done++;
    }
    if (plan.repoclosure) {
      const closure = await runRepoclosure(plan, layout, tasks.filter((t) => t.kind === 'binary'));
      for (const [relDir, problems] of closure) repos.find((r) => r.relDir === relDir)?.problems.push(...problems);
    }
  } finally {
    clearInterval(timer);
  }
  const problems = repos.flatMap((r) => r.problems.map((p) => `${r.relDir}: ${p}`));
  // Before latest flips: a name the mirror file lists cannot carry must not reach staging and production.
  problems.push(...(await findUnlistableNames(layout.sigRoot, MAX_LISTED_PROBLEMS)).map(describeUnlistableName));
  const report: VerifyReport = { ok: problems.length === 0, repos, problems };
  if (!report.ok) {
    const shown = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  - ${p}`);
    if (problems.length > MAX_LISTED_PROBLEMS) shown.push(`  … and ${problems.length - MAX_LISTED_PROBLEMS} more`);
    throw ApplicationFailure.create({
      type: 'ComposeVerificationFailed',
      nonRetryable: true,
      message: `compose ${plan.composeId} in ${composeDir} failed verification (${problems.length} problems):\n${shown.join('\n')}`,
      details: [report],
    });
  }
  return report;
}

/**
 * `dnf repoclosure` per binary repo over the local synced folder; returns problems per relDir. Each check may
 * resolve from the SIG's other binary repos of the same arch (core-infra may need core-common) and from the
 * site's lookaside repos (BaseOS, AppStream); only the checked repo's own packages are reported.
 */
async function runRepoclosure(plan: ComposePlan, layout: ComposeLayout, tasks: ReposyncTask[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (tasks.length === 0) return out;
  const dir = path.join(layout.dnf, 'repoclosure');
  const cfg = path.join(dir, 'repoclosure.conf');
  const section = (t: ReposyncTask) => `local-${t.name}`;
  const lookaside = plan.repoclosureLookaside ?? [];
  await writeFileAtomic(
    cfg,
    renderLocalRepoConfig(
      dnfDirs(dir),
      tasks.map((t) => ({ section: section(t), dir: path.join(layout.sigRoot, t.relDir) })),
      lookaside,
    ),
  );
  for (const t of tasks) {
    const resolveFrom = [...tasks.filter((o) => o.arch === t.arch).map(section), ...lookaside.map((l) => lookasideSection(l.name))];
    const state = path.join(dir, 'state', t.name);
    const r = await execa(
      'dnf',
      [
        '-c', cfg,
        `--releasever=${plan.release}`,
        `--setopt=module_platform_id=platform:el${plan.release}`,
        `--setopt=cachedir=${state}/cache`,
        `--setopt=logdir=${state}/log`,
        `--setopt=persistdir=${state}/persist`,
        'repoclosure', ...resolveFrom.map((s) => `--repo=${s}`), `--check=${section(t)}`, '--forcearch', t.arch,
      ],
      { reject: false, all: true, stdin: 'ignore', env: DNF_ENV, cancelSignal: Context.current().cancellationSignal, forceKillAfterDelay: 5000 },
    );
    if (Context.current().cancellationSignal.aborted) throw Context.current().cancellationSignal.reason;
    const problems = parseRepoclosureOutput(r.exitCode ?? null, String(r.all ?? ''));
    if (problems.length > 0) out.set(t.relDir, problems);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

export type WriteComposeManifestInput = ComposeManifestInput;

/** Writes `work/manifest-<stamp>.json` atomically; returns its path. */
export async function writeComposeManifest(input: WriteComposeManifestInput): Promise<string> {
  refuseDryRun(input.plan, 'writeComposeManifest');
  const layout = composeLayout(input.composeDir, input.plan.release, input.plan.sig, input.plan.stamp);
  const manifest = buildComposeManifest(input);
  await writeFileAtomic(layout.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return layout.manifest;
}

// ---------------------------------------------------------------------------------------------------------

export interface FlipLatestSymlinkInput {
  roots: Roots;
  release: string;
  sig: string;
  composeDir: string;
}

/**
 * Points `latest-SIG-<sig>-<rel>` at the compose folder (absolute path) by renaming a new link over the old
 * one: the link exists at every instant (the seed removed it, then created it: seed §7 risk 2).
 */
export async function flipLatestSymlink({ roots, release, sig, composeDir }: FlipLatestSymlinkInput): Promise<{ previous: string | null; current: string }> {
  const current = path.resolve(composeDir);
  const st = await fs.stat(current).catch(() => null);
  if (!st?.isDirectory()) {
    throw ApplicationFailure.create({ type: 'ComposeDirMissing', nonRetryable: true, message: `cannot point latest-SIG-${sig}-${release} at ${current}: no such folder` });
  }
  const link = latestLink(roots, release, sig);
  let previous: string | null = null;
  try {
    previous = await fs.readlink(link);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL') {
      throw ApplicationFailure.create({ type: 'LatestNotASymlink', nonRetryable: true, message: `${link} exists and is not a symlink; move it away before flipping latest` });
    }
    if (code !== 'ENOENT') throw e;
  }
  const tmp = `${link}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await fs.symlink(current, tmp);
    await fs.rename(tmp, link);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return { previous, current };
}

// ---------------------------------------------------------------------------------------------------------

/** What a dry run would sync: tasks with URLs and destinations, keys, extra files, warnings. Writes nothing. */
export async function describeDryRun({ plan, composeDir }: { plan: ComposePlan; composeDir?: string }): Promise<DryRunReport> {
  return describeComposePlan(plan, composeDir);
}
