// Every path an activity touches must lie inside one of the worker's own roots, after symlinks are resolved:
// a `../` climb, an absolute path, or a symlink planted under a root that points out are refused before anything
// is written. The roots themselves come from the site config (they may be symlinks, e.g. to a mount).
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A path outside the roots (or through a symlink under them); the message names the refused value. */
export class OutsideRootsError extends Error {
  override name = 'OutsideRootsError';
}

const climbsOut = (rel: string) => rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);

async function realRoot(root: string, what: string): Promise<string> {
  try {
    return await fs.realpath(root);
  } catch (e) {
    throw new OutsideRootsError(`${what}: the root ${root} does not exist (${(e as NodeJS.ErrnoException).code}); check the site config and the mount`);
  }
}

/**
 * `p` rewritten onto the real root, when it lies under `root` and no existing component below the root is a
 * symlink (a planted link would redirect the write). Components that do not exist yet are fine: nothing can
 * redirect them. Creates nothing.
 */
export async function confinedPath(root: string, p: string, what: string): Promise<string> {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  if (rel === '' && !p.includes('\0')) return realRoot(root, what);
  if (climbsOut(rel) || p.includes('\0')) {
    throw new OutsideRootsError(`${what} ${JSON.stringify(p)} is outside the root ${root}; refused`);
  }
  const base = await realRoot(root, what);
  let cur = base;
  for (const seg of rel.split(path.sep)) {
    cur = path.join(cur, seg);
    const st = await fs.lstat(cur).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (!st) break;
    if (st.isSymbolicLink()) {
      const to = await fs.readlink(cur).catch(() => '?');
      throw new OutsideRootsError(`${what} ${JSON.stringify(p)} goes through the symlink ${cur} (→ ${to}) under the root ${root}; refused: remove the link`);
    }
  }
  return path.join(base, rel);
}

/** Creates `p` (and its parents) as folders after confining it; returns the real path. */
export async function mkdirConfined(root: string, p: string, what: string): Promise<string> {
  const real = await confinedPath(root, p, what);
  await fs.mkdir(real, { recursive: true });
  // A link planted between the check and the mkdir would show here.
  const after = await fs.realpath(real);
  if (after !== real) throw new OutsideRootsError(`${what} ${JSON.stringify(p)} resolved to ${after} after it was created; refused`);
  return real;
}

/** The real path of an existing `p` (symlinks followed, e.g. `latest`), refused unless it resolves inside `root`. */
export async function resolveInside(root: string, p: string, what: string): Promise<string> {
  const base = await realRoot(root, what);
  const real = await fs.realpath(p);
  const rel = path.relative(base, real);
  if (rel === '' || climbsOut(rel)) {
    throw new OutsideRootsError(`${what} ${JSON.stringify(p)} resolves to ${real}, outside the root ${root}; refused`);
  }
  return real;
}
