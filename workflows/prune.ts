// `pruneComposes`: retention of compose folders (activities/retention.ts), as a workflow so a Temporal Schedule
// can run it and its report stays in history. The request is checked on the worker first; each SIG and release is
// then pruned on the compose host, one after the other (they share the disk, not the work).
import type { PruneReport } from '../activities/retention.js';
import { hostActivities, quick } from './activityOptions.js';

export interface PruneInput {
  /** Both or neither: neither prunes every SIG and release of the worker's catalogue. */
  release?: string;
  sig?: string;
  /** Report what would go; remove nothing. */
  dryRun?: boolean;
}

export interface PruneResult {
  dryRun: boolean;
  reports: PruneReport[];
  bytesFreed: number;
  removed: number;
}

export async function pruneComposes(input: PruneInput = {}): Promise<PruneResult> {
  const { targets, dryRun, hostTaskQueue } = await quick.resolvePruneTargets({ release: input.release, sig: input.sig, dryRun: input.dryRun });
  // Removing a large compose can take minutes: the long profile heartbeats, on the compose host.
  const host = hostActivities({ heartbeat: '5 minutes' }, hostTaskQueue).long;
  const reports: PruneReport[] = [];
  for (const t of targets) reports.push(await host.pruneComposes({ ...t, dryRun }));
  return { dryRun, reports, bytesFreed: reports.reduce((n, r) => n + r.bytesFreed, 0), removed: reports.reduce((n, r) => n + r.removed.length, 0) };
}

