// The composes of one SIG and release on disk: what `sigrelease composes` lists and what a rollback may name.
// A compose is found by its name among the folders of `<composeRoot>/<rel>`; a request never hands us a path.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { composeBase, latestLink, type Roots } from '../paths.js';
import { resolveInside } from '../roots.js';
import { composeIdProblem, namesCompose, parseComposeFolder } from './names.js';
import { readSourceRecord } from './sources.js';

export interface ComposeOnDisk {
  /** The folder name, `SIG-<sig>-<revision>-<stamp>`: what `rollback --to` takes. */
  name: string;
  /** The run's compose ID, `<sig>-<rel>-<stamp>`. */
  composeId: string;
  revision: string;
  stamp: string;
  /** The compose's time (from its stamp), ISO. */
  time: string;
  /** From the newest manifest in `work/`; null when the compose has none (failed or still running). */
  manifest: { file: string; tasks: number; packages: number; bytes: number; downloaded: number; finishedAt: string | null } | null;
  latest: boolean;
  staging: boolean;
  production: boolean;
}

/** `20261130.101500` as an ISO time. */
const stampTime = (stamp: string) => `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;

async function manifestSummary(dir: string): Promise<ComposeOnDisk['manifest']> {
  const work = path.join(dir, 'work');
  const names = (await fs.readdir(work).catch(() => [] as string[])).filter((n) => /^manifest-\d{8}\.\d{6}\.json$/.test(n)).sort();
  const newest = names.at(-1);
  if (!newest) return null;
  try {
    const m = JSON.parse(await fs.readFile(path.join(work, newest), 'utf8')) as {
      finishedAt?: string;
      tasks?: Array<{ downloaded?: number }>;
      repos?: Array<{ packages?: number; bytes?: number }>;
    };
    const sum = <T>(xs: T[] | undefined, f: (x: T) => number | undefined) => (xs ?? []).reduce((n, x) => n + (f(x) ?? 0), 0);
    return {
      file: path.join(work, newest),
      tasks: m.tasks?.length ?? 0,
      packages: sum(m.repos, (r) => r.packages),
      bytes: sum(m.repos, (r) => r.bytes),
      downloaded: sum(m.tasks, (t) => t.downloaded),
      finishedAt: m.finishedAt ?? null,
    };
  } catch {
    return null;
  }
}

/** Every compose folder of `sig` `release`, oldest first, with what `latest`, staging and production came from. */
export async function listComposes(roots: Roots, release: string, sig: string): Promise<ComposeOnDisk[]> {
  const base = composeBase(roots, release);
  const entries = await fs.readdir(base, { withFileTypes: true }).catch(() => []);
  const latestTarget = await fs.readlink(latestLink(roots, release, sig)).catch(() => null);
  const staging = await readSourceRecord(roots, 'staging', release, sig);
  const production = await readSourceRecord(roots, 'production', release, sig);
  const out: ComposeOnDisk[] = [];
  for (const e of entries) {
    const parsed = e.isDirectory() ? parseComposeFolder(e.name, sig) : null;
    if (!parsed) continue;
    out.push({
      name: e.name,
      composeId: `${sig}-${release}-${parsed.stamp}`,
      revision: parsed.revision,
      stamp: parsed.stamp,
      time: stampTime(parsed.stamp),
      manifest: await manifestSummary(path.join(base, e.name)),
      latest: latestTarget !== null && path.basename(latestTarget) === e.name,
      staging: staging?.compose === e.name,
      production: production?.compose === e.name,
    });
  }
  return out.sort((a, b) => a.stamp.localeCompare(b.stamp));
}

export class ComposeNotFoundError extends Error {
  override name = 'ComposeNotFoundError';
}

/**
 * The compose folder `id` names (folder name or compose ID), checked against the folders on disk and resolved
 * inside the compose root; refused with the known names when there is none.
 */
export async function findCompose(roots: Roots, release: string, sig: string, id: string): Promise<{ name: string; composeId: string; dir: string }> {
  const problem = composeIdProblem(id);
  if (problem) throw new ComposeNotFoundError(problem);
  const all = await listComposes(roots, release, sig);
  const hit = all.find((c) => namesCompose(id, c.name, sig, release));
  if (!hit) {
    const known = all.map((c) => c.name);
    throw new ComposeNotFoundError(`no compose ${JSON.stringify(id)} of ${sig} ${release} in ${composeBase(roots, release)}; on disk: ${known.length ? known.join(', ') : 'none'}`);
  }
  const dir = await resolveInside(roots.composeRoot, path.join(composeBase(roots, release), hit.name), 'compose folder');
  return { name: hit.name, composeId: hit.composeId, dir };
}

/** The compose `latest-SIG-<sig>-<rel>` points to, resolved inside the compose root. */
export async function latestCompose(roots: Roots, release: string, sig: string): Promise<{ name: string; composeId: string; dir: string }> {
  const target = await fs.readlink(latestLink(roots, release, sig)).catch(() => null);
  if (target === null) throw new ComposeNotFoundError(`${latestLink(roots, release, sig)} does not exist: no compose to re-stage; run a full compose first`);
  return findCompose(roots, release, sig, path.basename(target));
}
