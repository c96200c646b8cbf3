// Timeout and retry profiles, one proxy per profile (STYLE.md): `quick` for bookkeeping, `longSync` for
// reposync/rsync/hardlink/file lists on the compose host. Durations are inputs so tests can use seconds.
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ActivityTimeouts } from './messages.js';

/** Failures that no retry can fix: bad input, a missing source, a guard, verification. */
export const NON_RETRYABLE = [
  'BadRequest',
  'NoLatestCompose',
  'SourceMissing',
  'DeletionGuardTripped',
  'ComposeVerificationFailed',
  'GpgKeyViolation',
  'RsyncUsageError',
  'BadFileName',
];

export function activityProxies(t: ActivityTimeouts = {}, hostTaskQueue?: string) {
  const quick: ActivityOptions = {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  };
  const long: ActivityOptions = {
    startToCloseTimeout: t.longSync ?? '12 hours',
    heartbeatTimeout: t.heartbeat ?? '1 minute',
    // The workflow moves on only once rsync/dnf is really dead.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: t.retryInitial ?? '30s',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      maximumAttempts: t.maxAttempts ?? 5,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
    ...(hostTaskQueue ? { taskQueue: hostTaskQueue } : {}),
  };
  return {
    quick: proxyActivities<Activities>(quick),
    /** Quick bookkeeping that must run where the files are (folders, symlink, manifest). */
    hostQuick: proxyActivities<Activities>({ ...quick, ...(hostTaskQueue ? { taskQueue: hostTaskQueue } : {}) }),
    long: proxyActivities<Activities>(long),
    /** Notifications never fail a release: few attempts, and callers swallow the failure. */
    notify: proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '2s', maximumAttempts: 3 } }),
  };
}
