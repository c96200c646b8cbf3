// Publish activities: compose → staging, staging → production, hardlink pass. They carry out the decisions of
// src/publish/ (argument building, output parsing, the deletion guard, the production pass plan).
// Each takes ONE input object and works both under a Temporal worker and called directly (no heartbeats, no
// cancellation outside an activity context).
//
// Failure types (non-retryable unless noted): SourceMissing, TargetNotDirectory, SourceTargetOverlap,
// DeletionGuardTripped, DeletionExceedsApproval, StagingChangedSinceApproval, RsyncNotFound, HardlinkNotFound, HardlinkDirMissing, the rsync types of
// src/publish/exit-codes.ts (RsyncUsageError, … non-retryable; RsyncPartialTransfer, RsyncIoError, DiskFull,
// RsyncMaxDeleteReached, … retryable), HardlinkFailed (retryable).
import { createReadStream, lstatSync } from 'node:fs';
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ApplicationFailure } from '@temporalio/common';
import { classifyRsyncExit, describeRsyncFailure, tailLines } from '../src/publish/exit-codes.js';
import { countTargetFiles, removeScratchDirs } from '../src/publish/fs-scan.js';
import { evaluateDeletionGuard, exceedsApprovedDeletions } from '../src/publish/guard.js';
import { DEFAULT_HARDLINK_EXCLUDE, hardlinkArgs, parseHardlinkSummary, type HardlinkSummary } from '../src/publish/hardlink.js';
import { SyncPreviewBuilder } from '../src/publish/itemize.js';
import { keepDirFilters, productionPasses, type ProductionPassNumber } from '../src/publish/production-plan.js';
import { Progress2Tracker, parseRsyncStats } from '../src/publish/progress.js';
import { previewArgs, stagingSyncArgs } from '../src/publish/rsync-args.js';
import { stagingDigest } from '../src/publish/staging-digest.js';
import { activityContext, Heartbeater, previousHeartbeat, runTool, throwIfCancelled, type RunToolResult } from '../src/publish/runner.js';
import type { ApprovedDeletions, DeletionGuardOptions, DeletionGuardResult, Owner, SyncHeartbeat, SyncPreview } from '../src/publish/types.js';

export type { ApprovedDeletions, DeletionGuardOptions, DeletionGuardResult, Owner, SyncHeartbeat, SyncPreview } from '../src/publish/types.js';

// ---------------------------------------------------------------------------------------------------------------
// Inputs and results

export interface PreviewSyncInput {
  /** Directory whose contents become the target (may be reached through a symlink such as `latest-SIG-core-9`). */
  source: string;
  target: string;
  owner?: Owner | null;
  /** Where the full itemized list is written (its directory is created). */
  reportFile: string;
  /** Heartbeat timer period (default 2000 ms). */
  heartbeatIntervalMs?: number;
  /**
   * Top-level folders of the target that exist only there (the catalogue's `productionOnlyDirs`): never deleted,
   * listed in the preview as `kept`, and left out of the deletion guard's shares.
   */
  keep?: readonly string[];
}

export interface SyncInput extends PreviewSyncInput {
  guard?: DeletionGuardOptions;
  allowLargeDeletion?: boolean;
  /** rsync --bwlimit in KiB/s (to protect a busy disk or network; tests use it to slow a sync down). */
  bwlimitKiB?: number;
}

export interface SyncResult {
  preview: SyncPreview;
  guard: DeletionGuardResult;
  transferredFiles: number;
  transferredBytes: number;
  durationMs: number;
  /** rsync scratch dirs (`.rsync-partial/`, `.~tmp~/`) left by killed attempts, removed once the sync finished. */
  scratchRemoved: string[];
}

export interface ProductionSyncInput extends SyncInput {
  /**
   * The deletions of the preview the approver saw (`deletionsOf(gatePreview)`). When the deletion guard trips and
   * allowLargeDeletion lets it through, the sync may delete at most this much; more stops it before pass 1 (or
   * before pass 3 when only that runs) with DeletionExceedsApproval.
   */
  approvedDeletions?: ApprovedDeletions;
  /**
   * Which of the three passes this call runs, default all. The release workflow runs [1, 2], waits out the
   * metadata grace period on a durable timer, then runs [3]: the deletions.
   */
  passes?: readonly ProductionPassNumber[];
  /**
   * The staging digest the approver saw at the gate (src/publish/staging-digest.ts). When given, staging is
   * digested again before anything in production is touched; a different digest fails with
   * StagingChangedSinceApproval (non-retryable) and production stays as it was.
   */
  expectedStagingDigest?: string;
}

export interface ProductionPassResult {
  pass: ProductionPassNumber;
  /** True when an earlier attempt had finished this pass (read from the heartbeat details). */
  skipped: boolean;
  transferredFiles: number;
  transferredBytes: number;
  durationMs: number;
}

export interface ProductionSyncResult extends SyncResult {
  passes: ProductionPassResult[];
  /** Passes an earlier attempt had finished (0 on a first attempt). */
  resumedAfterPass: number;
}

export interface HardlinkReleaseInput {
  /** The release dir over every SIG, e.g. `<production>/mirror/pub/sig/9`. */
  dir: string;
  /** util-linux hardlink `-x` regex, matched against the full path. Default `.*\.xml.*` (as the seed). */
  excludeRegex?: string;
  heartbeatIntervalMs?: number;
}

export interface HardlinkReleaseResult {
  linked: number;
  savedBytes: number;
  /** Files considered after excludes. */
  files: number;
  /** `Saved:` as hardlink printed it. */
  saved: string;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Activities

/** rsync dry run with itemized changes: writes the full list to `reportFile`, returns the counts. */
export async function previewSync(input: PreviewSyncInput): Promise<SyncPreview> {
  const source = await resolveSource(input.source);
  await checkTarget(source, input.target);
  const hb = newHeartbeater(source, 0, input.heartbeatIntervalMs).start();
  try {
    return await runPreview({ ...input, source, reportFile: attemptReportFile(input.reportFile) });
  } finally {
    hb.stop();
  }
}

/**
 * Mirrors a compose's SIG tree into staging: preview, deletion guard, then `rsync -a --delete-delay` with progress
 * heartbeats. Staging stays untouched when the guard trips. A retried attempt reads the same compose (from the
 * heartbeat details) and skips what the killed attempt had finished.
 */
export async function syncToStaging(input: SyncInput): Promise<SyncResult> {
  const started = Date.now();
  const prev = previousHeartbeat<SyncHeartbeat>();
  const source = await resolveSource(input.source, prev?.source);
  await checkTarget(source, input.target);
  const hb = newHeartbeater(source, 0, input.heartbeatIntervalMs).start();
  try {
    const preview = await runPreview({ ...input, source, reportFile: attemptReportFile(input.reportFile) });
    const guard = enforceGuard(preview, input);
    throwIfCancelled();
    await mkdir(input.target, { recursive: true });
    hb.update({ phase: 'transfer' }, true);
    const args = stagingSyncArgs({ source, target: input.target, owner: input.owner ?? null, maxDelete: preview.deleteEntries, bwlimitKiB: input.bwlimitKiB });
    const run = await runRsyncWithProgress(args, hb, `syncing ${source} to staging ${input.target}`);
    const scratchRemoved = await removeScratchDirs(input.target);
    hb.update({ phase: 'done' }, true);
    return { preview, guard, transferredFiles: run.transferredFiles, transferredBytes: run.transferredBytes, durationMs: Date.now() - started, scratchRemoved };
  } finally {
    hb.stop();
  }
}

/**
 * Makes production an exact copy of staging in three passes (src/publish/production-plan.ts): content without
 * deletion, then repomd.xml with --delay-updates, then deletions. A mirror reading at any moment finds every file
 * the repomd.xml it read names. Heartbeat details carry the passes finished; a retried attempt skips them.
 */
export async function syncToProduction(input: ProductionSyncInput): Promise<ProductionSyncResult> {
  const started = Date.now();
  const prev = previousHeartbeat<SyncHeartbeat>();
  const resumedAfterPass = Math.max(0, Math.min(3, Math.trunc(Number(prev?.completedPasses ?? 0)) || 0));
  const source = await resolveSource(input.source, prev?.source);
  await checkTarget(source, input.target);
  const hb = newHeartbeater(source, resumedAfterPass, input.heartbeatIntervalMs).start();
  try {
    // The digest check and the fresh preview only read, and nothing is written before both are done: they walk
    // side by side (two cores, two walks). A changed staging is reported as such even when the preview failed too.
    const [digestCheck, previewRun] = await Promise.allSettled([
      input.expectedStagingDigest !== undefined ? refuseChangedStaging(source, input.expectedStagingDigest) : Promise.resolve(),
      runPreview({ ...input, source, reportFile: attemptReportFile(input.reportFile) }),
    ]);
    if (digestCheck.status === 'rejected') throw digestCheck.reason;
    if (previewRun.status === 'rejected') throw previewRun.reason;
    const preview = previewRun.value;
    const guard = enforceGuard(preview, input);
    if (guard.overridden && input.approvedDeletions) enforceApprovedDeletions(preview, input.approvedDeletions);
    await mkdir(input.target, { recursive: true });
    const wanted = new Set(input.passes ?? [1, 2, 3]);
    // --max-delete is the fresh preview's count, which the check above holds to the approved one.
    const plan = productionPasses({ source, target: input.target, owner: input.owner ?? null, maxDelete: preview.deleteEntries, bwlimitKiB: input.bwlimitKiB, keep: input.keep }).filter((p) =>
      wanted.has(p.pass),
    );
    const passes: ProductionPassResult[] = [];
    let transferredFiles = 0;
    let transferredBytes = 0;
    for (const pass of plan) {
      if (pass.pass <= resumedAfterPass) {
        passes.push({ pass: pass.pass, skipped: true, transferredFiles: 0, transferredBytes: 0, durationMs: 0 });
        continue;
      }
      throwIfCancelled();
      hb.update({ phase: pass.phase, bytes: 0, percent: 0, filesTransferred: 0, toCheck: null, total: null }, true);
      const run = await runRsyncWithProgress(
        pass.args,
        hb,
        `syncing staging ${source} to production ${input.target}, pass ${pass.pass} of 3 (${pass.description})`,
      );
      transferredFiles += run.transferredFiles;
      transferredBytes += run.transferredBytes;
      passes.push({ pass: pass.pass, skipped: false, transferredFiles: run.transferredFiles, transferredBytes: run.transferredBytes, durationMs: run.durationMs });
      hb.update({ completedPasses: pass.pass }, true);
    }
    // Only once the deletion pass is done is production complete; what rsync's scratch dirs still hold is stale.
    const scratchRemoved = wanted.has(3) ? await removeScratchDirs(input.target) : [];
    hb.update({ phase: 'done' }, true);
    return { preview, guard, transferredFiles, transferredBytes, durationMs: Date.now() - started, passes, resumedAfterPass, scratchRemoved };
  } finally {
    hb.stop();
  }
}

/** Runs util-linux `hardlink -x <regex> <dir>` (identical non-xml files share one inode) and parses its summary. */
export async function hardlinkRelease(input: HardlinkReleaseInput): Promise<HardlinkReleaseResult> {
  const started = Date.now();
  const excludeRegex = input.excludeRegex ?? DEFAULT_HARDLINK_EXCLUDE;
  // hardlink exits 0 on a missing dir (it only warns), so check first.
  const st = await stat(input.dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw ApplicationFailure.create({
      type: 'HardlinkDirMissing',
      nonRetryable: true,
      message: `hardlink: ${input.dir} ${st ? 'is not a directory' : 'does not exist'}. Pass the production release dir (e.g. <production>/mirror/pub/sig/9) after the production sync has created it.`,
    });
  }
  const hb = new Heartbeater({ phase: 'hardlink' as const, dir: input.dir }, input.heartbeatIntervalMs ?? 2000).start();
  try {
    let stdout = '';
    const args = hardlinkArgs(input.dir, excludeRegex);
    const res = await runTool('hardlink', args, { onStdout: (d) => (stdout += d) });
    if (res.spawnError) {
      throw ApplicationFailure.create({
        type: 'HardlinkNotFound',
        nonRetryable: true,
        message: `could not start hardlink: ${res.spawnError.message}. Install util-linux hardlink (2.36 or later) on the worker host.`,
      });
    }
    if (res.exitCode !== 0) {
      throw ApplicationFailure.create({
        type: 'HardlinkFailed',
        nonRetryable: false,
        message: `hardlink ${args.join(' ')} failed with ${res.exitCode === undefined ? `signal ${res.signal}` : `exit code ${res.exitCode}`}; it will be retried.\nLast stderr lines:\n${tailLines(res.stderr)}`,
        details: [{ exitCode: res.exitCode ?? null, stderrTail: tailLines(res.stderr) }],
      });
    }
    const s: HardlinkSummary = parseHardlinkSummary(stdout);
    return { linked: s.linked, savedBytes: s.savedBytes, files: s.files, saved: s.saved, durationMs: Date.now() - started };
  } finally {
    hb.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/**
 * Production gets only what the approver saw: staging's digest now must be the one recorded at the gate.
 * Failing (rather than re-previewing quietly) makes a person look again at a new release.
 */
async function refuseChangedStaging(source: string, approved: string): Promise<void> {
  const now = (await stagingDigest(source)).digest;
  if (now === approved) return;
  throw ApplicationFailure.create({
    type: 'StagingChangedSinceApproval',
    nonRetryable: true,
    message:
      `staging ${source} changed since the approval gate previewed it (approved digest ${approved}, staging now ${now}). ` +
      `Production was not touched. Start a new release so that someone approves what staging holds now.`,
    details: [{ approvedDigest: approved, stagingDigest: now, staging: source }],
  });
}

function newHeartbeater(source: string, completedPasses: number, intervalMs?: number) {
  return new Heartbeater<SyncHeartbeat>(
    { phase: 'preview', bytes: 0, percent: 0, filesTransferred: 0, toCheck: null, total: null, source, completedPasses },
    intervalMs ?? 2000,
  );
}

/**
 * Resolves the source once (realpath), so the whole sync reads one compose even if `latest` flips meanwhile.
 * `previous` is the source an earlier attempt resolved (heartbeat details): reused while it still exists.
 */
async function resolveSource(source: string, previous?: string): Promise<string> {
  if (!path.isAbsolute(source)) {
    throw ApplicationFailure.create({ type: 'SourceMissing', nonRetryable: true, message: `source must be an absolute path, got ${JSON.stringify(source)}` });
  }
  if (typeof previous === 'string' && path.isAbsolute(previous)) {
    const st = await stat(previous).catch(() => undefined);
    if (st?.isDirectory()) return previous;
  }
  let resolved: string;
  try {
    resolved = await realpath(source);
  } catch (err) {
    throw ApplicationFailure.create({
      type: 'SourceMissing',
      nonRetryable: true,
      message:
        `source ${source} does not exist (${(err as NodeJS.ErrnoException).code ?? String(err)}). ` +
        `If it goes through a latest-SIG-* link, the compose it points at is missing or the link dangles: run a full compose first. Nothing was changed.`,
      details: [{ source }],
    });
  }
  const st = await stat(resolved);
  if (!st.isDirectory()) {
    throw ApplicationFailure.create({ type: 'SourceMissing', nonRetryable: true, message: `source ${source} (${resolved}) is not a directory. Nothing was changed.` });
  }
  return resolved;
}

async function checkTarget(source: string, target: string): Promise<void> {
  if (!path.isAbsolute(target)) {
    throw ApplicationFailure.create({ type: 'TargetNotDirectory', nonRetryable: true, message: `target must be an absolute path, got ${JSON.stringify(target)}` });
  }
  const st = await lstat(target).catch(() => undefined);
  let real = path.resolve(target);
  if (st) {
    real = await realpath(target);
    if (!(await stat(real)).isDirectory()) {
      throw ApplicationFailure.create({ type: 'TargetNotDirectory', nonRetryable: true, message: `target ${target} exists but is not a directory. Nothing was changed.` });
    }
  }
  const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith('/') ? b : b + '/');
  if (inside(real, source) || inside(source, real)) {
    throw ApplicationFailure.create({
      type: 'SourceTargetOverlap',
      nonRetryable: true,
      message: `source ${source} and target ${target} (${real}) overlap (one is inside the other); a mirror with --delete between them would destroy data. Check the configured roots. Nothing was changed.`,
    });
  }
}

/** On a retried attempt the report goes next to the first one (`<file>.attempt-N`), keeping the first attempt's list. */
function attemptReportFile(reportFile: string): string {
  const attempt = activityContext()?.info.attempt ?? 1;
  return attempt > 1 ? `${reportFile}.attempt-${attempt}` : reportFile;
}

async function runPreview(o: { source: string; target: string; owner?: Owner | null; reportFile: string; keep?: readonly string[] }): Promise<SyncPreview> {
  await mkdir(path.dirname(o.reportFile), { recursive: true });
  const args = previewArgs({ source: o.source, target: o.target, owner: o.owner ?? null, filters: keepDirFilters(o.keep) });
  // The target is counted while rsync's dry run walks it: both only read, and the count is used only afterwards.
  const [res, counts] = await Promise.all([runTool('rsync', args, { stdoutFile: o.reportFile }), countTargetFiles(o.target, o.keep)]);
  if (res.spawnError || res.exitCode !== 0) throw rsyncFailure(res, args, `previewing ${o.source} → ${o.target} (dry run)`);

  const targetExists = (await stat(o.target).catch(() => undefined))?.isDirectory() ?? false;
  const builder = new SyncPreviewBuilder('sized');
  const lines = createInterface({ input: createReadStream(o.reportFile, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    const entry = builder.addLine(line);
    // rsync prints size 0 for deletions: take the size the file has in the target (a deleted dir's files are
    // listed one by one). Entries that are not dirs: files or symlinks.
    if (entry?.kind === 'deleted' && entry.fileType !== 'dir') {
      // addLine already counted it with 0 bytes; add the real size. Synchronous: one thread-pool round trip per
      // deleted file cost more than the lstat itself; the loop still yields at every chunk of the report.
      let size: number | undefined;
      try {
        size = lstatSync(path.join(o.target, entry.path)).size;
      } catch {
        size = undefined; // gone meanwhile, or a folder on its path turned into a file: no bytes to add
      }
      if (size !== undefined) builder.addDeletedBytes(entry, size);
    }
  }
  builder.setTargetFiles(counts.total, counts.byRepo);
  return builder.build({ source: o.source, target: o.target, targetExists, reportFile: o.reportFile, targetBytes: counts.bytes, kept: counts.kept });
}

function enforceGuard(preview: SyncPreview, input: SyncInput): DeletionGuardResult {
  const guard = evaluateDeletionGuard(preview, input.guard ?? {}, input.allowLargeDeletion ?? false);
  if (!guard.ok) {
    throw ApplicationFailure.create({
      type: 'DeletionGuardTripped',
      nonRetryable: true,
      message: guard.reason ?? 'deletion guard tripped',
      details: [
        {
          deletedFiles: preview.deleted.files,
          targetFiles: preview.targetFiles,
          share: preview.targetFiles ? preview.deleted.files / preview.targetFiles : 0,
          deletedBytes: preview.deleted.bytes,
          targetBytes: preview.targetBytes ?? 0,
          byteShare: preview.targetBytes ? preview.deleted.bytes / preview.targetBytes : 0,
          reportFile: preview.reportFile,
        },
      ],
    });
  }
  return guard;
}

function enforceApprovedDeletions(preview: SyncPreview, approved: ApprovedDeletions): void {
  const why = exceedsApprovedDeletions(preview, approved);
  if (why === null) return;
  throw ApplicationFailure.create({
    type: 'DeletionExceedsApproval',
    nonRetryable: true,
    message: why,
    details: [{ approved, wouldDelete: { files: preview.deleted.files, bytes: preview.deleted.bytes, entries: preview.deleteEntries }, reportFile: preview.reportFile }],
  });
}

async function runRsyncWithProgress(args: string[], hb: Heartbeater<SyncHeartbeat>, what: string) {
  const tracker = new Progress2Tracker();
  const onRecords = (records: ReturnType<Progress2Tracker['push']>) => {
    const p = records.at(-1);
    if (p) hb.update({ bytes: p.bytes, percent: p.percent, filesTransferred: p.filesTransferred ?? 0, toCheck: p.toCheck, total: p.total });
  };
  const res = await runTool('rsync', args, { onStdout: (chunk) => onRecords(tracker.push(chunk)) });
  onRecords(tracker.end());
  if (res.spawnError || res.exitCode !== 0) throw rsyncFailure(res, args, what);
  const stats = parseRsyncStats(tracker.otherText);
  return {
    transferredFiles: stats.regularFilesTransferred ?? tracker.latest?.filesTransferred ?? 0,
    transferredBytes: stats.transferredBytes ?? tracker.latest?.bytes ?? 0,
    durationMs: res.durationMs,
  };
}

function rsyncFailure(res: RunToolResult, args: readonly string[], what: string): ApplicationFailure {
  if (res.spawnError) {
    return ApplicationFailure.create({
      type: 'RsyncNotFound',
      nonRetryable: true,
      message: `could not start rsync while ${what}: ${res.spawnError.message}. Install rsync (3.1 or later) on the worker host.`,
    });
  }
  const cls = classifyRsyncExit(res.exitCode, res.stderr, res.signal);
  return ApplicationFailure.create({
    type: cls.type,
    nonRetryable: !cls.retryable,
    // No command line in the message: with the stack it pushed the failure past the server's 4 KB limit for a
    // pending activity's last failure, which then showed only "Failure exceeds size limit.".
    message: describeRsyncFailure(cls, { exitCode: res.exitCode, signal: res.signal, stderr: res.stderr, what }),
    details: [{ exitCode: res.exitCode ?? null, signal: res.signal ?? null, stderrTail: tailLines(res.stderr) }],
  });
}
