// Activities of the release lifecycle: which compose a re-stage or a rollback reads (found by name among the
// compose folders, never a path from the request), which compose staging and production hold (records beside
// the trees), and the vault copy with its preview. Every path is derived here from the worker's own site config.
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, resolveSigRelease, type Catalogue } from '../src/config/load.js';
import { checkRootMarkers, RootMarkerError, type RootKind } from '../src/config/roots.js';
import type { SiteConfig } from '../src/config/schema.js';
import { ComposeNotFoundError, findCompose, latestCompose, listComposes } from '../src/lifecycle/composes.js';
import { vaultRevisionProblem } from '../src/lifecycle/names.js';
import { approvalPolicy, starterOf, type RunStart } from './release.js';
import { readSourceRecord, writeSourceRecord, type SourceRecord, type TreeKind } from '../src/lifecycle/sources.js';
import { vaultCopyArgs, vaultPreviewArgs, vaultSigDir } from '../src/lifecycle/vault.js';
import { composeBase, productionReleaseDir, productionSigDir, stagingSigDir, type Roots } from '../src/paths.js';
import { classifyRsyncExit, describeRsyncFailure, tailLines } from '../src/publish/exit-codes.js';
import { countTargetFiles } from '../src/publish/fs-scan.js';
import { SyncPreviewBuilder } from '../src/publish/itemize.js';
import { parseRsyncStats } from '../src/publish/progress.js';
import { stagingDigest } from '../src/publish/staging-digest.js';
import type { SyncPreview } from '../src/publish/types.js';
import { mkdirConfined, OutsideRootsError } from '../src/roots.js';
import { Heartbeater, runTool, type RunToolResult } from '../src/publish/runner.js';
import type { PreviewSummary, Starter } from '../workflows/messages.js';
import type { ResolvedRelease } from './release.js';

export interface LifecycleDeps {
  site: SiteConfig;
  catalogue: Catalogue;
}

/** The compose a re-stage or rollback mirrors into staging. */
export interface StagingSource {
  /** Folder name, `SIG-<sig>-<revision>-<stamp>`. */
  compose: string;
  composeId: string;
  composeDir: string;
  /** `<composeDir>/compose/<rel>/<sig>`: what staging mirrors. */
  sigRoot: string;
  /** The newest manifest of that compose, or null. */
  manifest: string | null;
}

export interface VaultPreview extends PreviewSummary {
  vaultDir: string;
}

/** A vault request as the worker checked it; shaped like a release for the gate (workflows/approval.ts GateRequest). */
export interface ResolvedVault {
  plan: { release: string; sig: 'vault' };
  revision: string;
  roots: Roots;
  owner: { uid: number; gid: number } | null;
  allowLargeDeletion: false;
  approval: ResolvedRelease['approval'];
  starter: Starter;
  hostTaskQueue?: string;
}

const bad = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/** Who started a vault, as for a release (activities/release.ts starterOf); a refused signature is bad input. */
async function starterOrRefusal(run: RunStart, request: Record<string, unknown>, site: SiteConfig): Promise<Starter> {
  try {
    return await starterOf(run, request, site);
  } catch (e) {
    if (e instanceof ConfigError) throw bad('BadRequest', `vault: ${e.message}`);
    throw e;
  }
}

/** What every lifecycle activity checks first, from the worker's own site config and catalogue. */
function lifecycleContext(deps: LifecycleDeps) {
  const { site, catalogue } = deps;
  const roots: Roots = { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot };
  const checkRoots = (kinds: RootKind[]) => {
    try {
      checkRootMarkers(site, kinds);
    } catch (e) {
      if (e instanceof RootMarkerError) throw bad(e.type, e.message);
      throw e;
    }
  };
  /** The SIG and release checked against the catalogue: names reach no path unchecked. */
  const checkSigRelease = (release: string, sig: string) => {
    try {
      resolveSigRelease(catalogue, site, String(sig), String(release));
    } catch (e) {
      throw bad('BadRequest', (e as Error).message);
    }
  };
  const vaultPaths = (release: string, revision: string, stamp: string) => {
    const problem = vaultRevisionProblem(revision, String(release));
    if (problem || !/^[0-9]+$/.test(String(release)) || !/^\d{8}\.\d{6}$/.test(String(stamp))) throw bad('BadRequest', problem ?? `vault: bad release ${JSON.stringify(release)} or stamp`);
    return {
      source: productionReleaseDir(roots, release),
      target: vaultSigDir(roots, revision),
      report: path.join(composeBase(roots, release), 'vault-previews', `${revision}-${stamp}`),
    };
  };
  return { site, roots, checkRoots, checkSigRelease, vaultPaths };
}

export function createLifecycleActivities(deps: LifecycleDeps) {
  return { ...stagingSourceActivities(lifecycleContext(deps)), ...vaultActivities(lifecycleContext(deps)) };
}

type LifecycleContext = ReturnType<typeof lifecycleContext>;

/** Which compose a re-stage or rollback reads, and which compose staging and production hold. */
function stagingSourceActivities({ roots, checkRoots, checkSigRelease }: LifecycleContext) {
  return {
    /**
     * The compose to re-stage: the one `latest` points to, or (rollback) the one `composeId` names, checked
     * against the compose folders of this SIG and release on disk.
     */
    async resolveStagingSource(input: { release: string; sig: string; composeId?: string }): Promise<StagingSource> {
      checkSigRelease(input.release, input.sig);
      checkRoots(['compose', 'staging']);
      try {
        const found = input.composeId === undefined ? await latestCompose(roots, input.release, input.sig) : await findCompose(roots, input.release, input.sig, input.composeId);
        const row = (await listComposes(roots, input.release, input.sig)).find((c) => c.name === found.name);
        const sigRoot = path.join(found.dir, 'compose', input.release, input.sig);
        if (!(await stat(sigRoot).catch(() => null))?.isDirectory()) throw new ComposeNotFoundError(`compose ${found.name} has no ${input.release}/${input.sig} tree (${sigRoot}); it cannot be staged`);
        return { compose: found.name, composeId: found.composeId, composeDir: found.dir, sigRoot, manifest: row?.manifest?.file ?? null };
      } catch (e) {
        if (e instanceof ComposeNotFoundError || e instanceof OutsideRootsError) throw bad('ComposeNotFound', e.message);
        throw e;
      }
    },

    /** Records which compose `tree` now holds, with the tree's digest, beside the tree (src/lifecycle/sources.ts). */
    async recordTreeSource(input: { tree: TreeKind; release: string; sig: string; compose: string; composeId: string; workflowId: string; recordedAt: string }): Promise<SourceRecord> {
      checkSigRelease(input.release, input.sig);
      if (input.tree !== 'staging' && input.tree !== 'production') throw bad('BadRequest', `tree must be staging or production, got ${JSON.stringify(input.tree)}`);
      checkRoots([input.tree]);
      const dir = input.tree === 'staging' ? stagingSigDir(roots, input.release, input.sig) : productionSigDir(roots, input.release, input.sig);
      const record: SourceRecord = {
        compose: input.compose,
        composeId: input.composeId,
        digest: (await stagingDigest(dir)).digest,
        recordedAt: input.recordedAt,
        workflowId: input.workflowId,
      };
      await writeSourceRecord(roots, input.tree, input.release, input.sig, record);
      return record;
    },

    /** The compose staging came from, with its compose folder (null when staging records none). */
    async readStagingSource(input: { release: string; sig: string }): Promise<{ record: SourceRecord; composeDir: string } | null> {
      checkSigRelease(input.release, input.sig);
      const record = await readSourceRecord(roots, 'staging', input.release, input.sig);
      if (!record) return null;
      const found = await findCompose(roots, input.release, input.sig, record.compose).catch(() => null);
      return { record, composeDir: found?.dir ?? path.join(composeBase(roots, input.release), 'vanished', record.compose) };
    },

  };
}

/** The vault: its request checked, its preview, its copy. */
function vaultActivities({ site, roots, checkRoots, vaultPaths }: LifecycleContext) {
  return {
    /** Checks a vault request against the worker's own site config: the release it knows, a revision of it. */
    async resolveVault(input: { release: string; revision: string; requestedBy?: string; run?: RunStart }): Promise<ResolvedVault> {
      const release = String(input.release);
      if (!/^[0-9]+$/.test(release) || !site.releases[release]) {
        throw bad('BadRequest', `vault: unknown release ${JSON.stringify(input.release)}; known: ${Object.keys(site.releases).sort().join(', ')}`);
      }
      const problem = vaultRevisionProblem(input.revision, release);
      if (problem) throw bad('BadRequest', `vault: ${problem}`);
      const claimed = typeof input.requestedBy === 'string' && input.requestedBy !== '' ? { claimed: input.requestedBy.slice(0, 64) } : {};
      return {
        plan: { release, sig: 'vault' },
        revision: input.revision,
        roots,
        owner: site.owner,
        allowLargeDeletion: false,
        approval: approvalPolicy(site),
        // The signed part is the request as `sigrelease vault` sent it (src/lifecycle/start.ts).
        starter: input.run ? await starterOrRefusal(input.run, { release: input.release, revision: input.revision, ...(input.requestedBy !== undefined ? { requestedBy: input.requestedBy } : {}) }, site) : { kind: 'unsigned', ...claimed },
        ...(site.temporal.hostTaskQueue ? { hostTaskQueue: site.temporal.hostTaskQueue } : {}),
      };
    },

    /** What the vault would gain from production (a dry run without deletion), with production's digest now. */
    async previewVault(input: { release: string; revision: string; stamp: string }): Promise<VaultPreview> {
      checkRoots(['production', 'compose']);
      const p = vaultPaths(input.release, input.revision, input.stamp);
      if (!(await stat(p.source).catch(() => null))?.isDirectory()) throw bad('SourceMissing', `production has no ${p.source}: nothing to vault`);
      const { digest, entries } = await stagingDigest(p.source);
      const reportFile = path.join(await mkdirConfined(roots.composeRoot, p.report, 'vault report folder'), 'vault.txt');
      const preview = await itemizedPreview({ source: p.source, target: p.target, owner: site.owner, reportFile });
      return { ...preview, guard: { ok: true }, stagingDigest: digest, stagingEntries: entries, vaultDir: p.target };
    },

    /**
     * Copies production `sig/<rel>/` into the vault, never deleting there, once production still has the digest
     * the gate previewed (ProductionChangedSinceApproval otherwise, and nothing is copied).
     */
    async copyToVault(input: { release: string; revision: string; stamp: string; expectedDigest: string }): Promise<{ vaultDir: string; transferredFiles: number; transferredBytes: number; durationMs: number }> {
      checkRoots(['production']);
      const p = vaultPaths(input.release, input.revision, input.stamp);
      const now = (await stagingDigest(p.source)).digest;
      if (now !== input.expectedDigest) {
        throw bad('ProductionChangedSinceApproval', `production ${p.source} changed since the vault preview was approved (approved digest ${input.expectedDigest}, now ${now}); nothing was copied. Start the vault again so that someone approves what production holds now.`);
      }
      const target = await mkdirConfined(roots.productionRoot, p.target, 'vault folder');
      const hb = new Heartbeater({ phase: 'vault', target }, 2000).start();
      try {
        const args = vaultCopyArgs({ source: p.source, target, owner: site.owner });
        const res = await runTool('rsync', args);
        if (res.spawnError || res.exitCode !== 0) throw rsyncFailure(res, `copying ${p.source} into the vault ${target}`);
        const stats = parseRsyncStats(res.stdout);
        return { vaultDir: target, transferredFiles: stats.regularFilesTransferred ?? 0, transferredBytes: stats.transferredBytes ?? 0, durationMs: res.durationMs };
      } finally {
        hb.stop();
      }
    },
  };
}

/** An itemized rsync dry run into a SyncPreview (the counts the gate shows), the full list in `reportFile`. */
async function itemizedPreview(o: { source: string; target: string; owner: { uid: number; gid: number } | null; reportFile: string }): Promise<SyncPreview> {
  await mkdir(path.dirname(o.reportFile), { recursive: true });
  const args = vaultPreviewArgs(o);
  const res = await runTool('rsync', args, { stdoutFile: o.reportFile });
  if (res.spawnError || res.exitCode !== 0) throw rsyncFailure(res, `previewing ${o.source} → ${o.target} (dry run)`);
  const targetExists = (await stat(o.target).catch(() => undefined))?.isDirectory() ?? false;
  const counts = targetExists ? await countTargetFiles(o.target) : { total: 0, byRepo: new Map<string, number>(), bytes: 0, kept: [] };
  const builder = new SyncPreviewBuilder('sized');
  for await (const line of createInterface({ input: createReadStream(o.reportFile, { encoding: 'utf8' }), crlfDelay: Infinity })) builder.addLine(line);
  builder.setTargetFiles(counts.total, counts.byRepo);
  return builder.build({ source: o.source, target: o.target, targetExists, reportFile: o.reportFile, targetBytes: counts.bytes });
}

function rsyncFailure(res: RunToolResult, what: string): ApplicationFailure {
  if (res.spawnError) return bad('RsyncNotFound', `could not start rsync while ${what}: ${res.spawnError.message}`);
  const cls = classifyRsyncExit(res.exitCode, res.stderr, res.signal);
  return ApplicationFailure.create({
    type: cls.type,
    nonRetryable: !cls.retryable,
    message: describeRsyncFailure(cls, { exitCode: res.exitCode, signal: res.signal, stderr: res.stderr, what }),
    details: [{ exitCode: res.exitCode ?? null, stderrTail: tailLines(res.stderr) }],
  });
}
