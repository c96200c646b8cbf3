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
// production, and `metadata/` (the SIG's GPG key) is published.
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
}

export function productionPasses(o: ProductionPlanInput): ProductionPass[] {
  const common = { source: o.source, target: o.target, owner: o.owner ?? null, progress: true, stats: true, bwlimitKiB: o.bwlimitKiB };
  return [
    {
      pass: 1,
      phase: 'pass1-content',
      description: 'packages and content-addressed metadata, no deletion, repomd.xml untouched',
      args: buildRsyncArgs({ ...common, delete: false, filters: PASS1_CONTENT_FILTERS }),
    },
    {
      pass: 2,
      phase: 'pass2-repomd',
      description: 'repomd.xml (+ .asc) and other non-content-addressed repodata files, all renamed into place at the end',
      // --checksum: a handful of small files; never skip a changed repomd.xml because size and mtime look equal.
      args: buildRsyncArgs({ ...common, delete: false, delayUpdates: true, checksum: true, filters: PASS2_REPOMD_FILTERS }),
    },
    {
      pass: 3,
      phase: 'pass3-delete',
      description: 'full mirror: delete what left staging (after the transfer), capped at the previewed count',
      args: buildRsyncArgs({ ...common, delete: 'delay', delayUpdates: true, maxDelete: o.maxDelete }),
    },
  ];
}
