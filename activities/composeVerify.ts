// Verification of a finished compose: every synced folder against its own metadata, and optionally
// `dnf repoclosure` per binary repo. A compose that fails here never becomes `latest`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ComposeLayout } from '../src/paths.js';
import { parseVerified, serializeVerified, type VerifiedFiles } from '../src/compose/verifiedFiles.js';
import { confinedPath } from '../src/roots.js';
import { lookasideSection, renderLocalRepoConfig } from '../src/compose/dnfConfig.js';
import { writeFileAtomic } from '../src/compose/files.js';
import { parseRepoclosureOutput } from '../src/compose/repoclosure.js';
import { verifyRepoDir } from '../src/compose/verify.js';
import { describeUnlistableName, findUnlistableNames } from '../src/compose/listableNames.js';
import type { ComposePlan, ReposyncTask, RepoVerification, VerifyReport } from '../src/compose/types.js';
import { classifyToolExit, describeToolFailure, REPOCLOSURE_EXITS } from '../src/tools/exit-codes.js';
import { runTool, tailLines } from '../src/tools/run.js';
import { DNF_ENV, dnfDirs, HEARTBEAT_EVERY_MS, refusal, trustCompose, type ComposeDeps, type TrustedCompose } from './composeCommon.js';
import { seededFromCompose } from './composeFolder.js';

const MAX_LISTED_PROBLEMS = 20;

export interface VerifyComposeInput {
  plan: ComposePlan;
  /** Checked against the folder the worker derives itself; refused when it differs. */
  composeDir?: string;
}

export function createVerifyActivities(deps: ComposeDeps) {
  return {
    /**
     * Checks every synced folder against its own metadata (and, when the site asks, `dnf repoclosure` over each
     * binary repo). Returns the report when all is well; otherwise fails with non-retryable
     * `ComposeVerificationFailed` carrying the report as details, so `latest` is never flipped to it.
     */
    async verifyCompose(input: VerifyComposeInput): Promise<VerifyReport> {
      const t = trustCompose(deps, input);
      return verify(t);
    },
  };
}

/** Where a compose keeps what verification found good in one synced folder (src/compose/verifiedFiles.ts). */
export const verifiedRecord = (layout: ComposeLayout, relDir: string) => path.join(layout.work, 'verified', `${relDir}.json`);

/** What the compose this one was seeded from verified in the same folder; empty when there is none. */
async function trustedFiles(t: TrustedCompose, relDir: string): Promise<VerifiedFiles> {
  const from = await seededFromCompose(t).catch(() => null);
  if (!from) return new Map();
  return parseVerified(await fs.readFile(verifiedRecord(from.layout, relDir), 'utf8').catch(() => null));
}

async function writeVerifiedRecord(t: TrustedCompose, relDir: string, files: VerifiedFiles): Promise<void> {
  const file = await confinedPath(t.roots.composeRoot, verifiedRecord(t.layout, relDir), 'verification record').catch((e: unknown) => Promise.reject(refusal(e)));
  await writeFileAtomic(file, serializeVerified(files));
}

async function verify(t: TrustedCompose): Promise<VerifyReport> {
  const { plan, composeDir, layout } = t;
  const ctx = Context.current();
  const tasks = plan.batches.flat();
  let done = 0;
  const timer = setInterval(() => ctx.heartbeat({ verified: done, of: tasks.length }), HEARTBEAT_EVERY_MS);
  const repos: RepoVerification[] = [];
  try {
    for (const task of tasks) {
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      // Files the seed compose verified and this one holds by hard link, unchanged, are not read again.
      const verified: VerifiedFiles = new Map();
      const r = await verifyRepoDir(path.join(layout.sigRoot, task.relDir), { trusted: await trustedFiles(t, task.relDir), verified });
      if (r.problems.length === 0) await writeVerifiedRecord(t, task.relDir, verified);
      repos.push({ relDir: task.relDir, packages: r.packages, bytes: r.bytes, problems: r.problems });
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
    const r = await runTool(
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
      // A lookaside with repo_gpgcheck is checked in dnf's TMPDIR: any agent of it is stopped after the run.
      { env: DNF_ENV, privateTmp: true },
    );
    // A missing dnf is the host's fault; any other failure is a verdict on the compose (an unreachable lookaside
    // included) and is reported as a verification problem, quoting dnf.
    if (r.spawnError) {
      const failed = classifyToolExit(REPOCLOSURE_EXITS, r)!;
      throw ApplicationFailure.create({ type: failed.type, nonRetryable: !failed.retryable, message: describeToolFailure(failed, r, `repoclosure of ${t.name}`, tailLines(r.stderr)) });
    }
    const problems = parseRepoclosureOutput(r.exitCode ?? null, `${r.stdout}\n${r.stderr}`);
    if (problems.length > 0) out.set(t.relDir, problems);
  }
  return out;
}
