// The one way sigrelease runs an external program (dnf, rpm, rsync, hardlink, createrepo_c, zstd/xz/bzip2,
// gpgconf, ssh-keygen …). Every run gets the same guarantees, so no caller has to remember them:
//   - no shell: the program and its arguments are an array, a name from a request can never become a command;
//   - its own process group (rsync forks; dnf may start helpers), so a kill reaches every process of the run;
//   - it dies with its worker: `setpriv --pdeathsig KILL` asks the kernel to kill the program when the worker
//     process dies, even by SIGKILL, so a retried attempt never races a dnf or rsync left behind by a dead one;
//   - cancellation (the activity's, or a caller's signal) and a timeout kill the whole group, SIGTERM first and
//     SIGKILL after a grace period, and the call settles only once the group is gone;
//   - output captured with a size cap (the end of each stream is kept: that is where tools say what went wrong);
//   - a fixed locale, so the output parsers read the words they expect.
// reference/temporal-notes.md §2.4: cancellation reaches an activity only through heartbeats; on cancellation the
// activity's CancelledFailure is re-thrown (not a process error), or the retry policy would retry a cancel.
// Exit codes are not judged here: each tool's table in src/tools/exit-codes.ts says what they mean.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { activityContext } from '../activityContext.js';
import { makePrivateTmp, removePrivateTmp } from './private-tmp.js';
import { classifyToolExit, describeToolFailure, type ExitTable, type ToolFailureClass } from './exit-codes.js';

export interface RunToolOptions {
  /** Extra environment on top of the worker's, after the fixed locale (which they may override). */
  env?: Record<string, string>;
  cwd?: string;
  /** Write stdout to this file (truncated) instead of capturing or streaming it. */
  stdoutFile?: string;
  /** Stream stdout as text (UTF-8, split on character boundaries). */
  onStdout?: (chunk: string) => void;
  /** Stream stdout as bytes (e.g. a decompressor's output that is also hashed). */
  onStdoutBytes?: (chunk: Buffer) => void;
  onStderr?: (chunk: string) => void;
  /** Keep at most this many characters of each stream in the result (its end). Default 64 KiB. */
  outputCapChars?: number;
  /** Kill the group when the program runs longer than this. */
  timeoutMs?: number;
  /** SIGTERM first; SIGKILL to the whole group after this many ms. Default 5000. */
  killGraceMs?: number;
  /** Cancels the run; default: the current activity's cancellation signal, if any. */
  signal?: AbortSignal;
  /** Text fed to the program's stdin (then closed); without it stdin is empty. */
  input?: string;
  /**
   * The program may ask the person at the terminal (ssh-keygen asking a key's passphrase on /dev/tty): it stays in
   * the caller's session instead of a group of its own, since a new session has no terminal to ask on. It still
   * dies with its parent, and a cancel or timeout kills it; only a CLI that a person runs sets this.
   */
  terminal?: boolean;
  /**
   * A TMPDIR of the run's own, removed once the group is gone, after stopping any gpg-agent the run started (they
   * inherit that TMPDIR; src/tools/private-tmp.ts): for dnf, whose signature checks start agents outside the group.
   */
  privateTmp?: boolean;
}

export interface RunToolResult {
  tool: string;
  args: readonly string[];
  exitCode: number | undefined;
  signal: string | undefined;
  /** The end of stdout (empty when streamed or written to a file), at most `outputCapChars`. */
  stdout: string;
  /** The end of stderr, at most `outputCapChars`. */
  stderr: string;
  /** The program could not be started (not installed, not executable). */
  spawnError: (Error & { code?: string }) | undefined;
  timedOut: boolean;
  durationMs: number;
  /** The process group id (= the program's pid): tests use it to prove the group is gone. */
  pgid: number | undefined;
}

/** Text capture that keeps only the end of a stream. */
class TailBuffer {
  private text = '';
  constructor(private readonly cap: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.cap * 2) this.text = this.text.slice(-this.cap);
  }
  get value(): string {
    return this.text.length > this.cap ? this.text.slice(-this.cap) : this.text;
  }
}

let setpriv: string | undefined;
/**
 * setpriv as the worker's own PATH finds it (else util-linux's place), once: a run may hand the program another
 * PATH (doctor probes the PATH it was given), and that PATH decides where the program is found, not our wrapper.
 */
function setprivPath(): string {
  setpriv ??= `${process.env.PATH ?? ''}:/usr/bin:/bin`
    .split(':')
    .filter((d) => d !== '')
    .map((d) => `${d}/setpriv`)
    .find((f) => existsSync(f)) ?? 'setpriv';
  return setpriv;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // An orderly exit of the worker: pdeathsig covers the program itself, this covers anything it forked.
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export function groupAlive(pgid: number): boolean {
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

// setpriv execs the program; when it cannot, it says so on stderr and exits 126 (not executable) or 127 (not found).
const SETPRIV_EXEC_FAILED = /^setpriv: failed to execute [^\n]*?: ([^\n]*)/m;

function spawnErrorOf(exitCode: number | undefined, stderr: string, tool: string): (Error & { code?: string }) | undefined {
  if (exitCode !== 126 && exitCode !== 127) return undefined;
  const m = SETPRIV_EXEC_FAILED.exec(stderr);
  if (!m) return undefined;
  const err: Error & { code?: string } = new Error(`cannot execute ${tool}: ${m[1]}`);
  err.code = exitCode === 127 ? 'ENOENT' : 'EACCES';
  return err;
}

/** Kills the group: SIGTERM now, SIGKILL after the grace period; returns a function that cancels the SIGKILL. */
function terminate(pgid: number, graceMs: number): () => void {
  killGroup(pgid, 'SIGTERM');
  const t = setTimeout(() => killGroup(pgid, 'SIGKILL'), graceMs);
  t.unref();
  return () => clearTimeout(t);
}

/**
 * Runs `tool args` with the guarantees above. Resolves with the exit status whatever it is (the caller classifies
 * it with the tool's exit table); rejects only with the cancellation reason, after the whole group is gone.
 */
export async function runTool(tool: string, args: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  const signal = opts.signal ?? activityContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason;
  const cap = opts.outputCapChars ?? 64 * 1024;
  const graceMs = opts.killGraceMs ?? 5000;
  const started = Date.now();
  installExitHook();

  const stdoutFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : undefined;
  const tmpDir = opts.privateTmp ? makePrivateTmp() : undefined;
  const child = spawn(setprivPath(), ['--pdeathsig', 'KILL', '--', tool, ...args], {
    detached: !opts.terminal,
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', stdoutFd ?? 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', LANG: 'C', ...opts.env, ...(tmpDir ? { TMPDIR: tmpDir } : {}) },
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  // A program that exits before reading all of its input must not fail the run with EPIPE: its exit code speaks.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(opts.input);
  // In the caller's session the pid is no group of its own: never signal -pid then.
  const pgid = opts.terminal ? undefined : child.pid;
  if (pgid !== undefined) liveGroups.add(pgid);

  const stdout = new TailBuffer(cap);
  const stderr = new TailBuffer(cap);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr.push(d);
    opts.onStderr?.(d);
  });
  if (child.stdout) {
    if (opts.onStdoutBytes) {
      child.stdout.on('data', (d: Buffer) => opts.onStdoutBytes!(d));
    } else {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (opts.onStdout ? opts.onStdout(d) : stdout.push(d)));
    }
  }

  let stopKill: (() => void) | undefined;
  let timedOut = false;
  const kill = () => {
    if (pgid === undefined) child.kill('SIGKILL');
    else if (!stopKill) stopKill = terminate(pgid, graceMs);
  };
  signal?.addEventListener('abort', kill, { once: true });
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutMs)
    : undefined;

  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, sig) => resolve({ code, signal: sig }));
    });
    // The program has exited; what it forked may not have. Nothing of the run may outlive the call.
    if (pgid !== undefined && groupAlive(pgid)) {
      if (stopKill || !(await waitGroupGone(pgid, 200))) {
        kill();
        if (!(await waitGroupGone(pgid, graceMs + 2000))) killGroup(pgid, 'SIGKILL');
        await waitGroupGone(pgid, 2000);
      }
    }
    if (signal?.aborted) throw signal.reason;
    const exitCode = exit.code ?? undefined;
    const spawnError = (exit.error as Error & { code?: string }) ?? spawnErrorOf(exitCode, stderr.value, tool);
    return {
      tool,
      args,
      exitCode,
      signal: exit.signal ?? undefined,
      stdout: stdout.value,
      stderr: stderr.value,
      spawnError,
      timedOut,
      durationMs: Date.now() - started,
      pgid,
    };
  } finally {
    signal?.removeEventListener('abort', kill);
    if (timer) clearTimeout(timer);
    stopKill?.();
    if (pgid !== undefined) liveGroups.delete(pgid);
    if (tmpDir) await removePrivateTmp(tmpDir);
  }
}

/** Last `n` non-empty lines of a tool's output, for messages. */
export function tailLines(text: string, n = 8): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n)
    .join('\n');
}

/** A tool run that its exit table judged a failure, outside an activity (fixtures, scripts, the CLI). */
export class ToolFailedError extends Error {
  override name = 'ToolFailedError';
  constructor(
    message: string,
    readonly failure: ToolFailureClass,
    readonly result: RunToolResult,
  ) {
    super(message);
  }
}

/** Runs the tool and throws ToolFailedError, with its words and the end of its output, unless its table says success. */
export async function runToolChecked(tool: string, args: readonly string[], table: ExitTable, opts: RunToolOptions = {}): Promise<RunToolResult> {
  const res = await runTool(tool, args, opts);
  const failure = classifyToolExit(table, res);
  if (failure) {
    const output = tailLines(`${res.stdout}\n${res.stderr}`, 20);
    throw new ToolFailedError(describeToolFailure(failure, res, `${tool} ${args.join(' ')}`, output), failure, res);
  }
  return res;
}
