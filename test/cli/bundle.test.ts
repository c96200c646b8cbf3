// The short commands start from the bundled CLI (scripts/bundle-cli.mjs, dist/cli/): a bundle that lost a
// command's chunk, Node's require() in a CommonJS package, or the Temporal SDK outside it would fail only when that
// command runs. Bundles the current sources the way set-up bundles dist/, then runs every command through it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseFolder, closedPort, type Outcome } from './bad-input-cases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the project, as dist/cli is: the SDK outside the bundle resolves from the project's node_modules.
const OUT = path.join(ROOT, 'dist', `.bundle-test-${process.pid}`);

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ exitCode: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('the bundled CLI', () => {
  const main = path.join(OUT, 'main.js');
  beforeAll(async () => {
    const r = await run(path.join(ROOT, 'scripts/bundle-cli.mjs'), [OUT, path.join(ROOT, 'src/cli/main.ts')]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  }, 120_000);
  afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

  it('is a few files, none of them zod locales or the Temporal SDK', () => {
    const files = fs.readdirSync(OUT);
    expect(files).toContain('main.js');
    expect(files.length).toBeLessThan(120);
    const text = files.map((f) => fs.readFileSync(path.join(OUT, f), 'utf8')).join('\n');
    expect(text).not.toMatch(/Ungültige Eingabe/); // zod's German locale: left out, nothing uses it
    expect(text).toMatch(/from "@temporalio\/client"|import\("@temporalio\/client"\)/);
  });

  it('loads every command it lists', async () => {
    const help = await run(main, ['--help']);
    expect(help.exitCode).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['start', 'approve', 'status', 'schedule', 'worker', 'doctor', 'lists', 'filelist']));
    for (let i = 0; i < commands.length; i += 2) {
      const batch = commands.slice(i, i + 2);
      const outs = await Promise.all(batch.map((c) => run(main, [c, '--help'])));
      batch.forEach((c, j) => {
        expect(outs[j]!.stderr, c).toBe('');
        expect(outs[j]!.exitCode, c).toBe(0);
        expect(outs[j]!.stdout, c).toContain(`Usage: sigrelease ${c}`);
      });
    }
  }, 120_000);

  it('refuses bad input, and reaches for the server through the Temporal SDK when the input is good', async () => {
    const { dir, env } = caseFolder(`127.0.0.1:${await closedPort()}`);
    try {
      const refused = await run(main, ['start', '--release', '9', '--sig', 'cor'], env);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain('unknown SIG "cor"; known: altarch, cloud, core');
      // Good input: the SDK loads from node_modules and fails to connect (nothing listens), which is not exit 2.
      const status = await run(main, ['status', '9', 'core'], env);
      expect(status.stderr).not.toMatch(/Cannot find (module|package)|Dynamic require/);
      expect(status.exitCode).not.toBe(0);
      expect(status.exitCode).not.toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bin/sigrelease finds its checkout however it is called', () => {
  const bin = path.join(ROOT, 'bin', 'sigrelease');
  const call = (file: string, args: string[], cwd: string): Promise<Outcome> =>
    new Promise((resolve) => {
      execFile(file, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ exitCode: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });

  it('by its absolute path, relative to the checkout, through a symlink elsewhere, and through bash', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bin-'));
    try {
      const link = path.join(elsewhere, 'sigrelease');
      fs.symlinkSync(bin, link);
      const outs = [
        await call(bin, ['--help'], elsewhere),
        await call('bin/sigrelease', ['--help'], ROOT),
        await call('./sigrelease', ['--help'], path.join(ROOT, 'bin')),
        await call(link, ['--help'], elsewhere),
        await call('bash', [path.relative(elsewhere, bin), '--help'], elsewhere),
      ];
      outs.forEach((o, i) => {
        expect(o.stderr, `call ${i}`).toBe('');
        expect(o.exitCode, `call ${i}`).toBe(0);
        expect(o.stdout, `call ${i}`).toContain('Usage: sigrelease');
      });
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 120_000);
});
