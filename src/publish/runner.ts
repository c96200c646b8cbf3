// Process plumbing for the publish activities (not pure): run a tool with heartbeats and cancellation.
//
// reference/temporal-notes.md §2.4: cancellation reaches an activity only through heartbeats, so heartbeat on a
// timer while the tool runs; on cancellation kill the tool and re-throw the CancelledFailure (not execa's error),
// or the worker reports a plain failure that the retry policy retries. rsync forks (a local copy runs three
// processes; the sender stops the others only after its own signal handling), so the tool runs in its own process
// group and the whole group is killed, then awaited: when the activity settles, no rsync of it is left.
// Outside an activity (plain tests, scripts) there is no context: heartbeats are skipped, nothing can cancel.
import { Context } from '@temporalio/activity';
import { execa } from 'execa';

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

export interface RunToolOptions {
  /** Write stdout to this file instead of passing it to `onStdout`. */
  stdoutFile?: string;
  onStdout?: (chunk: string) => void;
  /** SIGTERM first; SIGKILL to the whole group after this many ms. */
  killGraceMs?: number;
  /** Keep at most this many characters of stderr (the end). */
  stderrTailChars?: number;
}

export interface RunToolResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stderr: string;
  /** spawn failure (e.g. ENOENT: tool not installed). */
  spawnError: (Error & { code?: string }) | undefined;
  durationMs: number;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Detached groups do not die with us; do not leave an rsync writing into production behind a dead worker.
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGTERM');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Runs `cmd args` (no shell) in its own process group with LC_ALL=C. Resolves with the exit status (never rejects
 * for a non-zero exit: the caller classifies it). Rejects with the activity's CancelledFailure when cancelled,
 * after the whole process group is gone.
 */
export async function runTool(cmd: string, args: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  const signal = activityContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason;
  const killGraceMs = opts.killGraceMs ?? 5000;
  const tailChars = opts.stderrTailChars ?? 64 * 1024;
  const started = Date.now();
  installExitHook();

  // setpriv --pdeathsig: the kernel kills the tool when the worker dies, so no rsync outlives a killed worker.
  const sub = execa('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], {
    detached: true,
    cancelSignal: signal,
    forceKillAfterDelay: killGraceMs,
    reject: false,
    stdin: 'ignore',
    stdout: opts.stdoutFile ? { file: opts.stdoutFile } : 'pipe',
    stderr: 'pipe',
    buffer: false,
    env: { LC_ALL: 'C', LANG: 'C' },
  });
  const pid = sub.pid;
  if (pid !== undefined) liveGroups.add(pid);

  let stderr = '';
  sub.stderr?.setEncoding('utf8');
  sub.stderr?.on('data', (d: string) => {
    stderr += d;
    if (stderr.length > tailChars * 2) stderr = stderr.slice(-tailChars);
  });
  if (!opts.stdoutFile) {
    sub.stdout?.setEncoding('utf8');
    sub.stdout?.on('data', (d: string) => opts.onStdout?.(d));
  }

  let forceTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    forceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), killGraceMs);
    forceTimer.unref();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await sub;
    if (signal?.aborted && (result.failed || result.isCanceled)) {
      if (pid !== undefined && !(await waitGroupGone(pid, killGraceMs + 2000))) killGroup(pid, 'SIGKILL');
      if (pid !== undefined) await waitGroupGone(pid, 2000);
      throw signal.reason;
    }
    const spawnError = result.exitCode === undefined && result.signal === undefined ? (result as unknown as { cause?: Error & { code?: string } }).cause : undefined;
    return {
      exitCode: result.exitCode,
      signal: result.signal,
      stderr: stderr.length > tailChars ? stderr.slice(-tailChars) : stderr,
      spawnError,
      durationMs: Date.now() - started,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (forceTimer) clearTimeout(forceTimer);
    if (pid !== undefined) liveGroups.delete(pid);
  }
}
