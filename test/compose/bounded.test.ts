import { describe, expect, it } from 'vitest';
import { runBounded } from '../../src/compose/bounded.js';

/** A promise with its resolve/reject handles, so a test decides when each item ends. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('runBounded', () => {
  it('never has more than the limit in flight and runs every item in plan order', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    await runBounded([0, 1, 2, 3, 4, 5, 6], 3, async (item) => {
      started.push(item);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      inFlight--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
  });

  it('waits for items still in flight before rethrowing the first error, and starts no new item', async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const settled: number[] = [];
    let outcome: 'pending' | 'rejected' | 'resolved' = 'pending';
    let caught: unknown;
    const run = runBounded([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      try {
        await gates[item]!.promise;
      } finally {
        settled.push(item);
      }
    }).then(
      () => (outcome = 'resolved'),
      (e: unknown) => {
        outcome = 'rejected';
        caught = e;
      },
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates[0]!.reject(new Error('cancelled'));
    await tick();
    // Item 1 is still running: the call has not returned, and item 2 did not start in lane 0's place.
    expect(outcome).toBe('pending');
    expect(started).toEqual([0, 1]);
    gates[1]!.reject(new Error('cancelled too'));
    await run;
    expect(outcome).toBe('rejected');
    expect((caught as Error).message).toBe('cancelled');
    expect(settled).toEqual([0, 1]);
    expect(started).toEqual([0, 1]);
  });

  it('treats a limit below one as one and an empty list as nothing to do', async () => {
    const order: number[] = [];
    await runBounded([5, 6], 0, async (item) => {
      order.push(item);
    });
    expect(order).toEqual([5, 6]);
    let calls = 0;
    await runBounded([], 4, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
