// A tool run with a private TMPDIR leaves no gpg-agent behind, however it ends. The agents here are real ones,
// started the way librepo starts its own during dnf's signature check: a GnuPG home `/tmp/tmpdir.XXXXXX` (always
// under /tmp, whatever TMPDIR says) and an agent that daemonizes out of the run's process group, so killing the
// group does not reach it. What ties the agent to the run is the TMPDIR it inherited.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gpgAgents, makePrivateTmp, PRIVATE_TMP_PREFIX, sweepPrivateTmps } from '../../src/tools/private-tmp.js';
import { runTool } from '../../src/tools/run.js';

// As librepo: a home in /tmp itself, an agent for it, then the "check" goes on until killed.
const START_AGENT = 'h=$(mktemp -d /tmp/tmpdir.XXXXXX) && gpg-agent --homedir "$h" --daemon >/dev/null 2>&1 && echo "home=$h tmp=$TMPDIR"';

const homes: string[] = [];
const roots: string[] = [];
afterEach(() => {
  // Whatever a failed assertion left: no agent of these tests may outlive the file.
  for (const a of gpgAgents()) if (homes.includes(a.homedir) || roots.some((r) => a.tmpdir?.startsWith(r))) process.kill(a.pid, 'SIGKILL');
  for (const d of [...homes.splice(0), ...roots.splice(0)]) fs.rmSync(d, { recursive: true, force: true });
});

const agentOf = (home: string) => gpgAgents().filter((a) => a.homedir === home);

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function parse(out: string): { home: string; tmp: string } {
  const m = /home=(\S+) tmp=(\S+)/.exec(out);
  if (!m) throw new Error(`no home in ${JSON.stringify(out)}`);
  homes.push(m[1]!);
  return { home: m[1]!, tmp: m[2]! };
}

describe('runTool with a private TMPDIR', () => {
  it('a run killed while its agent runs (dnf cancelled mid-check) leaves neither the agent nor its home', async () => {
    const ac = new AbortController();
    let out = '';
    const run = runTool('sh', ['-c', `${START_AGENT} && exec sleep 600`], { privateTmp: true, signal: ac.signal, onStdout: (t) => (out += t) });
    await until('the agent to start', () => /home=/.test(out) && agentOf(parse(out).home).length === 1);
    const { home, tmp } = parse(out);
    expect(agentOf(home)[0]!.tmpdir).toBe(tmp);
    expect(path.basename(tmp)).toMatch(new RegExp(`^${PRIVATE_TMP_PREFIX}${process.pid}-`));
    ac.abort(new Error('cancelled'));
    await expect(run).rejects.toThrow('cancelled');
    expect(agentOf(home)).toEqual([]);
    expect(fs.existsSync(home)).toBe(false);
    expect(fs.existsSync(tmp)).toBe(false);
  });

  it('a run that ends by itself with its agent still running is cleaned up too', async () => {
    const r = await runTool('sh', ['-c', START_AGENT], { privateTmp: true });
    expect(r.exitCode).toBe(0);
    const { home, tmp } = parse(r.stdout);
    expect(agentOf(home)).toEqual([]);
    expect(fs.existsSync(home)).toBe(false);
    expect(fs.existsSync(tmp)).toBe(false);
  });

  it("leaves alone an agent that is not the run's (another dnf's check, still going)", async () => {
    const other = fs.mkdtempSync('/tmp/tmpdir.');
    homes.push(other);
    expect(spawnSync('gpg-agent', ['--homedir', other, '--daemon'], { stdio: 'ignore' }).status).toBe(0);
    const r = await runTool('sh', ['-c', START_AGENT], { privateTmp: true });
    expect(agentOf(parse(r.stdout).home)).toEqual([]);
    expect(agentOf(other)).toHaveLength(1);
    expect(fs.existsSync(other)).toBe(true);
  });

  it('without the option the run keeps the worker TMPDIR', async () => {
    const r = await runTool('sh', ['-c', 'echo "$TMPDIR"'], { env: { TMPDIR: '/var/tmp' } });
    expect(r.stdout.trim()).toBe('/var/tmp');
  });
});

describe('sweepPrivateTmps', () => {
  it("stops the agents and removes the folders of a dead worker, and leaves a live process's alone", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-sweep-'));
    roots.push(root);
    // A pid that certainly belonged to a process that is gone now.
    const deadPid = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    const dead = path.join(root, `${PRIVATE_TMP_PREFIX}${deadPid}-abc123`);
    fs.mkdirSync(dead);
    const started = spawnSync('sh', ['-c', START_AGENT], { encoding: 'utf8', env: { ...process.env, TMPDIR: dead } });
    expect(started.status).toBe(0);
    const { home } = parse(started.stdout);
    expect(agentOf(home)).toHaveLength(1);
    const live = makePrivateTmp(root);

    expect(await sweepPrivateTmps(root)).toEqual([dead]);
    expect(agentOf(home)).toEqual([]);
    expect(fs.existsSync(home)).toBe(false);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });
});
