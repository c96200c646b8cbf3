// The site's three roots: each exists, is a folder this user can write, and (once `sigrelease init-roots` has
// marked it) carries the marker that says which root it is.
import fs from 'node:fs';
import path from 'node:path';
import { parseRootMarker, ROOT_MARKER_FILE, rootMarkerPath, type RootKind } from '../config/roots.js';
import type { SiteConfig } from '../config/schema.js';
import { check, type Check } from './report.js';

const ROLES: RootKind[] = ['compose', 'staging', 'production'];
export const ROOT_MARKER = ROOT_MARKER_FILE;

/**
 * The one place the doctor reads a root marker, with the publish side's parser (src/config/roots.ts): null when
 * it says `role`, 'missing' when there is none (`sigrelease init-roots` has not run), else what is wrong.
 */
export function rootMarkerProblem(root: string, role: RootKind): null | 'missing' | string {
  let text: string;
  try {
    text = fs.readFileSync(rootMarkerPath(root), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : `its marker ${ROOT_MARKER_FILE} cannot be read (${code ?? String(e)})`;
  }
  const said = parseRootMarker(text);
  if (said === role) return null;
  return said
    ? `it is marked as the ${said} root, but the site config uses it as the ${role} root: are two roots mixed up in the site config?`
    : `its marker ${ROOT_MARKER_FILE} does not name a root (expected "${role}" on its first line)`;
}

export function checkRoots(site: Pick<SiteConfig, 'composeRoot' | 'stagingRoot' | 'productionRoot'>): Check[] {
  return ROLES.map((role) => checkRoot(role, site[`${role}Root`]));
}

function checkRoot(role: RootKind, root: string): Check {
  const what = `${role} root`;
  const key = `${role}Root`;
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return check('roots', what, 'fail', `${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: mount the share, or fix ${key} in the site config`);
  }
  if (!st.isDirectory()) return check('roots', what, 'fail', `${root} is not a folder: fix ${key} in the site config`);
  const notWritable = writeProblem(root);
  if (notWritable) return check('roots', what, 'fail', `${root} is not writable by this user (uid ${process.getuid?.() ?? '?'}): ${notWritable}`);
  const marker = rootMarkerProblem(root, role);
  // Activities refuse an unmarked root before writing (src/config/roots.ts), so a release would fail here.
  if (marker === 'missing') return check('roots', what, 'fail', `${root} is writable but has no ${ROOT_MARKER_FILE} marker, so releases refuse to write there: run \`sigrelease init-roots\` once on this host`);
  if (marker) return check('roots', what, 'fail', `${root}: ${marker}`);
  return check('roots', what, 'ok', `${root} is writable and marked as the ${role} root`);
}

/** Writes and removes a scratch file: permission bits alone do not tell about read-only mounts or root squash. */
function writeProblem(root: string): string | null {
  const probe = path.join(root, `.sigrelease-doctor-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.rmSync(probe, { force: true });
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}
