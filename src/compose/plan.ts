// Compose planning: release request + catalogue entry + site config → the ordered reposync batches.
// Pure: no I/O, no clock. Every `sync-sig` flag of reference/seed-systems.md §3 is decided here, so the
// activities only carry the plan out. Where we change the seed's behaviour the comment says so.
import path from 'node:path';
import type { Arch, ReleaseRequest, SiteConfig } from '../config/schema.js';
import { ConfigError, rewriteUrl, type ResolvedSigRelease } from '../config/load.js';
import { taskRelDir, type TaskKind } from '../paths.js';
import type { ComposeOptions, ComposePlan, ReposyncTask } from './types.js';
import { urlBasename } from './files.js';

const STAMP = /^\d{8}\.\d{6}$/;

/** The yumrepofs URL of one task (seed §5.1): `<base>/<project>/repo/[hashed-]<repo>/{<arch>|<arch>-debug|src}`. */
export function yumrepofsUrl(repoBaseUrl: string, projectId: string, repo: string, hashed: boolean, kind: TaskKind, arch: string): string {
  const base = repoBaseUrl.replace(/\/+$/, '');
  const segment = hashed ? `hashed-${repo}` : repo;
  const leaf = kind === 'source' ? 'src' : kind === 'debug' ? `${arch}-debug` : arch;
  return `${base}/${projectId}/repo/${segment}/${leaf}`;
}

/** Task identity exactly as the seed names it (seed §8 scenario 9): names, repo ids, logs, folders. */
export function describeTask(repo: string, kind: TaskKind, arch: Arch | 'source'): Pick<ReposyncTask, 'name' | 'repoId' | 'logName' | 'relDir'> {
  switch (kind) {
    case 'binary':
      return { name: `${repo}-${arch}`, repoId: repo, logName: `${repo}-${arch}.log`, relDir: taskRelDir(repo, kind, arch) };
    case 'debug':
      return { name: `${repo}-debug-${arch}`, repoId: `${repo}-debug`, logName: `${repo}-${arch}-debug.log`, relDir: taskRelDir(repo, kind, arch) };
    case 'source':
      return { name: `${repo}-source`, repoId: `${repo}-source`, logName: `${repo}-source.log`, relDir: taskRelDir(repo, kind, arch) };
  }
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** `--repo`: validated always (a typo is an error even where the seed only logged it), ignored on a full run. */
function selectRepos(request: ReleaseRequest, known: string[], where: string, warnings: string[]): string[] {
  const asked = request.repos && request.repos.length > 0 ? unique(request.repos) : null;
  if (!asked) return known;
  const unknown = asked.filter((r) => !known.includes(r));
  if (unknown.length > 0) {
    const list = unknown.map((r) => JSON.stringify(r)).join(', ');
    throw new ConfigError(`unknown repo ${list} for ${where}; known: ${known.join(', ')}`);
  }
  if (request.fullRun) {
    // Seed §2 stage 1 step 4: a full run builds a whole new compose, so it syncs every repo.
    warnings.push(`--repo ${asked.join(',')} is ignored on a full run: a full run syncs every repo (${known.join(', ')})`);
    return known;
  }
  // Config order, not the order typed: batches always run in catalogue order (seed §8 scenario 5).
  return known.filter((r) => asked.includes(r));
}

/**
 * Builds the compose plan. Throws `ConfigError` for anything that cannot run: unknown repo, an arch no
 * selected repo allows, nothing left to sync, gpg checking without keys, clashing task names.
 */
export function planCompose(request: ReleaseRequest, resolved: ResolvedSigRelease, site: SiteConfig, stamp: string): ComposePlan {
  const { sigFile, entry, revision } = resolved;
  const { release, sig } = request;
  const where = `${sig} ${release}`;
  if (sigFile.sig !== sig) throw new ConfigError(`the resolved catalogue entry is for SIG "${sigFile.sig}", not "${sig}"`);
  if (!STAMP.test(stamp)) throw new ConfigError(`compose stamp ${JSON.stringify(stamp)} must look like 20260217.101500 (%Y%m%d.%H%M%S)`);
  if (request.fullRun && request.dryRun) {
    throw new ConfigError('--full-run and --dry-run cannot be combined (a dry run never creates a compose)');
  }

  const warnings: string[] = [];
  const knownRepos = Object.keys(entry.repos);
  const repos = selectRepos(request, knownRepos, where, warnings);

  // `--arch`: a filter over each repo's allowed arches (the seed replaced the list without checking it,
  // seed §3 and §7 item 7). `source` in the list is the source task.
  const askedArches = request.arches && request.arches.length > 0 ? unique(request.arches) : null;
  const archFilter = askedArches ? askedArches.filter((a): a is Arch => a !== 'source') : null;
  if (archFilter) {
    const allowed = unique(repos.flatMap((r) => entry.repos[r]?.arches ?? []));
    const refused = archFilter.filter((a) => !allowed.includes(a));
    if (refused.length > 0) {
      throw new ConfigError(
        `arch ${refused.map((a) => JSON.stringify(a)).join(', ')} is not allowed for ${where} (repos ${repos.join(', ')}); allowed: ${allowed.join(', ')}`,
      );
    }
  }
  // Sources are arch-independent and are what a binary update must ship with, so `--arch x86_64` no longer
  // drops them silently as the seed did (seed §2 stage 1 step 7); `--ignore-source` is the one way to skip them.
  const withSource = !request.ignoreSource;
  if (askedArches && !askedArches.includes('source') && withSource) {
    warnings.push('--arch does not skip the source repos (sync-sig did): they are synced too; pass --ignore-source to skip them');
  }

  const batches: ReposyncTask[][] = [];
  for (const repo of repos) {
    const repoEntry = entry.repos[repo];
    if (!repoEntry) continue;
    const projectId = repoEntry.projectId ?? entry.projectId;
    const arches = archFilter ? repoEntry.arches.filter((a) => archFilter.includes(a)) : repoEntry.arches;
    if (archFilter) {
      const notHere = archFilter.filter((a) => !repoEntry.arches.includes(a));
      if (notHere.length > 0) warnings.push(`${repo} does not allow ${notHere.join(', ')}; skipped for that repo (allowed: ${repoEntry.arches.join(', ')})`);
    }
    const task = (kind: TaskKind, arch: Arch | 'source'): ReposyncTask => {
      const id = describeTask(repo, kind, arch);
      return { ...id, repo, kind, arch, section: id.name, baseUrl: yumrepofsUrl(site.repoBaseUrl, projectId, repo, request.hashed, kind, arch) };
    };
    // Seed loop order: per arch the binary then the debug task, then the one source task (seed §2 stage 1 step 7).
    const batch: ReposyncTask[] = [];
    for (const arch of arches) {
      batch.push(task('binary', arch));
      if (!request.ignoreDebug) batch.push(task('debug', arch));
    }
    if (withSource) batch.push(task('source', 'source'));
    if (batch.length > 0) batches.push(batch);
  }
  if (batches.length === 0) {
    throw new ConfigError(`nothing to sync for ${where}: the --repo/--arch/--ignore-* flags leave no reposync task`);
  }
  assertDistinct(batches.flat(), where);

  const gpgCheck = site.compose.gpgCheck && !request.disableGpgCheck;
  const repoGpgCheck = site.compose.repoGpgCheck && !request.disableRepoGpgCheck;
  const gpgKeys = checkedGpgKeys(entry.gpgKeys, site, where, sig, gpgCheck || repoGpgCheck);

  const extraFiles = entry.extraFiles ? { baseUrl: rewriteUrl(site, entry.extraFiles.baseUrl), files: [...entry.extraFiles.files] } : null;
  if (request.fullRun && request.refreshExtraFiles) warnings.push('--refresh-extra-files has no effect on a full run: a full run always deploys the extra files');
  if (request.refreshExtraFiles && !extraFiles) warnings.push(`--refresh-extra-files: ${where} lists no extraFiles; nothing to deploy`);

  const options: ComposeOptions = {
    repos: request.repos ? [...request.repos] : null,
    arches: request.arches ? [...request.arches] : null,
    ignoreDebug: request.ignoreDebug,
    ignoreSource: request.ignoreSource,
    hashed: request.hashed,
    cleanOldPackages: request.cleanOldPackages,
    fullRun: request.fullRun,
    dryRun: request.dryRun,
    refreshExtraFiles: request.refreshExtraFiles,
    repoclosure: request.repoclosure,
    disableGpgCheck: request.disableGpgCheck,
    disableRepoGpgCheck: request.disableRepoGpgCheck,
    requestedBy: request.requestedBy ?? null,
  };

  return {
    release,
    sig,
    revision,
    stamp,
    composeId: `${sig}-${release}-${stamp}`,
    fullRun: request.fullRun,
    dryRun: request.dryRun,
    cleanOldPackages: request.cleanOldPackages,
    hashed: request.hashed,
    gpgCheck,
    repoGpgCheck,
    deployExtraFiles: extraFiles !== null && (request.fullRun || request.refreshExtraFiles),
    gpgKeys,
    extraFiles,
    batches,
    parallelism: site.compose.parallelism,
    repoclosure: site.compose.repoclosure || request.repoclosure,
    repoclosureLookaside: site.compose.repoclosureLookaside.map((r) => ({ ...r })),
    warnings,
    options,
  };
}

/** Repo names like `foo` and `foo-debug` would give two tasks the same name and folder: refuse that plan. */
function assertDistinct(tasks: ReposyncTask[], where: string): void {
  for (const key of ['name', 'relDir', 'logName'] as const) {
    const seen = new Map<string, ReposyncTask>();
    for (const t of tasks) {
      const other = seen.get(t[key]);
      if (other !== undefined) {
        throw new ConfigError(
          `${where}: the ${other.kind} task of repo ${other.repo} and the ${t.kind} task of repo ${t.repo} would share the ${key} ${JSON.stringify(t[key])}; rename one of the repos`,
        );
      }
      seen.set(t[key], t);
    }
  }
}

/** Every task of the plan, batch after batch. */
export const planTasks = (plan: Pick<ComposePlan, 'batches'>): ReposyncTask[] => plan.batches.flat();

/** The SIG's key URLs as the site rewrites them: present when signatures are checked, and one file name each. */
function checkedGpgKeys(urls: readonly string[], site: SiteConfig, where: string, sig: string, checking: boolean): string[] {
  const gpgKeys = urls.map((u) => rewriteUrl(site, u));
  if (checking && gpgKeys.length === 0) {
    throw new ConfigError(
      `${where} has no gpgKeys but GPG checking is on; add gpgKeys to config/sigs/${sig}.yaml or pass --disable-gpg-check --disable-repo-gpg-check`,
    );
  }
  const keyNames = gpgKeys.map((u) => {
    try {
      return urlBasename(u);
    } catch (e) {
      throw new ConfigError(`${where}: gpgKeys: ${(e as Error).message}`);
    }
  });
  if (new Set(keyNames).size !== keyNames.length) {
    throw new ConfigError(`${where}: two gpgKeys share a file name (${keyNames.join(', ')}); each key is placed in the repo folder by name`);
  }
  return gpgKeys;
}
