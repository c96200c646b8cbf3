// Bounded parallelism for the compose child workflow, kept free of I/O so the workflow bundle can import it.

/**
 * Runs `work` over `items` with at most `limit` in flight, in plan order. When one item throws (a
 * cancellation, typically), no further item starts, and the call waits until every item already in
 * flight has settled before it rethrows the first error: a cancelled compose returns only once each
 * running reposync activity has reported back, so no dnf outlives the workflow that started it.
 */
export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { error: unknown } | null = null;
  const lane = async () => {
    while (firstError === null && next < items.length) {
      const i = next++;
      try {
        await work(items[i]!, i);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
}

/**
 * How many reposync tasks a compose keeps scheduled beyond its parallelism ('reposync-lookahead'): each waits at
 * the worker for a run slot (src/compose/slots.ts), so a finished task's successor starts at once instead of after
 * a round trip through the server and a workflow task. Small, because a waiting task holds one of the host
 * worker's activity slots, which other composes on the host could use.
 */
export function reposyncLookahead(parallelism: number): number {
  return Math.min(2, Math.max(1, Math.floor(parallelism) || 1));
}
