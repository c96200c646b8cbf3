// Runs `bin/sigrelease` as an operator's shell would (its own process group), records its output, and watches
// its process tree while it runs, so a test can signal it and then check that nothing it started is left.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { descendantsOf, processTable, type ProcessEntry } from '../../src/cli/processes.js';
import { BIN } from './bad-input-cases.js';

export class WatchedCli {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every process seen below the CLI while it ran, by pid. */
  readonly seen = new Map<number, ProcessEntry>();
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly poll: NodeJS.Timeout;

  constructor(args: string[], env: Record<string, string | undefined> = {}) {
    const fullEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    // The runner's variables would make the CLI behave as under test; it must behave as for a person.
    for (const k of ['VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete fullEnv[k];
    this.child = spawn(BIN, args, { env: fullEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid!;
    this.child.stdout!.on('data', (d) => (this.stdout += String(d)));
    this.child.stderr!.on('data', (d) => (this.stderr += String(d)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.poll = setInterval(() => this.look(), 100);
    void this.exited.then(() => clearInterval(this.poll));
  }

  private look(): void {
    // A child may be sampled between fork and exec (as `setpriv`, or as a copy of its parent): keep the newest
    // name, so that a process is known by what it became.
    for (const p of descendantsOf(this.pid)) if (this.seen.get(p.pid)?.comm !== p.comm) this.seen.set(p.pid, p);
  }

  /** Waits until `test` holds for the output or the process tree; fails if the CLI exits first. */
  async waitFor(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`sigrelease exited before ${what}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  seenNamed(comm: string): ProcessEntry[] {
    return [...this.seen.values()].filter((p) => p.comm === comm);
  }

  /** Sends `signal` to the CLI alone (not its group: the CLI must pass the stop on itself). */
  signal(signal: NodeJS.Signals): void {
    this.look();
    process.kill(this.pid, signal);
  }

  /**
   * What is still running of everything the CLI started: processes seen below it that still exist (same pid, not
   * a zombie), and any process left in its process group.
   */
  leftovers(): ProcessEntry[] {
    const now = processTable().filter((p) => p.state !== 'Z' && p.state !== 'X');
    return now.filter((p) => (this.seen.has(p.pid) && this.seen.get(p.pid)!.comm === p.comm) || p.pgid === this.pid);
  }

  /** Ends whatever a failed test left (SIGKILL to the group and to every process seen). */
  cleanUp(): void {
    clearInterval(this.poll);
    for (const p of [...this.leftovers(), { pid: -this.pid }]) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

export const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export function fileExists(file: string): boolean {
  return fs.existsSync(file);
}
