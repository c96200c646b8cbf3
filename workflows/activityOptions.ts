// Timeout and retry profiles, one proxy per profile (STYLE.md, samples-typescript hello-world): `quick` for
// bookkeeping on the control queue and `notifier` for webhooks are fixed, so they are built once here at module
// scope. The compose-host profiles depend on the site's host queue and on the run's timeouts (tests use
// seconds), so `hostActivities` builds them once per run, when both are known.
// Retryability is not decided here: every failure that no retry can fix is thrown as a non-retryable
// ApplicationFailure where it is made (activities/, src/publish/exit-codes.ts, src/compose/reposyncOutput.ts).
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ActivityTimeouts } from './messages.js';

const QUICK: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};

/** Validation, planning, the production lock hand-off: short, on the control queue. */
export const quick = proxyActivities<Activities>(QUICK);

/** Notifications never fail a release: few attempts, and callers swallow the failure. */
export const notifier = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '2s', maximumAttempts: 3 } });

export interface HostActivities {
  /** Quick bookkeeping that must run where the files are (folders, symlink, manifest). */
  hostQuick: ReturnType<typeof proxyActivities<Activities>>;
  /** reposync, rsync, hardlink, file lists: long, heartbeating, on the compose host. */
  long: ReturnType<typeof proxyActivities<Activities>>;
}

export function hostActivities(t: ActivityTimeouts = {}, hostTaskQueue?: string): HostActivities {
  const onHost = hostTaskQueue ? { taskQueue: hostTaskQueue } : {};
  return {
    hostQuick: proxyActivities<Activities>({ ...QUICK, ...onHost }),
    long: proxyActivities<Activities>({
      startToCloseTimeout: t.longSync ?? '12 hours',
      heartbeatTimeout: t.heartbeat ?? '1 minute',
      // The workflow moves on only once rsync/dnf is really dead.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: t.retryInitial ?? '30s', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: t.maxAttempts ?? 5 },
      ...onHost,
    }),
  };
}
