// `sigrelease prune`: removes the compose folders of one SIG and release that retention no longer keeps
// (src/retention/plan.ts decides). Runs on the compose host; paths come from the worker's site config only, and
// every folder removed is confined to the compose root. Before deciding it asks Temporal which composes running
// releases use, so a compose under review is never pulled from under its run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ConfigError } from '../src/config/load.js';
import { releaseWorkflowId } from '../src/client.js';
import { composeBase, latestLink, productionSigDir, stagingSigDir, type Roots } from '../src/paths.js';
import { confinedPath } from '../src/roots.js';
import { readSourceRecord, sourceRecordPath, type TreeKind } from '../src/lifecycle/sources.js';
import { bytesFreed, parseComposeFolder, planPrune, protectedComposes, stampsNamedIn, type ComposeFolder, type FileLink, type KeepReason } from '../src/retention/plan.js';
import { pruneTargets, type PruneRequest, type PruneTarget } from '../src/retention/targets.js';
import { SEARCH_ATTRIBUTES, statusQuery } from '../workflows/messages.js';
import type { ReleaseDeps } from './release.js';


export interface PruneReport {
  release: string;
  sig: string;
  keep: number;
  dryRun: boolean;
  kept: Array<{ name: string; reasons: Array<KeepReason | 'newest'> }>;
  /** Removed, or with dryRun what would be. */
  removed: string[];
  /** Bytes whose last hard link went with the removed folders (files only; folders' own blocks not counted). */
  bytesFreed: number;
  filesFreed: number;
  /** Files of removed folders still linked from elsewhere (a kept compose): their bytes stay in use. */
  filesStillLinked: number;
}

export interface PruneTargetsResult {
  targets: PruneTarget[];
  dryRun: boolean;
  hostTaskQueue?: string;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* called outside an activity (unit use) */
  }
}

/**
 * The compose staging or production holds, from its source record (src/lifecycle/sources.ts). A record that
 * cannot be read protects nothing it names, so it stops the prune instead (retryable): better no prune than the
 * production compose gone.
 */
async function sourceOf(roots: Roots, tree: TreeKind, t: PruneTarget): Promise<string | null> {
  try {
    const record = await readSourceRecord(roots, tree, t.release, t.sig);
    return record ? record.compose : null;
  } catch (e) {
    throw ApplicationFailure.create({
      type: 'SourceRecordUnreadable',
      message: `${sourceRecordPath(roots, tree, t.release, t.sig)} cannot be read (${(e as Error).message}); nothing removed until it can`,
    });
  }
}

/** What `latest` points at (its target's name), even when the target is gone; null without a link. */
async function latestTarget(roots: Roots, t: PruneTarget): Promise<string | null> {
  return fs.readlink(latestLink(roots, t.release, t.sig)).catch(() => null);
}

/** Dated compose folders of the SIG directly in `<composeRoot>/<release>` (real folders, never links). */
async function composeFolders(roots: Roots, t: PruneTarget): Promise<ComposeFolder[]> {
  const base = composeBase(roots, t.release);
  const entries = await fs.readdir(base, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  return entries.filter((e) => e.isDirectory()).flatMap((e) => parseComposeFolder(e.name, t.sig) ?? []);
}

/** Every non-folder entry under `dir`, as lstat sees it (links are not followed). */
async function* fileLinks(dir: string): AsyncGenerator<FileLink> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* fileLinks(p);
    else {
      const st = await fs.lstat(p, { bigint: false });
      yield { dev: st.dev, ino: st.ino, nlink: st.nlink, size: st.size };
    }
  }
}

/**
 * Compose stamps that running releases of this SIG and release name in their status. A run that cannot be asked
 * stops the prune (retryable): not knowing what it uses, nothing may be removed.
 */
export async function composesOfRunningReleases(client: Client, t: PruneTarget): Promise<string[]> {
  const query = `WorkflowType = "sigRelease" AND ${SEARCH_ATTRIBUTES.sig.name} = "${t.sig}" AND ${SEARCH_ATTRIBUTES.release.name} = "${t.release}" AND ExecutionStatus = "Running"`;
  const ids = new Set<string>();
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) ids.add(wf.workflowId);
  // Visibility lags a fresh start; the hand-started ID answers at once.
  const direct = await client.workflow.getHandle(releaseWorkflowId(t.sig, t.release)).describe().catch(() => null);
  if (direct?.status.name === 'RUNNING' && direct.type === 'sigRelease') ids.add(direct.workflowId);
  const stamps: string[] = [];
  for (const id of ids) {
    try {
      stamps.push(...stampsNamedIn(await client.workflow.getHandle(id).query(statusQuery)));
    } catch (e) {
      const d = await client.workflow.getHandle(id).describe().catch(() => null);
      if (d && d.status.name !== 'RUNNING') continue; // it ended meanwhile: it uses nothing
      throw ApplicationFailure.create({ type: 'RunningReleaseUnknown', message: `cannot ask the running release ${id} which compose it uses (${(e as Error).message}); nothing removed` });
    }
  }
  return stamps;
}

/** The plan for one SIG and release, carried out unless `dryRun`. */
export async function pruneComposeFolders(deps: ReleaseDeps, t: PruneTarget, dryRun: boolean): Promise<PruneReport> {
  const { site } = deps;
  const roots: Roots = { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot };
  if (!deps.client) throw ApplicationFailure.create({ type: 'NoTemporalClient', nonRetryable: true, message: 'the worker has no Temporal client to ask which composes running releases use' });
  const running = await composesOfRunningReleases(deps.client, t);
  const protect = protectedComposes({
    latest: await latestTarget(roots, t),
    staging: await sourceOf(roots, 'staging', t),
    production: await sourceOf(roots, 'production', t),
    running,
  });
  const plan = planPrune(await composeFolders(roots, t), site.compose.keep, protect);
  const base = composeBase(roots, t.release);
  const links: FileLink[] = [];
  for (const f of plan.removed) {
    heartbeat({ measuring: f.name });
    for await (const l of fileLinks(await confinedPath(roots.composeRoot, path.join(base, f.name), 'compose folder'))) links.push(l);
  }
  const freed = bytesFreed(links);
  if (!dryRun) {
    for (const f of plan.removed) {
      // One rm of a large tree says nothing for minutes: the heartbeat keeps saying we are alive.
      const ticker = setInterval(() => heartbeat({ removing: f.name }), 10_000);
      try {
        heartbeat({ removing: f.name });
        await fs.rm(await confinedPath(roots.composeRoot, path.join(base, f.name), 'compose folder'), { recursive: true, force: true });
      } finally {
        clearInterval(ticker);
      }
    }
  }
  return {
    ...t,
    keep: site.compose.keep,
    dryRun,
    kept: plan.kept.map((k) => ({ name: k.name, reasons: k.reasons })),
    removed: plan.removed.map((f) => f.name),
    bytesFreed: freed.bytes,
    filesFreed: freed.files,
    filesStillLinked: freed.sharedFiles,
  };
}

export function createRetentionActivities(deps: ReleaseDeps) {
  return {
    /** The request checked against the worker's catalogue; bad input fails for good, naming the value. */
    async resolvePruneTargets(request: PruneRequest): Promise<PruneTargetsResult> {
      try {
        const targets = pruneTargets(deps.catalogue, deps.site, request ?? {});
        const hostTaskQueue = deps.site.temporal.hostTaskQueue;
        return { targets, dryRun: request?.dryRun === true, ...(hostTaskQueue ? { hostTaskQueue } : {}) };
      } catch (e) {
        if (e instanceof ConfigError) throw ApplicationFailure.create({ type: 'BadPruneRequest', nonRetryable: true, message: e.message });
        throw e;
      }
    },
    /** Removes (or with dryRun only reports) the composes of one SIG and release that retention does not keep. */
    async pruneComposes(input: PruneTarget & { dryRun: boolean }): Promise<PruneReport> {
      try {
        const [target] = pruneTargets(deps.catalogue, deps.site, { release: input.release, sig: input.sig });
        return await pruneComposeFolders(deps, target!, input.dryRun === true);
      } catch (e) {
        if (e instanceof ConfigError) throw ApplicationFailure.create({ type: 'BadPruneRequest', nonRetryable: true, message: e.message });
        throw e;
      }
    },
  };
}
