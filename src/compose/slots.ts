// Per-compose run slots inside one worker process. The compose workflow schedules a few reposync tasks more than
// the plan's parallelism (workflows/compose.ts, 'reposync-lookahead'), so that a finished task's successor is
// already at the worker instead of a round trip through the server away; these slots keep the number of dnf
// processes of one compose at the plan's parallelism all the same. No I/O: unit-tested alone.

interface Waiter {
  grant: () => void;
  /** Set once granted or given up, so neither happens twice. */
  settled: boolean;
}

interface Pool {
  running: number;
  /** The limit the newest request gave (a compose's tasks all carry the same plan, so the same limit). */
  limit: number;
  waiting: Waiter[];
}

export class SlotAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super('gave up waiting for a compose slot');
    this.name = 'SlotAbortedError';
  }
}

/** Run slots keyed by compose: at most `limit` holders per key at once, granted in arrival order. */
export class ComposeSlots {
  private readonly pools = new Map<string, Pool>();

  /** How many hold a slot of `key` now (for tests and status). */
  running(key: string): number {
    return this.pools.get(key)?.running ?? 0;
  }

  /** How many wait for a slot of `key` now. */
  waiting(key: string): number {
    return this.pools.get(key)?.waiting.length ?? 0;
  }

  /**
   * Resolves with a release function once a slot of `key` is free (`limit` at most, at least 1). Rejects with
   * SlotAbortedError when `signal` aborts first; a waiter that gives up takes no slot. Calling the release
   * function more than once releases once.
   */
  acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new SlotAbortedError(signal.reason));
    const max = Math.max(1, Math.floor(limit) || 1);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { running: 0, limit: max, waiting: [] };
      this.pools.set(key, pool);
    }
    pool.limit = max;
    const p = pool;
    const release = this.releaser(key, p);
    if (p.running < max && p.waiting.length === 0) {
      p.running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (waiter.settled) return;
        waiter.settled = true;
        p.waiting.splice(p.waiting.indexOf(waiter), 1);
        this.forget(key, p);
        reject(new SlotAbortedError(signal?.reason));
      };
      const waiter: Waiter = {
        settled: false,
        grant: () => {
          waiter.settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      p.waiting.push(waiter);
    });
  }

  private releaser(key: string, pool: Pool): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      pool.running--;
      while (pool.running < pool.limit && pool.waiting.length > 0) {
        const next = pool.waiting.shift()!;
        pool.running++;
        next.grant();
      }
      this.forget(key, pool);
    };
  }

  private forget(key: string, pool: Pool): void {
    if (pool.running === 0 && pool.waiting.length === 0 && this.pools.get(key) === pool) {
      this.pools.delete(key);
    }
  }
}
