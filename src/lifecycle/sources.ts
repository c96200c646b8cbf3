// Which compose staging and production hold, recorded beside the trees rather than in them: the staging digest
// and the published lists must never see the record, and mirrors never copy it. The records sit in the root's own
// state folder (`<root>/.sigrelease-state/sources/<rel>/<sig>.json`, skipped by the root-level file lists like the
// root marker). `--from gate` reads staging's record to know which compose it asks approval for; `composes` and
// retention read both to know which composes must stay.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../compose/files.js';
import { ROOT_STATE_DIR } from '../config/roots.js';
import { mkdirConfined } from '../roots.js';

export type TreeKind = 'staging' | 'production';

export interface SourceRecord {
  /** The compose folder's name, `SIG-<sig>-<revision>-<stamp>`. */
  compose: string;
  /** The run's compose ID, `<sig>-<rel>-<stamp>` (what the gate and decisions name). */
  composeId: string;
  /** Digest of the tree right after it was written (src/publish/staging-digest.ts): a later hand edit shows. */
  digest: string;
  /** ISO time, the workflow's clock. */
  recordedAt: string;
  workflowId: string;
}

export interface SourceRoots {
  stagingRoot: string;
  productionRoot: string;
}

const rootFor = (roots: SourceRoots, tree: TreeKind) => (tree === 'staging' ? roots.stagingRoot : roots.productionRoot);
/** `<root>/.sigrelease-state/sources/<rel>` */
const recordDir = (roots: SourceRoots, tree: TreeKind, release: string) => path.join(rootFor(roots, tree), ROOT_STATE_DIR, 'sources', release);
export const sourceRecordPath = (roots: SourceRoots, tree: TreeKind, release: string, sig: string) => path.join(recordDir(roots, tree, release), `${sig}.json`);

/** Writes the record atomically (a reader sees the old one or the new one), confined to the tree's root. */
export async function writeSourceRecord(roots: SourceRoots, tree: TreeKind, release: string, sig: string, record: SourceRecord): Promise<string> {
  const dir = await mkdirConfined(rootFor(roots, tree), recordDir(roots, tree, release), `${tree} source record folder`);
  const file = path.join(dir, `${sig}.json`);
  await writeFileAtomic(file, JSON.stringify(record, null, 2) + '\n');
  return file;
}

/** The record, or null when the tree has none (never written, or written before records existed). */
export async function readSourceRecord(roots: SourceRoots, tree: TreeKind, release: string, sig: string): Promise<SourceRecord | null> {
  const text = await fs.readFile(sourceRecordPath(roots, tree, release, sig), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (text === null) return null;
  const r = JSON.parse(text) as Partial<SourceRecord>;
  if (typeof r.compose !== 'string' || typeof r.composeId !== 'string' || typeof r.digest !== 'string') return null;
  return { compose: r.compose, composeId: r.composeId, digest: r.digest, recordedAt: String(r.recordedAt ?? ''), workflowId: String(r.workflowId ?? '') };
}
