// rsync's exit table (the other tools' are in src/tools/exit-codes.ts): maps an rsync failure (exit code, signal,
// stderr) to a failure type and whether a retry can help. Codes from rsync(1) "EXIT VALUES"; retry policy from
// reference/temporal-notes.md §2.5. Pure. rsync also needs stderr: a full disk or a permission error changes the verdict.

import type { ToolFailureClass } from '../tools/exit-codes.js';
import { tailLines } from '../tools/run.js';

export { tailLines };
export type RsyncFailureClass = ToolFailureClass;

const RSYNC_CODES: Record<number, RsyncFailureClass> = {
  1: { type: 'RsyncUsageError', retryable: false, meaning: 'syntax or usage error', advice: 'the rsync command line is wrong: this is a bug in sigrelease, report it with the arguments shown' },
  2: { type: 'RsyncProtocolError', retryable: false, meaning: 'protocol incompatibility', advice: 'the rsync versions on both ends cannot talk to each other; align them' },
  3: { type: 'RsyncFileSelectionError', retryable: false, meaning: 'errors selecting input/output files or dirs', advice: 'check that the source and the target parent directory exist and are mounted' },
  4: { type: 'RsyncUnsupported', retryable: false, meaning: 'requested action not supported (an option this rsync build lacks)', advice: 'install an rsync that supports the options shown (3.1 or later)' },
  5: { type: 'RsyncDaemonError', retryable: false, meaning: 'error starting client-server protocol', advice: 'check the rsync daemon configuration' },
  6: { type: 'RsyncDaemonError', retryable: false, meaning: 'daemon unable to append to log-file', advice: 'check the rsync daemon log file' },
  10: { type: 'RsyncIoError', retryable: true, meaning: 'error in socket I/O', advice: 'usually transient; it will be retried' },
  11: { type: 'RsyncIoError', retryable: true, meaning: 'error in file I/O', advice: 'check the file systems of source and target (read-only, failing disk, NFS); it will be retried' },
  12: { type: 'RsyncIoError', retryable: true, meaning: 'error in rsync protocol data stream', advice: 'usually a killed or crashed rsync process on one end; it will be retried' },
  13: { type: 'RsyncInternalError', retryable: false, meaning: 'errors with program diagnostics', advice: 'check stderr; this is not expected to go away on retry' },
  14: { type: 'RsyncIpcError', retryable: true, meaning: 'error in IPC code (e.g. fork or pipe failed)', advice: 'usually a resource shortage on the worker host; it will be retried' },
  20: { type: 'RsyncInterrupted', retryable: true, meaning: 'received SIGUSR1 or SIGINT', advice: 'someone or something stopped rsync; it will be retried' },
  21: { type: 'RsyncInternalError', retryable: true, meaning: 'some error returned by waitpid()', advice: 'it will be retried' },
  22: { type: 'RsyncOutOfMemory', retryable: true, meaning: 'error allocating core memory buffers', advice: 'the worker host is short of memory; it will be retried' },
  23: { type: 'RsyncPartialTransfer', retryable: true, meaning: 'partial transfer due to error', advice: 'some files could not be transferred (see stderr); it will be retried and resumes where it stopped' },
  24: { type: 'RsyncPartialTransfer', retryable: true, meaning: 'partial transfer due to vanished source files', advice: 'the source changed during the sync; it will be retried' },
  25: { type: 'RsyncMaxDeleteReached', retryable: true, meaning: 'the --max-delete limit stopped deletions', advice: 'the source changed between the preview and the sync (more deletions than previewed); the retry previews and guards again' },
  30: { type: 'RsyncTimeout', retryable: true, meaning: 'timeout in data send/receive', advice: 'it will be retried' },
  35: { type: 'RsyncTimeout', retryable: true, meaning: 'timeout waiting for daemon connection', advice: 'it will be retried' },
};

const DISK_FULL_RE = /No space left on device|Disk quota exceeded/i;
// rsync reports per-file errors as `…failed: <strerror> (<errno>)` and exits 23. Permission errors do not go away on
// a retry (e.g. --chown by a worker that is not root, an unreadable file in the compose).
const PERMISSION_RE = /: (Operation not permitted \(1\)|Permission denied \(13\))/;

export function classifyRsyncExit(exitCode: number | undefined | null, stderr = '', signal?: string | null): RsyncFailureClass {
  if (DISK_FULL_RE.test(stderr)) {
    return {
      type: 'DiskFull',
      retryable: true,
      meaning: 'the target file system is full (No space left on device / quota exceeded)',
      advice: 'free space on (or grow) the target file system; the retry resumes where this attempt stopped',
    };
  }
  if (exitCode === 23 && PERMISSION_RE.test(stderr)) {
    return {
      type: 'RsyncPermissionDenied',
      retryable: false,
      meaning: 'partial transfer: permission denied on some files',
      advice:
        'fix the permissions named in stderr (an unreadable file in the source, or --chown by a worker that is not root: the worker must run as root to force the owner), then run the step again',
    };
  }
  if (exitCode === undefined || exitCode === null) {
    return {
      type: 'RsyncKilled',
      retryable: true,
      meaning: signal ? `rsync was killed by ${signal}` : 'rsync ended without an exit code',
      advice: 'something outside sigrelease killed rsync (OOM killer, operator); it will be retried',
    };
  }
  return (
    RSYNC_CODES[exitCode] ?? {
      type: 'RsyncFailed',
      retryable: true,
      meaning: `unknown rsync exit code ${exitCode}`,
      advice: 'see stderr; it will be retried',
    }
  );
}

/** One message for people: what failed, with values, and what to do. */
export function describeRsyncFailure(
  cls: RsyncFailureClass,
  ctx: { exitCode?: number | null; signal?: string | null; stderr?: string; what: string; args?: readonly string[] },
): string {
  const code = ctx.exitCode === undefined || ctx.exitCode === null ? (ctx.signal ? `signal ${ctx.signal}` : 'no exit code') : `exit code ${ctx.exitCode}`;
  const tail = ctx.stderr ? tailLines(ctx.stderr) : '';
  return (
    `rsync failed while ${ctx.what}: ${code} (${cls.meaning}). ${cls.retryable ? 'Retryable' : 'Not retryable'}: ${cls.advice}.` +
    (tail ? `\nLast stderr lines:\n${tail}` : '') +
    (ctx.args ? `\nCommand: rsync ${ctx.args.join(' ')}` : '')
  );
}
