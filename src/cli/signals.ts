// SIGINT, SIGTERM and SIGHUP stop `demo`, `server` and `worker`: the first asks the command to stop cleanly
// (workers drain as Temporal's shutdown does, servers stop, children are awaited), a second one ends the
// process at once after killing everything it started. The exit code is then 128 + the signal's number.
import { descendantsOf } from './processes.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];
const SIGNAL_NUMBER: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

let controller: AbortController | null = null;
let received: StopSignal | null = null;

/** Starts listening for stop signals (once per process) and returns the signal a command stops on. */
export function stopRequested(): AbortSignal {
  if (!controller) {
    controller = new AbortController();
    for (const s of STOP_SIGNALS) process.on(s, () => onStopSignal(s));
  }
  return controller.signal;
}

/** 128 + the number of the first stop signal received, or null when none came. */
export function stopExitCode(): number | null {
  return received ? 128 + SIGNAL_NUMBER[received] : null;
}

/** Rejects with the stop reason when a stop signal arrives first, so a long wait ends on Ctrl-C. */
export function untilStopped<T>(work: Promise<T>): Promise<T> {
  const signal = stopRequested();
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // A polling loop calls this many times: each call's listener goes when its work is done.
  return Promise.race([work, stopped]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Whether `e` is the reason a stop signal gave (not a failure of the command). */
export function isStopReason(e: unknown): boolean {
  return controller !== null && controller.signal.aborted && e === controller.signal.reason;
}

/** Resolves when a stop signal arrives (never, if none does). */
export function whenStopRequested(): Promise<StopSignal> {
  const signal = stopRequested();
  if (signal.aborted) return Promise.resolve(received!);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(received!), { once: true }));
}

function onStopSignal(s: StopSignal): void {
  if (received === null) {
    received = s;
    process.stderr.write(`sigrelease: ${s} received, stopping (send it again to stop at once)\n`);
    controller!.abort(new Error(`stopped by ${s}`));
    return;
  }
  for (const p of descendantsOf(process.pid)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  process.exit(128 + SIGNAL_NUMBER[s]);
}
