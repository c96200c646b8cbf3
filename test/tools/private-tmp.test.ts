// A tool run with a private TMPDIR leaves no gpg-agent and no folder behind, however it ends: the agents here are
// real ones, started the way librepo starts its own (a GnuPG home inside TMPDIR, an agent that daemonizes out of the
// run's process group), so killing the group alone does not reach them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gpgAgents, makePrivateTmp, PRIVATE_TMP_PREFIX, sweepPrivateTmps } from '../../src/tools/private-tmp.js';
import { runTool } from '../../src/tools/run.js';

// Start an agent for a home inside $TMPDIR (as librepo's signature check does), say where, then wait to be killed.
const START_AGENT = 'h="$TMPDIR/tmpdir.test"; mkdir -m 700 "$h" && gpg-agent --homedir "$h" --daemon >/dev/null 2>&1 && echo "$h" && exec sleep 600';

const roots: string[] = [];
afterEach(() => {
  // Whatever a failed assertion left: no agent of these roots may outlive the test file.
  for (const root of roots.splice(0)) {
    for (const a of gpgAgents()) if (a.homedir.startsWith(root)) process.kill(a.pid, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

function agentsInside(dir: string) {
  return gpgAgents().filter((a) => a.homedir.startsWith(`${dir}/`));
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('runTool with a private TMPDIR', () => {
  it('a run killed while its agent runs (dnf cancelled mid-check) leaves neither the agent nor its home', async () => {
    const ac = new AbortController();
    let home = '';
    const run = runTool('sh', ['-c', START_AGENT], { privateTmp: true, signal: ac.signal, onStdout: (t) => (home += t.trim()) });
    await until('the agent to start', () => home !== '' && gpgAgents().some((a) => a.homedir === home));
    const tmp = path.dirname(home);
    expect(path.basename(tmp)).toMatch(new RegExp(`^${PRIVATE_TMP_PREFIX}${process.pid}-`));
    ac.abort(new Error('cancelled'));
    await expect(run).rejects.toThrow('cancelled');
    expect(agentsInside(tmp)).toEqual([]);
    expect(fs.existsSync(tmp)).toBe(false);
  });

  it('a run that ends by itself is cleaned up too, and the program saw the folder as its TMPDIR', async () => {
    const r = await runTool('sh', ['-c', `${START_AGENT.replace(' && exec sleep 600', '')}; echo "tmp=$TMPDIR"`], { privateTmp: true });
    expect(r.exitCode).toBe(0);
    const tmp = /tmp=(.*)/.exec(r.stdout)![1]!;
    expect(r.stdout).toContain(`${tmp}/tmpdir.test`);
    expect(agentsInside(tmp)).toEqual([]);
    expect(fs.existsSync(tmp)).toBe(false);
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
    fs.mkdirSync(path.join(dead, 'tmpdir.x'), { recursive: true, mode: 0o700 });
    const agent = spawnSync('gpg-agent', ['--homedir', path.join(dead, 'tmpdir.x'), '--daemon'], { stdio: 'ignore' });
    expect(agent.status).toBe(0);
    expect(agentsInside(dead)).toHaveLength(1);
    const live = makePrivateTmp(root);

    expect(await sweepPrivateTmps(root)).toEqual([dead]);
    expect(agentsInside(dead)).toEqual([]);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });
});
