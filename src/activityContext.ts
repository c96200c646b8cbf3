// What an activity needs from its Temporal context, usable outside one too: the same activity code runs under a
// worker and called directly (scripts, plain tests), where there is no context, no heartbeat and no cancellation.
import { Context } from '@temporalio/activity';

/** The running activity's context, or undefined when called outside a worker. */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeat details of the previous attempt, when running under Temporal and it sent any. */
export function previousHeartbeat<T>(): Partial<T> | undefined {
  const d = activityContext()?.info.heartbeatDetails as unknown;
  return d !== null && typeof d === 'object' ? (d as Partial<T>) : undefined;
}

/** Throws the CancelledFailure if cancellation was requested. */
export function throwIfCancelled(): void {
  const signal = activityContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason;
}

/**
 * Keeps the current heartbeat details and sends them: on a timer (liveness, even when the tool prints nothing
 * for a while, e.g. while rsync builds its file list) and on updates, at most every `minGapMs`.
 */
export class Heartbeater<T extends object> {
  private current: T;
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ctx = activityContext();

  constructor(
    initial: T,
    private readonly intervalMs = 2000,
    private readonly minGapMs = 500,
  ) {
    this.current = initial;
  }

  get details(): T {
    return this.current;
  }

  /** Merges `patch` into the details; sends now if `force` or if the last send is older than `minGapMs`. */
  update(patch: Partial<T>, force = false): void {
    this.current = { ...this.current, ...patch };
    if (force || Date.now() - this.lastSent >= this.minGapMs) this.send();
  }

  send(): void {
    if (!this.ctx) return;
    this.lastSent = Date.now();
    this.ctx.heartbeat(this.current);
  }

  start(): this {
    this.send();
    this.timer ??= setInterval(() => this.send(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
