// The publish and file-list activities take the paths in their input as a claim, never as an order. A workflow
// input is a request: a run started by hand (or a workflow of a client's own on our queue) could name any folder,
// and rsync --delete into the staging root itself, or into /etc, would follow. So each path handed in must be the
// one the worker's own site config and catalogue give for some release and SIG (the same release and SIG on both
// sides of a sync), and must reach its root through no symlink. The activity then works on the checked real path.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Catalogue } from '../config/load.js';
import { fileListLevelDir, FILE_LIST_LEVELS } from '../filelists/levels.js';
import { productionCategory, productionReleaseDir, stagingCategory, type Roots } from '../paths.js';
import { confinedPath, OutsideRootsError, resolveInside } from '../roots.js';

export interface SigRelease {
  release: string;
  sig: string;
}

const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
};

/** Doubled and trailing slashes are spelling, not meaning; anything else (`..`, `.`) must match as written. */
const normal = (p: string) => p.replace(/\/{2,}/g, '/').replace(/(.)\/+$/, '$1');

function refuse(what: string, value: unknown, expected: string): never {
  throw new OutsideRootsError(`${what} ${show(value)} is not ${expected}; paths come from the site config, never from a request`);
}

function requireAbsolute(what: string, value: unknown): string {
  if (typeof value !== 'string' || !path.isAbsolute(value) || value.includes('\0')) refuse(what, value, 'an absolute path');
  return normal(value);
}

/** The release and SIG of `<category>/<release>/<sig>` when the catalogue has that SIG in that release. */
export function sigDirIn(category: string, p: string, catalogue: Catalogue): SigRelease | null {
  const prefix = `${normal(category)}/`;
  if (!p.startsWith(prefix)) return null;
  const [release, sig, ...rest] = p.slice(prefix.length).split('/');
  if (!release || !sig || rest.length > 0) return null;
  return catalogue[sig]?.releases[release] ? { release, sig } : null;
}

/** `<composeRoot>/<rel>/<SIG-sig-… | latest-SIG-sig-rel>/compose/<rel>/<sig>`, the tree a staging sync mirrors. */
export function composeSigTreeOf(composeRoot: string, p: string, catalogue: Catalogue): SigRelease | null {
  const prefix = `${normal(composeRoot)}/`;
  if (!p.startsWith(prefix)) return null;
  const [release, folder, compose, release2, sig, ...rest] = p.slice(prefix.length).split('/');
  if (!release || !folder || !sig || compose !== 'compose' || release2 !== release || rest.length > 0) return null;
  if (!catalogue[sig]?.releases[release]) return null;
  const ours = folder.startsWith(`SIG-${sig}-`) || folder === `latest-SIG-${sig}-${release}`;
  return ours ? { release, sig } : null;
}

const sigDirShape = (category: string) => `${category}/<release>/<sig> for a release and SIG of the worker's catalogue`;

/** A staging or production SIG folder as the site gives it; returns the real path (no symlink below the root). */
async function sigDir(root: string, category: string, what: string, value: unknown, catalogue: Catalogue, want?: SigRelease): Promise<{ real: string; id: SigRelease }> {
  const p = requireAbsolute(what, value);
  const id = sigDirIn(category, p, catalogue);
  if (!id) refuse(what, value, sigDirShape(category));
  if (want && (id.release !== want.release || id.sig !== want.sig)) refuse(what, value, `the folder of ${want.sig} ${want.release} (the source's release and SIG)`);
  return { real: await confinedPath(root, p, what), id };
}

/** A report or scratch file of a run: inside the compose root, reached through no symlink. */
export async function trustedReportFile(roots: Roots, value: unknown, what: string): Promise<string> {
  const p = requireAbsolute(what, value);
  if (!p.startsWith(`${normal(roots.composeRoot)}/`)) refuse(what, value, `a file under the compose root ${roots.composeRoot}`);
  return confinedPath(roots.composeRoot, p, what);
}

/** Compose tree → staging: the source resolves (links followed) to a compose of that SIG, the target is its staging folder. */
export async function trustedStagingSync(roots: Roots, catalogue: Catalogue, input: { source: unknown; target: unknown }) {
  const source = requireAbsolute('staging sync source', input.source);
  const id = composeSigTreeOf(roots.composeRoot, source, catalogue);
  if (!id) refuse('staging sync source', input.source, `a compose tree ${roots.composeRoot}/<release>/SIG-<sig>-…/compose/<release>/<sig>`);
  // `latest` is a link by design: follow it, and the compose it names must still be one of this SIG in this root.
  const real = await resolveInside(roots.composeRoot, source, 'staging sync source');
  const realId = composeSigTreeOf(await fs.realpath(roots.composeRoot), real, catalogue);
  if (!realId || realId.sig !== id.sig || realId.release !== id.release) refuse('staging sync source', input.source, `a compose of ${id.sig} ${id.release} (it resolves to ${real})`);
  const target = await sigDir(roots.stagingRoot, stagingCategory(roots), 'staging sync target', input.target, catalogue, id);
  return { source: real, target: target.real, id };
}

/** Staging → production: both the SIG folders the site gives for one release and SIG. */
export async function trustedProductionSync(roots: Roots, catalogue: Catalogue, input: { source: unknown; target: unknown }) {
  const source = await sigDir(roots.stagingRoot, stagingCategory(roots), 'production sync source', input.source, catalogue);
  const target = await sigDir(roots.productionRoot, productionCategory(roots), 'production sync target', input.target, catalogue, source.id);
  return { source: source.real, target: target.real, id: source.id };
}

/** The hardlink pass runs over one release folder of production (every SIG), nothing wider. */
export async function trustedHardlinkDir(roots: Roots, catalogue: Catalogue, value: unknown): Promise<string> {
  const p = requireAbsolute('hardlink dir', value);
  const releases = new Set(Object.values(catalogue).flatMap((s) => Object.keys(s.releases)));
  const release = [...releases].find((r) => normal(productionReleaseDir(roots, r)) === p);
  if (!release) refuse('hardlink dir', value, `${productionCategory(roots)}/<release> for a release of the worker's catalogue`);
  return confinedPath(roots.productionRoot, p, 'hardlink dir');
}

/** File lists are published at the production root and at its SIG category, nowhere else. */
export async function trustedFileListDir(roots: Roots, value: unknown): Promise<string> {
  const p = requireAbsolute('file-list dir', value);
  // The folders of the file-list levels (sig category, production root, rocky category), from the roots alone.
  const allowed = FILE_LIST_LEVELS.map((level) => normal(fileListLevelDir(level, roots).dir));
  if (!allowed.includes(p)) refuse('file-list dir', value, `one of ${allowed.join(', ')}`);
  return confinedPath(roots.productionRoot, p, 'file-list dir');
}
