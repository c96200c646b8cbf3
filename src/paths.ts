// Every path the pipeline reads or writes is built here, from the site roots and the release identity.
// Layout follows the seed (reference/seed-systems.md §5.2–5.4) so operators find things where they expect.
// No node:path here: workflow code builds paths too, and the workflow sandbox has no Node built-ins.
// Every segment is a validated name (config/schema.ts SAFE_NAME), so joining with "/" is all we need.

/** POSIX join: collapses repeated slashes, keeps a leading one. */
const path = {
  join: (...parts: string[]) => parts.filter((p) => p !== '').join('/').replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'),
};

export interface Roots {
  composeRoot: string;
  stagingRoot: string;
  productionRoot: string;
}

export type TaskKind = 'binary' | 'debug' | 'source';

/** `/mnt/compose/<rel>` */
export const composeBase = (r: Roots, release: string) => path.join(r.composeRoot, release);
/** `SIG-<sig>-<revision>-<stamp>`: the dated folder a full run creates. */
export const composeDirName = (sig: string, revision: string, stamp: string) => `SIG-${sig}-${revision}-${stamp}`;
export const composeDir = (r: Roots, release: string, sig: string, revision: string, stamp: string) =>
  path.join(composeBase(r, release), composeDirName(sig, revision, stamp));
/** `latest-SIG-<sig>-<rel>`: the symlink staging reads from. */
export const latestLinkName = (sig: string, release: string) => `latest-SIG-${sig}-${release}`;
export const latestLink = (r: Roots, release: string, sig: string) => path.join(composeBase(r, release), latestLinkName(sig, release));

/** Paths inside one compose folder (dated folder, or what `latest` resolves to for in-place runs). */
export function composeLayout(dir: string, release: string, sig: string, stamp: string) {
  const work = path.join(dir, 'work');
  return {
    dir,
    syncRoot: path.join(dir, 'compose'),
    /** `<dir>/compose/<rel>/<sig>`: what staging mirrors. */
    sigRoot: path.join(dir, 'compose', release, sig),
    metadataDir: path.join(dir, 'compose', release, sig, 'metadata'),
    work,
    entries: path.join(work, 'entries'),
    logs: path.join(work, 'logs', stamp),
    globalExtraFiles: path.join(work, 'global', 'extra-files'),
    /** Per-run dnf config, cache and private rpmdb: nothing shared with another run (seed §7 risk 6). */
    dnf: path.join(work, 'dnf', stamp),
    manifest: path.join(work, `manifest-${stamp}.json`),
    previews: path.join(work, 'previews', stamp),
  };
}
export type ComposeLayout = ReturnType<typeof composeLayout>;

/** Where one reposync task writes, relative to the sig root: `<arch>/<repo>`, `<arch>/<repo>-debug`, `source/<repo>`. */
export function taskRelDir(repo: string, kind: TaskKind, arch: string): string {
  if (kind === 'source') return path.join('source', repo);
  return path.join(arch, kind === 'debug' ? `${repo}-debug` : repo);
}

/** `<stagingRoot>/mirror/pub/sig` and `<productionRoot>/mirror/pub/sig`: the sig category roots. */
export const stagingCategory = (r: Roots) => path.join(r.stagingRoot, 'mirror', 'pub', 'sig');
export const productionCategory = (r: Roots) => path.join(r.productionRoot, 'mirror', 'pub', 'sig');
export const stagingSigDir = (r: Roots, release: string, sig: string) => path.join(stagingCategory(r), release, sig);
export const productionSigDir = (r: Roots, release: string, sig: string) => path.join(productionCategory(r), release, sig);
/** The hardlink pass covers a whole release, every SIG (as the seed's prod script does). */
export const productionReleaseDir = (r: Roots, release: string) => path.join(productionCategory(r), release);

/** Compose stamp as the seed writes it (`%Y%m%d.%H%M%S`), from a workflow-time instant, in UTC. */
export function composeStamp(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}.${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
