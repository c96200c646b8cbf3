// The fencing token of production writes (issue 12 item 7). The production lock numbers every grant; a holder's
// production-writing activities present that number, and the production root keeps the highest number that
// started writing. A write with a lower number comes from a holder whose turn ended (lease expired, forced out,
// lock restarted) after a later holder began: it is refused, so a late writer cannot overwrite the next one.
//
// The fence is a folder of empty files named by number, not one file rewritten: creating a name is atomic and
// the fence is the highest name, so two writers raising it at once can never lower it (a rewrite of one file
// could, last writer wins). Lower names are removed afterwards, only by a writer that made a higher one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isFenceToken } from '../../workflows/lockRequests.js';

/** Folder in the production root; file lists and syncs leave it alone (top-level, outside every SIG tree). */
export const FENCE_DIR = '.sigrelease-fence';
export const fencePath = (productionRoot: string) => path.join(productionRoot, FENCE_DIR);

export type FenceVerdict = 'raise' | 'current' | 'fenced-out';

/** What a write with `token` may do when the production root holds `stored` (null: no holder wrote yet). */
export function fenceVerdict(stored: number | null, token: number): FenceVerdict {
  if (stored === null || token > stored) return 'raise';
  return token === stored ? 'current' : 'fenced-out';
}

/** Refused: a later holder of the production lock has started writing. */
export class FencedOutError extends Error {
  readonly type = 'FencedOut';
  constructor(
    readonly token: number,
    readonly stored: number,
    readonly productionRoot: string,
  ) {
    super(
      `production write refused: this run's production lock grant is number ${token}, but ${fencePath(productionRoot)} says grant ${stored} ` +
        `has started writing since. This run's turn at production ended (lease expired, forced release, or the lock was restarted); ` +
        `production was left as the later holder wrote it. Start the release again to promote it.`,
    );
  }
}

/** The highest token that started writing into the production root; null when none did. */
export async function readFence(productionRoot: string): Promise<number | null> {
  let names: string[];
  try {
    names = await fs.readdir(fencePath(productionRoot));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const tokens = names.filter((n) => /^[0-9]{1,16}$/.test(n)).map(Number).filter(isFenceToken);
  return tokens.length ? Math.max(...tokens) : null;
}

/**
 * Admits a production write by the holder of grant `token`: raises the fence to it the first time, lets later
 * writes of the same grant through, refuses (FencedOutError) a token below the fence. Checked again after
 * raising: another writer may have raised it higher at the same moment.
 */
export async function admitProductionWrite(productionRoot: string, token: number): Promise<FenceVerdict> {
  const verdict = fenceVerdict(await readFence(productionRoot), token);
  if (verdict === 'fenced-out') throw new FencedOutError(token, (await readFence(productionRoot))!, productionRoot);
  if (verdict === 'raise') {
    const dir = fencePath(productionRoot);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.writeFile(path.join(dir, String(token)), '', { flag: 'a' });
    const after = await readFence(productionRoot);
    if (after !== null && after > token) throw new FencedOutError(token, after, productionRoot);
    await removeLowerTokens(dir, token);
  }
  return verdict;
}

/**
 * Checks, without claiming, that the holder of grant `token` is not fenced out: a later holder that started writing
 * refuses it (FencedOutError); otherwise the fence is left as it is. For writes that only describe production (the
 * file-list walks): their token comes through a request anyone who may signal the list writer can send, so it must
 * never raise the fence (a forged high token would fence out every real holder after it).
 */
export async function checkProductionWrite(productionRoot: string, token: number): Promise<FenceVerdict> {
  const stored = await readFence(productionRoot);
  const verdict = fenceVerdict(stored, token);
  if (verdict === 'fenced-out') throw new FencedOutError(token, stored!, productionRoot);
  return verdict;
}

async function removeLowerTokens(dir: string, below: number): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (/^[0-9]{1,16}$/.test(name) && Number(name) < below) await fs.rm(path.join(dir, name), { force: true });
  }
}
