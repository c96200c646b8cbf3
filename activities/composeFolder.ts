// The compose folder and what goes into it besides packages: the run's own dated folder (in-place runs too: seeded
// from `latest` by hard links, so `latest` is never written before the new folder verifies), the per-run dnf
// config, the SIG keys (fetched once, imported into a private rpm root), the extra files and the manifest.
// Every path comes from the worker's site config and a plan re-derived from its catalogue (composeCommon.ts);
// every write is confined to the compose root. Each activity is idempotent: after a crash, running it again
// converges.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { composeLayout, latestLink, type ComposeLayout, type Roots } from '../src/paths.js';
import { keysDigest, sha256Hex, type PreviousCompose } from '../src/compose/carryOver.js';
import { parseComposeFolder } from '../src/retention/plan.js';
import { renderDnfConfig } from '../src/compose/dnfConfig.js';
import { fetchSmallFile, urlBasename, writeFileAtomic } from '../src/compose/files.js';
import { buildComposeManifest, type ComposeManifestInput } from '../src/compose/report.js';
import { linkTree } from '../src/compose/seed.js';
import { parseRepomdRevision } from '../src/compose/repodata.js';
import type { SourceMetadata } from '../src/compose/staleness.js';
import type { ComposePlan } from '../src/compose/types.js';
import { confinedPath, mkdirConfined, resolveInside } from '../src/roots.js';
import { classifyToolExit, describeToolFailure, RPM_EXITS } from '../src/tools/exit-codes.js';
import { runTool, tailLines } from '../src/tools/run.js';
import { DNF_ENV, dnfDirs, fetchFailure, keysDir, refusal, refuseDryRun, trustCompose, type ComposeDeps, type TrustedCompose } from './composeCommon.js';

export interface PrepareComposeInput {
  plan: ComposePlan;
  /** Ignored when equal to the site's roots, refused otherwise (runs started before roots left the input carry them). */
  roots?: Roots;
}

export interface PreparedCompose {
  composeDir: string;
  layout: ComposeLayout;
  dnfConfigPath: string;
  /** Private rpm root with the SIG keys imported, when signatures are checked. */
  rpmRoot: string | null;
  /** The compose `latest` pointed to, which this one is seeded from; null when there was none. */
  seededFrom?: string | null;
  /** Non-fatal remarks (a seed across file systems, say). */
  warnings?: string[];
}

export interface DeployExtraFilesInput {
  plan: ComposePlan;
  composeDir?: string;
}

export type WriteComposeManifestInput = ComposeManifestInput;

/** Where prepareCompose records what it seeded from, for the tasks (never a request's word). */
export const seedRecord = (layout: ComposeLayout) => path.join(layout.dnf, 'seeded-from.json');

/** The compose this one was seeded from (prepareCompose's record, never a request's word); null when none. */
export async function seededFromCompose(t: TrustedCompose): Promise<{ dir: string; layout: ComposeLayout } | null> {
  const record = JSON.parse(await fs.readFile(seedRecord(t.layout), 'utf8').catch(() => '{}')) as { seededFrom?: string | null };
  if (!record.seededFrom) return null;
  const dir = await resolveInside(t.roots.composeRoot, record.seededFrom, 'seed compose').catch((e: unknown) => Promise.reject(refusal(e)));
  const folder = parseComposeFolder(path.basename(dir), t.plan.sig);
  if (!folder) return null;
  return { dir, layout: composeLayout(dir, t.plan.release, t.plan.sig, folder.stamp) };
}

/** The seed compose's manifest, as carrying a task over reads it; null when missing or unreadable. */
export async function previousManifest(layout: ComposeLayout): Promise<PreviousCompose | null> {
  try {
    const m = JSON.parse(await fs.readFile(layout.manifest, 'utf8')) as Record<string, unknown>;
    const verification = m.verification as { ok?: unknown } | undefined;
    if (typeof m.composeId !== 'string' || !Array.isArray(m.tasks) || typeof m.effective !== 'object' || m.effective === null) return null;
    return {
      composeId: m.composeId,
      verified: verification?.ok === true,
      effective: m.effective as PreviousCompose['effective'],
      keysSha256: typeof m.keysSha256 === 'string' ? m.keysSha256 : null,
      tasks: m.tasks as PreviousCompose['tasks'],
      sourceMetadata: Array.isArray(m.sourceMetadata) ? (m.sourceMetadata as PreviousCompose['sourceMetadata']) : undefined,
    };
  } catch {
    return null;
  }
}

/** Digest of the SIG keys this run fetched (prepareCompose put them in the run's key folder). */
export async function runKeysDigest(t: TrustedCompose): Promise<string> {
  const keys = [];
  for (const url of t.plan.gpgKeys) {
    const name = urlBasename(url);
    keys.push({ name, content: await fs.readFile(path.join(keysDir(t.layout), name)).catch(() => new Uint8Array()) });
  }
  return keysDigest(keys);
}

/** What `latest` points to now, confined to the compose root; null when there is none (or it dangles). */
async function currentLatest(roots: Roots, plan: ComposePlan): Promise<string | null> {
  const link = latestLink(roots, plan.release, plan.sig);
  const st = await fs.lstat(link).catch(() => null);
  if (!st) return null;
  if (!st.isSymbolicLink()) {
    throw ApplicationFailure.create({ type: 'LatestNotASymlink', nonRetryable: true, message: `${link} exists and is not a symlink; move it away` });
  }
  const real = await resolveInside(roots.composeRoot, link, `latest-SIG-${plan.sig}-${plan.release}`).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw refusal(e);
  });
  return real && (await fs.stat(real)).isDirectory() ? real : null;
}

/**
 * In place, the new folder starts as a copy of latest's SIG tree made of hard links, except the folders this run's
 * tasks sync: each task seeds its own folder against upstream's metadata (composeReposync.ts), because dnf rewrites
 * a package in place when upstream changed it under the same name.
 */
async function seedFromLatest(t: TrustedCompose, latest: string, warnings: string[]): Promise<void> {
  const from = path.join(latest, 'compose', t.plan.release, t.plan.sig);
  const taskDirs = new Set(t.plan.batches.flat().map((task) => task.relDir));
  const report = await linkTree(from, t.layout.sigRoot, () => true, (rel) => taskDirs.has(rel.split(path.sep).join('/')));
  if (report.crossDevice) warnings.push(`${latest} is on another file system than ${t.composeDir}: nothing seeded by hard links; every package is downloaded again`);
}

async function importKeys(t: TrustedCompose, keyFiles: string[]): Promise<void> {
  if (!t.rpmRoot || keyFiles.length === 0) return;
  await mkdirConfined(t.roots.composeRoot, t.rpmRoot, 'rpm root');
  const r = await runTool('rpm', ['--root', t.rpmRoot, '--import', ...keyFiles], { env: DNF_ENV });
  const failed = classifyToolExit(RPM_EXITS, r);
  if (failed) {
    throw ApplicationFailure.create({
      type: failed.retryable ? failed.type : 'GpgKeyImportFailed',
      nonRetryable: !failed.retryable,
      message: describeToolFailure(failed, r, `rpm --root ${t.rpmRoot} --import of ${t.plan.gpgKeys.join(' ')}`, tailLines(`${r.stdout}\n${r.stderr}`)),
    });
  }
}

/**
 * What each synced folder's repodata/repomd.xml (upstream's, as dnf fetched it) says of its revision and time, its
 * checksum (what the next compose compares upstream's with, to carry the folder over) and, for a folder carried
 * over, the compose it came from.
 */
async function sourceMetadataOf(t: TrustedCompose, tasks: WriteComposeManifestInput['tasks']): Promise<SourceMetadata[]> {
  const out: SourceMetadata[] = [];
  for (const task of t.plan.batches.flat()) {
    const bytes = await fs.readFile(path.join(t.layout.sigRoot, task.relDir, 'repodata', 'repomd.xml')).catch(() => null);
    let meta: { revision: string | null; timestamp: number | null } = { revision: null, timestamp: null };
    try {
      if (bytes !== null) meta = parseRepomdRevision(bytes.toString('utf8'));
    } catch {
      /* unreadable metadata was verification's business; here it is only "unknown" */
    }
    const carriedOverFrom = tasks.find((r) => r.name === task.name)?.carriedOverFrom;
    out.push({ relDir: task.relDir, ...meta, repomdSha256: bytes ? sha256Hex(bytes) : null, ...(carriedOverFrom ? { carriedOverFrom } : {}) });
  }
  return out;
}

export function createComposeFolderActivities(deps: ComposeDeps) {
  return {
    /**
     * Creates the run's dated compose folder (a full run from nothing; an in-place run seeded from what `latest`
     * points to, which must exist), writes the per-run dnf config, fetches the SIG keys and imports them into a
     * private rpm root. A dry run writes nothing and returns the would-be paths.
     */
    async prepareCompose(input: PrepareComposeInput): Promise<PreparedCompose> {
      const t = trustCompose(deps, input);
      const { plan, layout } = t;
      const latest = await currentLatest(t.roots, plan);
      if (!plan.fullRun && !latest) {
        throw ApplicationFailure.create({
          type: 'NoLatestCompose',
          nonRetryable: true,
          message: `no compose to update in place at ${latestLink(t.roots, plan.release, plan.sig)} (missing or dangling); run with --full-run first`,
        });
      }
      if (latest === t.composeDir) {
        // Two runs in one second share a stamp; writing into what latest points to is what this design forbids.
        throw ApplicationFailure.create({
          type: 'ComposeStampTaken',
          nonRetryable: true,
          message: `compose ${plan.composeId} would be built in ${t.composeDir}, which latest-SIG-${plan.sig}-${plan.release} points to; start the run again (a new second gives a new folder)`,
        });
      }
      const seededFrom = latest;
      const warnings: string[] = [];
      const prepared: PreparedCompose = { composeDir: t.composeDir, layout, dnfConfigPath: t.dnfConfigPath, rpmRoot: t.rpmRoot, seededFrom, warnings };
      if (plan.dryRun) return prepared;
      try {
        // Seed §2 stage 1 step 4 / §8 scenario 13: compose/, work/entries/, work/logs/<stamp>/; mkdir -p is idempotent.
        for (const d of [layout.syncRoot, layout.sigRoot, layout.entries, layout.logs, layout.dnf]) await mkdirConfined(t.roots.composeRoot, d, 'compose folder');
        await writeFileAtomic(seedRecord(layout), JSON.stringify({ seededFrom }) + '\n');
        if (seededFrom && !plan.fullRun) await seedFromLatest(t, seededFrom, warnings);

        // Keys are fetched once per run: tasks place them next to each repo and dnf reads them from disk, so no
        // task depends on the key host (seed §7 risk 8).
        const keyFiles: string[] = [];
        for (const url of plan.gpgKeys) {
          const file = await confinedPath(t.roots.composeRoot, path.join(keysDir(layout), urlBasename(url)), 'GPG key file');
          try {
            const got = await fetchSmallFile(url, { signal: Context.current().cancellationSignal });
            await writeFileAtomic(file, got.body, got.lastModified ?? undefined);
          } catch (e) {
            throw fetchFailure('GpgKeyFetchFailed', `cannot fetch the GPG key for ${plan.sig} ${plan.release}`, e);
          }
          keyFiles.push(file);
        }
        const config = renderDnfConfig(plan, dnfDirs(layout.dnf), keyFiles.map((f) => pathToFileURL(f).href));
        await writeFileAtomic(await confinedPath(t.roots.composeRoot, t.dnfConfigPath, 'dnf config'), config);
        await importKeys(t, keyFiles);
      } catch (e) {
        throw refusal(e);
      }
      return prepared;
    },

    /**
     * Fetches each extra file over HTTP into `<sig>/metadata/` and `work/global/extra-files/`, atomically. Replaces
     * the seed's `git clone … /tmp/clone`, whose failure was ignored and whose folder was shared (seed §2 stage 1
     * step 9, §7 risk 6); a failed fetch fails the activity.
     */
    async deployExtraFiles(input: DeployExtraFilesInput): Promise<{ files: string[] }> {
      const t = trustCompose(deps, input);
      const { plan, layout } = t;
      refuseDryRun(plan, 'deployExtraFiles');
      if (!plan.extraFiles) return { files: [] };
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
          await writeFileAtomic(await confinedPath(t.roots.composeRoot, target, 'extra file').catch((e: unknown) => Promise.reject(refusal(e))), got.body, got.lastModified ?? undefined);
          written.push(target);
        }
      }
      return { files: written };
    },

    /** Writes `work/manifest-<stamp>.json` atomically; returns its path. */
    async writeComposeManifest(input: WriteComposeManifestInput): Promise<string> {
      const t = trustCompose(deps, input);
      refuseDryRun(t.plan, 'writeComposeManifest');
      const manifest = { ...buildComposeManifest({ ...input, plan: t.plan, composeDir: t.composeDir }, await sourceMetadataOf(t, input.tasks)), keysSha256: await runKeysDigest(t) };
      await writeFileAtomic(await confinedPath(t.roots.composeRoot, t.layout.manifest, 'compose manifest').catch((e: unknown) => Promise.reject(refusal(e))), JSON.stringify(manifest, null, 2) + '\n');
      return t.layout.manifest;
    },
  };
}
