// The one tool runner, against real processes: what every external program of sigrelease gets.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyToolExit, DNF_EXITS, REPOCLOSURE_EXITS, RPM_EXITS, describeToolFailure } from '../../src/tools/exit-codes.js';
import { groupAlive, runTool, runToolChecked, ToolFailedError } from '../../src/tools/run.js';

const RUN_TS = fileURLToPath(new URL('../../src/tools/run.ts', import.meta.url));

function pidAlive(pid: number): boolean {
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runTool', () => {
  it('runs without a shell: an argument is never a command', async () => {
    const r = await runTool('echo', ['$(touch /tmp/never)', ';', 'rm -rf /']);
    expect(r).toMatchObject({ exitCode: 0, stdout: '$(touch /tmp/never) ; rm -rf /\n', spawnError: undefined });
  });

  it('keeps only the end of long output, within the cap', async () => {
    const r = await runTool('sh', ['-c', 'seq 1 100000; seq 1 50000 >&2; exit 3'], { outputCapChars: 1000 });
    expect(r.exitCode).toBe(3);
    expect(r.stdout.length).toBeLessThanOrEqual(1000);
    expect(r.stdout.endsWith('99999\n100000\n')).toBe(true);
    expect(r.stderr.length).toBeLessThanOrEqual(1000);
    expect(r.stderr.endsWith('50000\n')).toBe(true);
  });

  it('streams stdout as bytes or text, and stderr, to callbacks', async () => {
    const bytes: Buffer[] = [];
    const errs: string[] = [];
    await runTool('sh', ['-c', 'printf "\\303\\251t\\303\\251"; echo warn >&2'], { onStdoutBytes: (b) => bytes.push(b), onStderr: (t) => errs.push(t) });
    expect(Buffer.concat(bytes).toString('utf8')).toBe('été');
    expect(errs.join('')).toBe('warn\n');
  });

  it('feeds input on stdin, and a program that ignores its input still reports its own exit code', async () => {
    expect(await runTool('sha256sum', [], { input: 'signed message\n' })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}  -\n$/) });
    expect(await runTool('sh', ['-c', 'exit 7'], { input: 'x'.repeat(1 << 20) })).toMatchObject({ exitCode: 7, spawnError: undefined });
  });

  it('keeps a program that may ask on the terminal in the caller\'s session, and still kills it on timeout', async () => {
    const own = await runTool('sh', ['-c', 'ps -o sid= -p $$']);
    const terminal = await runTool('sh', ['-c', 'ps -o sid= -p $$'], { terminal: true });
    expect(Number(own.stdout.trim())).toBe(own.pgid);
    expect(Number(terminal.stdout.trim())).toBe(Number((await runTool('ps', ['-o', 'sid=', '-p', String(process.pid)])).stdout.trim()));
    expect(terminal.pgid).toBeUndefined();
    const slow = await runTool('sleep', ['30'], { terminal: true, timeoutMs: 200 });
    expect(slow).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });

  it('reports a program that is not installed as a spawn error, which the exit table calls missing', async () => {
    const r = await runTool('sigrelease-no-such-tool', ['x']);
    expect(r.spawnError?.code).toBe('ENOENT');
    expect(classifyToolExit(DNF_EXITS, r)).toMatchObject({ type: 'DnfNotFound', retryable: false });
  });

  it('kills the whole process group on cancellation and settles only once it is gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtool-'));
    const pidFile = path.join(dir, 'grandchild');
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    // A program that forks a grandchild ignoring SIGTERM: only the group SIGKILL after the grace ends it.
    const run = runTool('sh', ['-c', `sh -c 'trap "" TERM; sleep 300' & echo $! > ${pidFile}; wait`], { signal: controller.signal, killGraceMs: 300 });
    await until('the grandchild to start', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pidAlive(grandchild)).toBe(true);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(pidAlive(grandchild)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('kills a program that outlives its timeout', async () => {
    const r = await runTool('sleep', ['300'], { timeoutMs: 200, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(groupAlive(r.pgid!)).toBe(false);
    expect(classifyToolExit(DNF_EXITS, r)).toMatchObject({ type: 'DnfTimedOut', retryable: true });
  });

  it('ends the program when the process that started it dies by SIGKILL (no cleanup code runs)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtool-'));
    const pidFile = path.join(dir, 'tool');
    const script = `import { runTool } from ${JSON.stringify(RUN_TS)};\nawait runTool('sh', ['-c', 'echo $$ > ${pidFile}; exec sleep 300']);\n`;
    fs.writeFileSync(path.join(dir, 'starter.mts'), script);
    const starter = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'starter.mts')], { stdio: 'ignore', cwd: path.dirname(RUN_TS) });
    await until('the tool to start', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 30_000);
    const tool = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pidAlive(tool)).toBe(true);
    starter.kill('SIGKILL');
    await until('the tool to die with its starter', () => !pidAlive(tool));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('exit tables', () => {
  it('maps each tool’s codes to a stable type and retryability', () => {
    expect(classifyToolExit(DNF_EXITS, { exitCode: 0 })).toBeNull();
    expect(classifyToolExit(DNF_EXITS, { exitCode: 200 })).toMatchObject({ type: 'DnfLocked', retryable: true });
    expect(classifyToolExit(DNF_EXITS, { exitCode: 42 })).toMatchObject({ type: 'DnfFailed', meaning: 'dnf failed' });
    expect(classifyToolExit(DNF_EXITS, { exitCode: null, signal: 'SIGKILL' })).toMatchObject({ type: 'DnfKilled', retryable: true, meaning: 'dnf was killed by SIGKILL' });
    // repoclosure's 1 is a verdict (unresolved dependencies), read from its output.
    expect(classifyToolExit(REPOCLOSURE_EXITS, { exitCode: 1 })).toBeNull();
    expect(classifyToolExit(RPM_EXITS, { exitCode: 1 })).toMatchObject({ type: 'RpmFailed', retryable: false });
  });

  it('says what failed, with the code and what to do', async () => {
    const cls = classifyToolExit(RPM_EXITS, { exitCode: 1 })!;
    expect(describeToolFailure(cls, { exitCode: 1 }, 'rpm --import of K', 'error: K: import read failed(2).')).toBe(
      'rpm --import of K: exit code 1 (rpm failed). Not retryable: check that the key file is an armored OpenPGP public key (the SIG catalogue names its URL).\nLast output lines:\nerror: K: import read failed(2).',
    );
    const err = await runToolChecked('sh', ['-c', 'echo nope >&2; exit 1'], RPM_EXITS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolFailedError);
    expect((err as ToolFailedError).message).toMatch(/^sh -c echo nope >&2; exit 1: exit code 1 \(rpm failed\)[\s\S]*\nnope$/);
  });
});
