// The `latest-SIG-<sig>-<rel>` flip: the one step that makes a compose what staging reads.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { latestLink, type Roots } from '../src/paths.js';

export interface FlipLatestSymlinkInput {
  roots: Roots;
  release: string;
  sig: string;
  composeDir: string;
}

/**
 * Points `latest-SIG-<sig>-<rel>` at the compose folder (absolute path) by renaming a new link over the old
 * one: the link exists at every instant (the seed removed it, then created it: seed §7 risk 2).
 */
export async function flipLatestSymlink({ roots, release, sig, composeDir }: FlipLatestSymlinkInput): Promise<{ previous: string | null; current: string }> {
  const current = path.resolve(composeDir);
  const st = await fs.stat(current).catch(() => null);
  if (!st?.isDirectory()) {
    throw ApplicationFailure.create({ type: 'ComposeDirMissing', nonRetryable: true, message: `cannot point latest-SIG-${sig}-${release} at ${current}: no such folder` });
  }
  const link = latestLink(roots, release, sig);
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
}
