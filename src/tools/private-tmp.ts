// A TMPDIR of a tool run's own, and what is left in it stopped and removed once the run is over.
//
// Why: dnf's librepo checks a repository's signature in a temporary GnuPG home (`$TMPDIR/tmpdir.XXXXXX`), and the
// gpg-agent that GnuPG starts for it daemonizes: a new session, outside the run's process group, so killing the
// group does not reach it. librepo stops it when the check ends; a dnf killed mid-check (a cancel, a worker
// shutdown, a worker's death) leaves the agent running and its home on disk, forever. Found after full test runs:
// one agent and one `/tmp/tmpdir.*` per interrupted check.
// With a private TMPDIR per run those homes are ours to find: after the run, every gpg-agent whose --homedir lies
// inside it is stopped (gpgconf --kill, the agent's own clean exit that also removes its socket; SIGKILL if it does
// not go) and the folder removed. (An agent also ends by itself once its home is deleted: it watches it with
// inotify. Removing the folder alone would do on this GnuPG; the explicit stop does not rely on it.)
// A worker that died before it could clean up (SIGKILL) leaves its folders behind; the next worker on the host
// sweeps the folders of processes that are gone (sweepPrivateTmps).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PRIVATE_TMP_PREFIX = 'sigrelease-tmp-';

/** A fresh private TMPDIR under the system's, named with our pid so a later sweep knows whether its owner lives. */
export function makePrivateTmp(tmpRoot = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(tmpRoot, `${PRIVATE_TMP_PREFIX}${process.pid}-`));
}

export interface AgentProcess {
  pid: number;
  homedir: string;
}

/** The gpg-agent processes on this host with the GnuPG home each was started for (argv `--homedir <dir>`). */
export function gpgAgents(): AgentProcess[] {
  const found: AgentProcess[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (path.basename(argv[0] ?? '') !== 'gpg-agent') continue;
    const homedir = homedirOf(argv);
    if (homedir) found.push({ pid: Number(name), homedir });
  }
  return found;
}

function homedirOf(argv: string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--homedir') return argv[i + 1];
    if (a.startsWith('--homedir=')) return a.slice('--homedir='.length);
  }
  return undefined;
}

function inside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function gpgconfKill(homedir: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('gpgconf', ['--homedir', homedir, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    child.once('error', done); // gpgconf missing: the SIGKILL below still ends the agent
    child.once('close', done);
  });
}

/** Stops every gpg-agent whose GnuPG home lies inside `dir`; resolves with how many there were. */
export async function stopAgentsInside(dir: string): Promise<number> {
  const agents = gpgAgents().filter((a) => inside(dir, a.homedir));
  for (const home of new Set(agents.map((a) => a.homedir))) await gpgconfKill(home);
  const until = Date.now() + 2000;
  while (agents.some((a) => alive(a.pid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  for (const a of agents) {
    try {
      process.kill(a.pid, 'SIGKILL');
    } catch {
      // already gone: the usual case
    }
  }
  return agents.length;
}

/** After a run: its agents stopped, its private TMPDIR removed. Never throws (a folder left is only clutter). */
export async function removePrivateTmp(dir: string): Promise<void> {
  await stopAgentsInside(dir).catch(() => 0);
  await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * The private TMPDIRs under `tmpRoot` whose owning process is gone (a worker killed before it could clean up):
 * their agents stopped and the folders removed. Resolves with the folders swept.
 */
export async function sweepPrivateTmps(tmpRoot = os.tmpdir()): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await fs.promises.readdir(tmpRoot).catch(() => [] as string[])) {
    const m = new RegExp(`^${PRIVATE_TMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const dir = path.join(tmpRoot, name);
    await removePrivateTmp(dir);
    swept.push(dir);
  }
  return swept;
}
