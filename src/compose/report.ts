// What a compose tells people afterwards (the manifest) and beforehand (the dry-run report). Pure.
// The seed wrote neither: no compose metadata for SIGs, and `--dry-run` only said "not supported"
// (reference/seed-systems.md §2 stage 1 step 6, §7 risk 11).
import path from 'node:path';
import { composeLayout } from '../paths.js';
import type { ComposePlan, TaskResult, VerifyReport } from './types.js';
import type { SourceMetadata } from './staleness.js';

export const MANIFEST_VERSION = 1;

export interface ComposeManifest {
  manifestVersion: number;
  composeId: string;
  sig: string;
  release: string;
  revision: string;
  stamp: string;
  composeDir: string;
  fullRun: boolean;
  startedAt: string;
  finishedAt: string;
  options: ComposePlan['options'];
  effective: { gpgCheck: boolean; repoGpgCheck: boolean; hashed: boolean; cleanOldPackages: boolean; deployExtraFiles: boolean; parallelism: number; repoclosure: boolean };
  warnings: string[];
  /** Per synced folder (`x86_64/core-common`, …): what verification counted. */
  repos: { relDir: string; packages: number; bytes: number; problems: number }[];
  tasks: { name: string; relDir: string; baseUrl: string; downloaded: number; skipped: number; deleted: number; bytes: number; packages: number; durationMs: number; attempt: number; carriedOverFrom?: string }[];
  totals: { packages: number; bytes: number; downloaded: number; deleted: number };
  verification: { ok: boolean; problems: string[] };
  /** Per synced folder: the source's repomd.xml revision and newest timestamp (absent in older manifests). */
  sourceMetadata?: SourceMetadata[];
  /** Digest of the SIG keys the compose fetched (src/compose/carryOver.ts; absent in older manifests). */
  keysSha256?: string;
}

/** What a manifest is built from: the plan, the tasks' results and the verification. */
export interface ComposeManifestInput {
  plan: ComposePlan;
  composeDir: string;
  tasks: TaskResult[];
  verify: VerifyReport;
  startedAt: string;
  finishedAt: string;
}

export function buildComposeManifest(input: ComposeManifestInput, sourceMetadata?: SourceMetadata[]): ComposeManifest {
  const { plan, verify } = input;
  const planned = new Map(plan.batches.flat().map((t) => [t.name, t]));
  const tasks = input.tasks.map((r) => {
    const t = planned.get(r.name);
    return {
      name: r.name,
      relDir: t?.relDir ?? '',
      baseUrl: t?.baseUrl ?? '',
      downloaded: r.downloaded,
      skipped: r.skipped,
      deleted: r.deleted,
      bytes: r.bytes,
      packages: r.packages,
      durationMs: r.durationMs,
      attempt: r.attempt,
      ...(r.carriedOverFrom ? { carriedOverFrom: r.carriedOverFrom } : {}),
    };
  });
  const repos = verify.repos.map((r) => ({ relDir: r.relDir, packages: r.packages, bytes: r.bytes, problems: r.problems.length }));
  return {
    manifestVersion: MANIFEST_VERSION,
    composeId: plan.composeId,
    sig: plan.sig,
    release: plan.release,
    revision: plan.revision,
    stamp: plan.stamp,
    composeDir: input.composeDir,
    fullRun: plan.fullRun,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    options: plan.options,
    effective: {
      gpgCheck: plan.gpgCheck,
      repoGpgCheck: plan.repoGpgCheck,
      hashed: plan.hashed,
      cleanOldPackages: plan.cleanOldPackages,
      deployExtraFiles: plan.deployExtraFiles,
      parallelism: plan.parallelism,
      repoclosure: plan.repoclosure,
    },
    warnings: plan.warnings,
    repos,
    tasks,
    totals: {
      packages: repos.reduce((n, r) => n + r.packages, 0),
      bytes: repos.reduce((n, r) => n + r.bytes, 0),
      downloaded: tasks.reduce((n, t) => n + t.downloaded, 0),
      deleted: tasks.reduce((n, t) => n + t.deleted, 0),
    },
    verification: { ok: verify.ok, problems: verify.problems },
    ...(sourceMetadata ? { sourceMetadata } : {}),
  };
}

export interface DryRunTask {
  name: string;
  kind: string;
  arch: string;
  url: string;
  /** Absolute when the compose folder is known, else relative to the compose folder. */
  destination: string;
  log: string;
}

export interface DryRunReport {
  composeId: string;
  mode: 'full run' | 'in place';
  tasks: DryRunTask[];
  gpgKeys: string[];
  extraFiles: string[];
  warnings: string[];
  /** The same, for people: one line per task, then the extras. */
  lines: string[];
}

/** What a run of this plan would do, without doing any of it. */
export function describeComposePlan(plan: ComposePlan, composeDir?: string): DryRunReport {
  // Relative to the compose folder when it is not known (an in-place dry run without `latest`).
  const { sigRoot, logs, metadataDir } = composeLayout(composeDir ?? '', plan.release, plan.sig, plan.stamp);
  const tasks = plan.batches.flat().map((t) => ({
    name: t.name,
    kind: t.kind,
    arch: t.arch,
    url: t.baseUrl,
    destination: path.join(sigRoot, t.relDir),
    log: path.join(logs, t.logName),
  }));
  const extraFiles = plan.deployExtraFiles && plan.extraFiles ? plan.extraFiles.files.map((f) => plan.extraFiles!.baseUrl.replace(/\/*$/, '/') + f) : [];
  const lines = [
    `compose ${plan.composeId} (${plan.fullRun ? 'full run' : 'in place'}${composeDir ? ` in ${composeDir}` : ''}): ${tasks.length} reposync tasks, ${plan.parallelism} at a time`,
    ...tasks.map((t) => `  ${t.name}: ${t.url} -> ${t.destination}`),
    ...(plan.gpgKeys.length ? [`  gpg keys (${plan.gpgCheck ? 'signatures checked' : 'signatures NOT checked'}): ${plan.gpgKeys.join(' ')}`] : []),
    ...extraFiles.map((u) => `  extra file: ${u} -> ${path.join(metadataDir, path.posix.basename(u))}`),
    ...plan.warnings.map((w) => `  warning: ${w}`),
  ];
  return { composeId: plan.composeId, mode: plan.fullRun ? 'full run' : 'in place', tasks, gpgKeys: plan.gpgKeys, extraFiles, warnings: plan.warnings, lines };
}
