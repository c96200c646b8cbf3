import { describe, expect, it } from 'vitest';
import { classifyRsyncExit, describeRsyncFailure } from '../../src/publish/exit-codes.js';

describe('classifyRsyncExit', () => {
  it.each([
    [1, 'RsyncUsageError'],
    [2, 'RsyncProtocolError'],
    [3, 'RsyncFileSelectionError'],
    [4, 'RsyncUnsupported'],
    [13, 'RsyncInternalError'],
  ])('exit %i is not retryable (%s)', (code, type) => {
    expect(classifyRsyncExit(code)).toMatchObject({ type, retryable: false });
  });

  it.each([
    [10, 'RsyncIoError'],
    [11, 'RsyncIoError'],
    [12, 'RsyncIoError'],
    [14, 'RsyncIpcError'],
    [20, 'RsyncInterrupted'],
    [23, 'RsyncPartialTransfer'],
    [24, 'RsyncPartialTransfer'],
    [25, 'RsyncMaxDeleteReached'],
    [30, 'RsyncTimeout'],
    [35, 'RsyncTimeout'],
  ])('exit %i is retryable (%s)', (code, type) => {
    expect(classifyRsyncExit(code)).toMatchObject({ type, retryable: true });
  });

  it('recognises a full disk from stderr whatever the exit code, as retryable DiskFull', () => {
    const stderr = 'rsync: [receiver] write failed on "/mnt/repos-staging/x.rpm": No space left on device (28)\nrsync error: error in file IO (code 11)';
    expect(classifyRsyncExit(11, stderr)).toMatchObject({ type: 'DiskFull', retryable: true });
    expect(classifyRsyncExit(23, 'Disk quota exceeded (122)')).toMatchObject({ type: 'DiskFull' });
  });

  it('treats permission errors in a partial transfer as not retryable (retrying cannot fix them)', () => {
    const chown = 'rsync: [receiver] chown "/s/9/core/.a.rpm.Xb3k" failed: Operation not permitted (1)\nrsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338)';
    expect(classifyRsyncExit(23, chown)).toMatchObject({ type: 'RsyncPermissionDenied', retryable: false });
    expect(classifyRsyncExit(23, 'rsync: [sender] send_files failed to open "/c/x.rpm": Permission denied (13)')).toMatchObject({ type: 'RsyncPermissionDenied' });
    expect(classifyRsyncExit(23, 'rsync: [sender] read errors mapping "/c/x.rpm": Input/output error (5)')).toMatchObject({ type: 'RsyncPartialTransfer', retryable: true });
  });

  it('treats a kill by signal and unknown codes as retryable', () => {
    expect(classifyRsyncExit(undefined, '', 'SIGKILL')).toMatchObject({ type: 'RsyncKilled', retryable: true, meaning: 'rsync was killed by SIGKILL' });
    expect(classifyRsyncExit(99)).toMatchObject({ type: 'RsyncFailed', retryable: true });
  });
});

describe('describeRsyncFailure', () => {
  it('says what failed, the code and its meaning, what to do, the last stderr lines and the command', () => {
    const stderr = 'rsync: [sender] read errors mapping "/c/x.rpm": Input/output error (5)\nrsync error: some files/attrs were not transferred (code 23)\n';
    const msg = describeRsyncFailure(classifyRsyncExit(23, stderr), {
      exitCode: 23,
      stderr,
      what: 'syncing /c to staging /s',
      args: ['-a', '/c/', '/s/'],
    });
    expect(msg).toContain('rsync failed while syncing /c to staging /s: exit code 23 (partial transfer due to error). Retryable');
    expect(msg).toContain('Input/output error (5)');
    expect(msg).toContain('Command: rsync -a /c/ /s/');
  });
});
