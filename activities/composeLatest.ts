// The `latest-SIG-<sig>-<rel>` flip: the one step that makes a compose what staging reads.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { resolveSigRelease } from '../src/config/load.js';
import { PlanRefusedError, recheckRoots } from '../src/compose/trust.js';
import { composeBase, composeDirName, latestLink, type Roots } from '../src/paths.js';
import { confinedPath, resolveInside } from '../src/roots.js';
import { refusal, type ComposeDeps } from './composeCommon.js';

export interface FlipLatestSymlinkInput {
  /** Ignored when equal to the site's roots, refused otherwise. */
  roots?: Roots;
  release: string;
  sig: string;
  composeDir: string;
}

const STAMP = /^\d{8}\.\d{6}$/;

/**
 * The compose folder `latest` may point to: a dated compose of this SIG and release (`SIG-<sig>-<revision>-<stamp>`)
 * directly in `<composeRoot>/<rel>`, after symlinks; anything else is refused, naming it.
 */
async function checkComposeDir(deps: ComposeDeps, roots: Roots, input: FlipLatestSymlinkInput): Promise<string> {
  const { revision } = resolveSigRelease(deps.catalogue, deps.site, String(input.sig), String(input.release));
  const base = composeBase(roots, input.release);
  const name = path.basename(String(input.composeDir));
  const stamp = name.slice(composeDirName(input.sig, revision, '').length);
  if (path.resolve(String(input.composeDir)) !== path.join(base, name) || name !== composeDirName(input.sig, revision, stamp) || !STAMP.test(stamp)) {
    throw new PlanRefusedError(`compose folder ${JSON.stringify(input.composeDir)} is not a compose of ${input.sig} ${input.release} in ${base} (SIG-${input.sig}-${revision}-<stamp>); refused`);
  }
  await confinedPath(roots.composeRoot, input.composeDir, 'compose folder');
  const st = await fs.stat(input.composeDir).catch(() => null);
  if (!st?.isDirectory()) {
    throw ApplicationFailure.create({ type: 'ComposeDirMissing', nonRetryable: true, message: `cannot point latest-SIG-${input.sig}-${input.release} at ${input.composeDir}: no such folder` });
  }
  return resolveInside(roots.composeRoot, input.composeDir, 'compose folder');
}

export function createLatestActivities(deps: ComposeDeps) {
  return {
    /**
     * Points `latest-SIG-<sig>-<rel>` at the compose folder (absolute path) by renaming a new link over the old
     * one: the link exists at every instant (the seed removed it, then created it: seed §7 risk 2).
     */
    async flipLatestSymlink(input: FlipLatestSymlinkInput): Promise<{ previous: string | null; current: string }> {
      let current: string;
      let link: string;
      try {
        const roots = recheckRoots(input.roots, deps.site);
        current = await checkComposeDir(deps, roots, input);
        link = await confinedPath(roots.composeRoot, path.dirname(latestLink(roots, input.release, input.sig)), 'compose release folder').then((d) => path.join(d, path.basename(latestLink(roots, input.release, input.sig))));
      } catch (e) {
        throw refusal(e);
      }
      let previous: string | null = null;
      try {
        previous = await fs.readlink(link);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EINVAL') {
          throw ApplicationFailure.create({ type: 'LatestNotASymlink', nonRetryable: true, message: `${link} exists and is not a symlink; move it away before flipping latest` });
        }
        if (code !== 'ENOENT') throw e;
      }
      const tmp = `${link}.tmp-${randomBytes(6).toString('hex')}`;
      try {
        await fs.symlink(current, tmp);
        await fs.rename(tmp, link);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        throw e;
      }
      return { previous, current };
    },
  };
}
