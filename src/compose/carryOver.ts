// Carrying a task's folder over from the compose `latest` points to, whole, without starting dnf: when upstream's
// repodata/repomd.xml is byte for byte what that compose fetched, upstream is the same repo (repomd.xml names every
// metadata file by checksum, and primary names every package by checksum), so dnf would download nothing and keep
// exactly latest's files. Only what latest verified, composed with the same checks and keys, is carried over;
// anything unknown (an older manifest without the checksums) or different goes through dnf as before. Pure.
import { createHash } from 'node:crypto';

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** What the previous compose's manifest says, as far as carrying one task over is concerned. */
export interface PreviousCompose {
  composeId: string;
  verified: boolean;
  effective: { gpgCheck: boolean; repoGpgCheck: boolean };
  /** Digest of the SIG keys that compose fetched (absent in older manifests). */
  keysSha256?: string | null;
  tasks: Array<{ name: string; baseUrl: string; relDir: string }>;
  sourceMetadata?: Array<{ relDir: string; repomdSha256?: string | null }>;
}

export interface CarryOverQuestion {
  task: { name: string; baseUrl: string; relDir: string };
  /** The checks this run makes (a carried-over folder must have passed at least these). */
  gpgCheck: boolean;
  repoGpgCheck: boolean;
  keysSha256: string;
  /** sha256 of upstream's repomd.xml fetched now. */
  upstreamRepomdSha256: string;
  /** sha256 of the previous compose's own repodata/repomd.xml as it is on disk now (null when missing). */
  previousRepomdSha256: string | null;
}

export type CarryOverVerdict = { carry: true; from: string } | { carry: false; reason: string };

export function carryOverVerdict(previous: PreviousCompose | null, q: CarryOverQuestion): CarryOverVerdict {
  const no = (reason: string): CarryOverVerdict => ({ carry: false, reason });
  if (!previous) return no('no previous compose manifest');
  if (!previous.verified) return no(`compose ${previous.composeId} did not pass verification`);
  const was = previous.tasks.find((t) => t.name === q.task.name);
  if (!was || was.baseUrl !== q.task.baseUrl || was.relDir !== q.task.relDir) return no(`compose ${previous.composeId} did not sync ${q.task.name} from ${q.task.baseUrl}`);
  // A compose that checked less (signatures off, other keys) cannot stand in for one that checks more.
  if ((q.gpgCheck && !previous.effective.gpgCheck) || (q.repoGpgCheck && !previous.effective.repoGpgCheck)) return no(`compose ${previous.composeId} checked fewer signatures`);
  if ((q.gpgCheck || q.repoGpgCheck) && previous.keysSha256 !== q.keysSha256) return no(`compose ${previous.composeId} checked signatures with other keys (or recorded none)`);
  const recorded = previous.sourceMetadata?.find((m) => m.relDir === q.task.relDir)?.repomdSha256;
  if (!recorded) return no(`compose ${previous.composeId} recorded no repomd.xml checksum for ${q.task.relDir}`);
  if (recorded !== q.upstreamRepomdSha256) return no('upstream repomd.xml changed');
  // Its folder must still hold what it recorded: a hand-edited previous compose is not carried over.
  if (q.previousRepomdSha256 !== recorded) return no(`the repomd.xml in compose ${previous.composeId} is not the one it recorded`);
  return { carry: true, from: previous.composeId };
}

/** Digest of the keys a compose fetched: name and content of each, in the plan's order. */
export function keysDigest(keys: Array<{ name: string; content: Uint8Array }>): string {
  return sha256Hex(keys.map((k) => `${k.name}\0${sha256Hex(k.content)}\n`).join(''));
}
