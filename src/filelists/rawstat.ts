// An lstat for the walk's hot loop that allocates nothing. On Node 20, fs.lstatSync builds a Stats object
// with four eager Date objects per call; at a million entries that object churn (and the GC behind it)
// costs more CPU than the row formatting. Node's own fs binding fills one shared Float64Array instead,
// with the times as separate seconds and nanoseconds, which also gives the peer's timestamp exactly
// (no second `{ bigint: true }` lstat near second boundaries).
//
// The binding is internal (process.binding is deprecated, DEP0111), so it is used only after a self-check
// against fs.lstatSync on a real path agrees field for field; on any doubt the walk uses fs.lstatSync.
import fs from 'node:fs';

/** lstat into Node's shared stat array, or undefined when the entry is gone (ENOENT/ENOTDIR). */
export type RawLstat = (path: string) => Float64Array | undefined;

/** Offsets into the array (Node's kFsStatsFieldsNumber layout: dev, mode, nlink, uid, gid, rdev, blksize, ino, size, blocks, then sec/nsec pairs). */
export const RAW_MODE = 1;
export const RAW_INO = 7;
export const RAW_SIZE = 8;
export const RAW_MTIME_SEC = 12;
export const RAW_MTIME_NSEC = 13;
export const RAW_CTIME_SEC = 14;
export const RAW_CTIME_NSEC = 15;

type BindingLstat = (path: string, useBigint: false, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

let cached: BindingLstat | null | undefined;

function loadBinding(): BindingLstat | null {
  // --pending-deprecation would turn process.binding into a runtime warning on every cron run.
  if (process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '')) return null;
  try {
    const binding = (process as unknown as { binding?: (name: string) => { lstat?: unknown; kFsStatsFieldsNumber?: unknown } }).binding?.('fs');
    if (typeof binding?.lstat !== 'function' || binding.kFsStatsFieldsNumber !== 18) return null;
    return (binding.lstat as BindingLstat).bind(binding);
  } catch {
    return null;
  }
}

/**
 * The allocation-free lstat if this Node's binding agrees with fs.lstatSync on `probe` (an existing path),
 * else null: the caller then uses fs.lstatSync.
 */
export function rawLstatFor(probe: string): RawLstat | null {
  if (cached === undefined) cached = loadBinding();
  const lstat = cached;
  if (lstat === null) return null;
  try {
    const want = fs.lstatSync(probe, { bigint: true });
    const got = lstat(probe, false, undefined, false);
    if (
      !(got instanceof Float64Array) ||
      got[RAW_MODE] !== Number(want.mode) ||
      got[RAW_INO] !== Number(want.ino) ||
      got[RAW_SIZE] !== Number(want.size) ||
      BigInt(got[RAW_MTIME_SEC]!) * 1_000_000_000n + BigInt(got[RAW_MTIME_NSEC]!) !== want.mtimeNs ||
      BigInt(got[RAW_CTIME_SEC]!) * 1_000_000_000n + BigInt(got[RAW_CTIME_NSEC]!) !== want.ctimeNs ||
      lstat(`${probe}/\u0001does-not-exist`, false, undefined, false) !== undefined
    ) {
      return null;
    }
  } catch {
    return null;
  }
  return (path) => lstat(path, false, undefined, false);
}
