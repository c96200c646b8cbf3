// The compose folder and what goes into it besides packages: the folder itself (dated, or what `latest` points
// at), the per-run dnf config, the SIG keys (fetched once, imported into a private rpm root), the extra files
// and the manifest. Each activity is idempotent: after a crash at any point, running it again converges.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { composeDir as datedComposeDir, composeLayout, latestLink, type ComposeLayout, type Roots } from '../src/paths.js';
import { renderDnfConfig } from '../src/compose/dnfConfig.js';
import { fetchSmallFile, urlBasename, writeFileAtomic } from '../src/compose/files.js';
import { buildComposeManifest, type ComposeManifestInput } from '../src/compose/report.js';
import type { ComposePlan } from '../src/compose/types.js';
import { classifyToolExit, describeToolFailure, RPM_EXITS } from '../src/tools/exit-codes.js';
import { runTool, tailLines } from '../src/tools/run.js';
import { DNF_ENV, dnfDirs, fetchFailure, keysDir, refuseDryRun } from './composeCommon.js';

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
    const r = await runTool('rpm', ['--root', rpmRoot, '--import', ...keyFiles], { env: DNF_ENV });
    const failed = classifyToolExit(RPM_EXITS, r);
    if (failed) {
      throw ApplicationFailure.create({
        type: failed.retryable ? failed.type : 'GpgKeyImportFailed',
        nonRetryable: !failed.retryable,
        message: describeToolFailure(failed, r, `rpm --root ${rpmRoot} --import of ${plan.gpgKeys.join(' ')}`, tailLines(`${r.stdout}\n${r.stderr}`)),
      });
    }
  }
  return prepared;
}

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

export type WriteComposeManifestInput = ComposeManifestInput;

/** Writes `work/manifest-<stamp>.json` atomically; returns its path. */
export async function writeComposeManifest(input: WriteComposeManifestInput): Promise<string> {
  refuseDryRun(input.plan, 'writeComposeManifest');
  const layout = composeLayout(input.composeDir, input.plan.release, input.plan.sig, input.plan.stamp);
  const manifest = buildComposeManifest(input);
  await writeFileAtomic(layout.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return layout.manifest;
}
