// A release run's side of the production lock (workflows/productionLock.ts): asking for a turn, waiting for it
// without trusting the lock never to lose the request, hearing that the turn ended early, and handing the
// grant's fencing token to every production write.
import { ApplicationFailure } from '@temporalio/common';
import { CancellationScope, condition, getExternalWorkflowHandle, log, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Fenced } from '../activities/fence.js';
import { quick } from './activityOptions.js';
import { grantMatches, isFenceToken } from './lockRequests.js';
import { lockGrantedSignal, lockLostSignal, releaseLockSignal, renewLeaseSignal, type LockLostNotice } from './messages.js';
import { recordLockWait } from './metrics.js';

/** How often a waiting run makes sure the lock still has its request, unless the run's runtime says otherwise. */
export const DEFAULT_LOCK_CHECK_EVERY = '5 minutes';

/** This run's turns at the production lock: asked for, granted, given back. */
export class ProductionLockTurn {
  private granted = false;
  /** The production lock this run asked for and has not given back yet. */
  private toRelease: string | null = null;
  /** The acquisition this run waits on or holds (null: a run begun before requests had IDs). */
  private requestId: string | null = null;
  /** The current grant's fencing token (absent from locks begun before tokens). */
  private token: number | undefined;
  /** The grant's lease in ms, from a lock that takes renewals (absent otherwise). */
  private leaseMs: number | undefined;
  /** Set when the lock said this turn ended without our release (lease ran out, operator forced it). */
  private lost: LockLostNotice | null = null;
  /** Where notices for people go (the run's status warnings); set by the promotion. */
  private tell: (notice: string) => void = () => undefined;

  /** Registers the lock's signals; call before the first await so no grant is lost. */
  listen(): void {
    setHandler(
      lockGrantedSignal,
      (g) => {
        // Anyone who can signal this run could send a grant: only one naming our pending request counts.
        if (this.requestId !== null && !grantMatches(this.requestId, g)) {
          log.warn('ignored a production lock grant that names no pending request of this run', { grant: g?.requestId ?? null });
          return;
        }
        this.granted = true;
        this.token = isFenceToken(g?.token) ? g.token : undefined;
        this.leaseMs = typeof g?.leaseMs === 'number' && Number.isSafeInteger(g.leaseMs) && g.leaseMs > 0 ? g.leaseMs : undefined;
      },
      { description: 'Internal: sent by the production lock to the run whose turn it is; ignored unless it names that request' },
    );
    setHandler(
      lockLostSignal,
      (n) => {
        if (!this.granted || this.requestId === null || n?.requestId !== this.requestId) {
          log.warn('ignored a production lock notice that names no turn this run holds', { notice: n?.requestId ?? null });
          return;
        }
        this.lost = n;
        this.tell(describeLoss(n));
      },
      { description: 'Internal: sent by the production lock when this run\'s turn ended without its release; ignored unless it names that turn' },
    );
  }

  /** Notices about the turn (lost, request sent again) go to `tell`: the run's status warnings. */
  reportTo(tell: (notice: string) => void): void {
    this.tell = tell;
    if (this.lost) tell(describeLoss(this.lost));
  }

  /**
   * Asks the production lock for a turn and waits for it; `release` gives it back. `sig` labels the wait's
   * metric. Every `checkEvery` of waiting, the run makes sure the lock still has the request (a terminated,
   * reset or idle-closed lock has lost it) and sends it again if not: a run never waits on a lock that forgot it.
   */
  async acquire(lockId: string, release: string, sig: string, checkEvery = DEFAULT_LOCK_CHECK_EVERY): Promise<void> {
    const info = workflowInfo();
    const asked = Date.now();
    this.granted = false;
    this.lost = null;
    this.token = undefined;
    this.leaseMs = undefined;
    this.toRelease = lockId;
    this.requestId = patched('lock-request-ids') ? uuid4() : null;
    const request = { lockWorkflowId: lockId, release, requesterWorkflowId: info.workflowId, taskQueue: info.taskQueue, ...(this.requestId ? { requesterRunId: info.runId, requestId: this.requestId } : {}) };
    // Not cancellable: a cancel must find the request delivered, so that its release reaches the lock after it.
    await CancellationScope.nonCancellable(() => quick.requestProductionLock(request));
    if (!patched('lock-acquire-recheck')) {
      await condition(() => this.granted);
    } else {
      while (!(await condition(() => this.granted, checkEvery))) {
        const state = await CancellationScope.nonCancellable(() => quick.ensureLockRequest(request));
        if (state === 'resent') this.tell(`the production lock ${lockId} had lost this run's request (closed, terminated or reset); the request was sent again`);
      }
    }
    recordLockWait({ sig, release }, asked);
  }

  /** The fencing token for a production write's input: the fence refuses it once a later holder wrote. */
  fence(): Fenced {
    return this.token !== undefined && patched('production-write-fence') ? { fenceToken: this.token } : {};
  }

  /**
   * Throws LockLost when the lock said this turn ended (lease, operator): the run stops before `nextWrite`.
   * The fence is the hard guarantee; this stops a run that heard in time, with a reason a person can read.
   */
  checkStillHeld(nextWrite: string): void {
    if (!this.lost || !patched('lock-lost-stops-writes')) return;
    throw ApplicationFailure.create({
      type: 'LockLost',
      nonRetryable: true,
      message: `${describeLoss(this.lost)}; stopped before ${nextWrite}. Production holds what the next holder wrote; start the release again to promote it.`,
      details: [this.lost],
    });
  }

  /**
   * How often a holder that waits (for the file-list writer) renews its lease: a third of it, so two renewals may be
   * late before it runs out. Undefined when the lock takes no renewals (a lock begun before them) or nothing is held.
   */
  renewEvery(): number | undefined {
    return this.granted && this.toRelease && this.requestId !== null && this.leaseMs !== undefined ? Math.max(1, Math.floor(this.leaseMs / 3)) : undefined;
  }

  /** Starts this turn's lease again (the lock ignores a renewal naming another turn). Best effort, like release. */
  async renewLease(): Promise<void> {
    if (!this.toRelease || this.requestId === null) return;
    try {
      const { workflowId, runId } = workflowInfo();
      await getExternalWorkflowHandle(this.toRelease).signal(renewLeaseSignal, { workflowId, runId, requestId: this.requestId });
    } catch (err) {
      log.warn('could not renew the production lock lease', { lock: this.toRelease, error: String(err) });
    }
  }

  async release(): Promise<void> {
    if (!this.toRelease) return;
    const lockId = this.toRelease;
    this.toRelease = null;
    try {
      const { workflowId, runId } = workflowInfo();
      await getExternalWorkflowHandle(lockId).signal(releaseLockSignal, this.requestId ? { workflowId, runId, requestId: this.requestId } : { workflowId });
    } catch (err) {
      log.warn('could not release the production lock', { lock: lockId, error: String(err) });
    }
  }
}

function describeLoss(n: LockLostNotice): string {
  const grant = n.token !== undefined ? ` (grant ${n.token})` : '';
  if (n.why === 'forced-release') return `the production lock was taken from this run${grant} by ${n.by ?? 'an operator'} at ${n.at}: ${n.reason ?? 'no reason given'}`;
  return `this run's production lock lease${grant} ran out at ${n.at}; the next waiting run was granted`;
}
