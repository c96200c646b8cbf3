// The vault copy (seed `vault-sig.sh`, reference/seed-systems.md stage 6): production `sig/<rel>/` into
// `vault/sig/<x.y>/` beside it, never deleting in the vault. Kept from the seed: no --delete, ownership as the
// site configures. Changed: files the vault shares with production are hard links (--link-dest) instead of a
// second copy, and the copy happens only after a person approved the preview. Pure.
import { buildRsyncArgs, withTrailingSlash } from '../publish/rsync-args.js';
import type { Owner } from '../publish/types.js';
import type { Roots } from '../paths.js';

const join = (...parts: string[]) => parts.join('/').replace(/\/{2,}/g, '/');

/** `<productionRoot>/mirror/vault/sig/<revision>`: where the seed's vault-sig.sh writes. */
export const vaultSigDir = (roots: Pick<Roots, 'productionRoot'>, revision: string) => join(roots.productionRoot, 'mirror', 'vault', 'sig', revision);

/** The dry run the gate shows: what the vault would gain (nothing is ever deleted there, so no --delete). */
export function vaultPreviewArgs(o: { source: string; target: string; owner: Owner | null }): string[] {
  return buildRsyncArgs({ ...o, dryRun: true, itemize: true });
}

/**
 * The copy itself: no deletion; what production and the vault share is hard-linked to production's file
 * (rsync links a file from --link-dest only when content, times, mode and owner match; a changed file is written
 * to a new inode, so production's copy is never touched).
 */
export function vaultCopyArgs(o: { source: string; target: string; owner: Owner | null }): string[] {
  const args = buildRsyncArgs({ ...o, stats: true });
  // --link-dest must come before the two path operands, which buildRsyncArgs puts last.
  return [...args.slice(0, -2), `--link-dest=${withTrailingSlash(o.source)}`, ...args.slice(-2)];
}
