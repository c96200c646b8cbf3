// A TMPDIR of a tool run's own, and any gpg-agent the run left behind stopped once the run is over.
//
// Why: dnf's librepo checks a repository's signature in a temporary GnuPG home, `/tmp/tmpdir.XXXXXX` (always
// under /tmp: librepo ignores TMPDIR for it, seen with strace), and the gpg-agent GnuPG starts for it daemonizes
// into a session of its own, so killing the run's process group does not reach it. librepo stops it and removes
// the home when the check ends; a dnf killed mid-check (a cancel, a worker shutdown, a worker's death) leaves both
// for good. Found after full test runs: one agent and one `/tmp/tmpdir.*` per interrupted check.
// What marks an agent as the run's: it inherits dnf's environment, so its TMPDIR is the run's private folder
// (`/proc/<pid>/environ`). After the run every such agent is stopped (gpgconf --kill, its own clean exit that also
// removes its socket; SIGKILL if it does not go), librepo's orphaned home removed, and the folder removed.
// A worker that died before it could clean up (SIGKILL) leaves its folders behind; the next worker on the host
// sweeps the folders, and the agents, of processes that are gone (sweepPrivateTmps).
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
  /** The GnuPG home it serves (argv `--homedir <dir>`). */
  homedir: string;
  /** TMPDIR in its environment: inherited from the run that started it. */
  tmpdir: string | undefined;
}

/** The gpg-agent processes on this host we may read, with their GnuPG home and inherited TMPDIR. */
export function gpgAgents(): AgentProcess[] {
  const found: AgentProcess[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    let environ: string[];
    try {
      argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '') !== 'gpg-agent') continue;
      environ = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or another user's
    }
    const homedir = homedirOf(argv);
    const tmpdir = environ.find((e) => e.startsWith('TMPDIR='))?.slice('TMPDIR='.length);
    if (homedir) found.push({ pid: Number(name), homedir, tmpdir });
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

// Not through runTool: this runs inside runTool's own clean-up, also after a cancel (runTool refuses to start under
// an aborted signal), and gpgconf only asks the agent to exit; it gets a timeout of its own.
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

/** librepo's temporary GnuPG home: `tmpdir.` and six characters, directly in /tmp. */
const LIBREPO_HOME = /^tmpdir\.[A-Za-z0-9]{6}$/;
function isLibrepoHome(dir: string): boolean {
  return LIBREPO_HOME.test(path.basename(dir)) && ['/tmp', os.tmpdir()].includes(path.dirname(dir));
}

/**
 * Stops every gpg-agent that belongs to the run whose private TMPDIR is `dir` (its inherited TMPDIR is `dir`, or
 * its home lies inside it) and removes librepo's home of each; resolves with how many there were.
 */
export async function stopAgentsOf(dir: string): Promise<number> {
  const agents = gpgAgents().filter((a) => a.tmpdir === dir || inside(dir, a.homedir));
  for (const home of new Set(agents.map((a) => a.homedir))) await gpgconfKill(home);
  const until = Date.now() + 2000;
  while (agents.some((a) => alive(a.pid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  // Those still there after gpgconf asked them to go; looked up again, so a pid reused meanwhile is not hit.
  const stuck = new Set(gpgAgents().map((a) => a.pid));
  for (const a of agents) {
    if (!stuck.has(a.pid)) continue;
    try {
      process.kill(a.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (const a of agents) {
    if (isLibrepoHome(a.homedir)) await fs.promises.rm(a.homedir, { recursive: true, force: true }).catch(() => undefined);
  }
  return agents.length;
}

/** After a run: its agents stopped, its private TMPDIR removed. Never throws (a folder left is only clutter). */
export async function removePrivateTmp(dir: string): Promise<void> {
  await stopAgentsOf(dir).catch(() => 0);
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
