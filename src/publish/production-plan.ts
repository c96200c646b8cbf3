// The production sync plan: three rsync passes that keep every repository readable while they run. Pure.
//
// The seed copies staging to production one repo dir at a time with `--delete-during`: old packages and old
// metadata blobs go before the new repomd.xml arrives, so mirrors can read a repomd.xml whose files are gone
// (reference/seed-systems.md §6.4). Debian's ftpsync and Fedora's updates sync solve this with stages
// (reference/mirror-file-lists.md §3); ours:
//   1. content: packages and content-addressed metadata blobs (`<checksum>-primary.xml.gz`, …). Nothing refers to
//      new files yet, so they can appear in any order. repomd.xml and any repodata file whose name is not
//      content-addressed stay untouched. No deletion.
//   2. repomd: `repodata/repomd.xml*` and the other non-content-addressed repodata files, with --delay-updates, so
//      every repo switches to its new metadata in one burst of renames at the end, when all it names is in place.
//   3. delete: a full `-a --delete` pass: removes what left staging (superseded packages and blobs, retired repos
//      and arches) and fixes anything that changed meanwhile; --delay-updates again, deletions after the transfer,
//      capped at the previewed count.
// Unlike the seed, production ends as an exact copy of staging: repos and arches that left staging leave
// production, and `metadata/` (the SIG's GPG key) is published. The one exception: folders the catalogue says
// exist only in production (`productionOnlyDirs`, the seed's `additional_dirs` such as AltArch's `images`) are
// protected in every pass and in the preview, so nothing in or under them is ever deleted.
import type { Catalogue } from '../config/load.js';
import { SAFE_NAME } from '../config/schema.js';
import { productionCategory, type Roots } from '../paths.js';
import { buildRsyncArgs } from './rsync-args.js';
import type { Owner, SyncPhase } from './types.js';

/** `[0-9a-f]` 32 times: the shortest checksum createrepo_c puts in front of a metadata file name (md5). */
const HEX32 = '[0-9a-f]'.repeat(32);

/** Filter rules of pass 1: everything except repomd.xml and non-content-addressed repodata files. */
export const PASS1_CONTENT_FILTERS: readonly string[] = [
  '- repodata/repomd.xml*',
  `+ repodata/${HEX32}*-*`,
  '- repodata/*',
];

/** Filter rules of pass 2: only what pass 1 left out (directories are walked, nothing else is sent). */
export const PASS2_REPOMD_FILTERS: readonly string[] = [`- repodata/${HEX32}*-*`, '+ repodata/*', '+ */', '- *'];

/**
 * rsync protect rules for folders that exist only in production: `P /images/***` keeps `<sig>/images` and all
 * below it from deletion (anchored at the sync root, so a repo's own `images/` subfolder is not affected).
 * Receiver-side only: if staging ever holds such a folder, its files are still sent.
 */
export function keepDirFilters(dirs: readonly string[] = []): string[] {
  return dirs.map((d) => {
    // The names come from the catalogue (schema-checked); checked again because they become filter rules.
    if (!SAFE_NAME.test(d)) throw new TypeError(`production-only folder ${JSON.stringify(d)} must be a plain folder name (letters, digits and . _ + -)`);
    return `P /${d}/***`;
  });
}

/**
 * The production-only folders of the SIG tree `target` (`<productionRoot>/mirror/pub/sig/<rel>/<sig>`), from the
 * worker's own catalogue: the workflow never has to say what to keep, so a run started before a folder was added
 * to the catalogue keeps it too. [] for any other target.
 */
export function productionOnlyDirsFor(roots: Roots, catalogue: Catalogue, target: string): string[] {
  const prefix = `${productionCategory(roots)}/`;
  const norm = target.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (!norm.startsWith(prefix)) return [];
  const [release, sig, ...rest] = norm.slice(prefix.length).split('/');
  if (!release || !sig || rest.length > 0) return [];
  return [...(catalogue[sig]?.releases[release]?.productionOnlyDirs ?? [])];
}

export type ProductionPassNumber = 1 | 2 | 3;

export interface ProductionPass {
  pass: ProductionPassNumber;
  phase: Extract<SyncPhase, 'pass1-content' | 'pass2-repomd' | 'pass3-delete'>;
  description: string;
  args: string[];
}

export interface ProductionPlanInput {
  source: string;
  target: string;
  owner?: Owner | null;
  /** The previewed number of entries to delete (`SyncPreview.deleteEntries`): pass 3's --max-delete. */
  maxDelete: number;
  bwlimitKiB?: number;
  /** Production-only folders (`keepDirFilters`): protected in every pass. */
  keep?: readonly string[];
}

export function productionPasses(o: ProductionPlanInput): ProductionPass[] {
  const common = { source: o.source, target: o.target, owner: o.owner ?? null, progress: true, stats: true, bwlimitKiB: o.bwlimitKiB };
  const keep = keepDirFilters(o.keep);
  return [
    {
      pass: 1,
      phase: 'pass1-content',
      description: 'packages and content-addressed metadata, no deletion, repomd.xml untouched',
      args: buildRsyncArgs({ ...common, delete: false, filters: [...keep, ...PASS1_CONTENT_FILTERS] }),
    },
    {
      pass: 2,
      phase: 'pass2-repomd',
      description: 'repomd.xml (+ .asc) and other non-content-addressed repodata files, all renamed into place at the end',
      // --checksum: a handful of small files; never skip a changed repomd.xml because size and mtime look equal.
      args: buildRsyncArgs({ ...common, delete: false, delayUpdates: true, checksum: true, filters: [...keep, ...PASS2_REPOMD_FILTERS] }),
    },
    {
      pass: 3,
      phase: 'pass3-delete',
      description: 'full mirror: delete what left staging (after the transfer), capped at the previewed count',
      args: buildRsyncArgs({ ...common, delete: 'delay', delayUpdates: true, maxDelete: o.maxDelete, filters: keep }),
    },
  ];
}
