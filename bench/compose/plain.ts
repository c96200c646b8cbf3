// What bench/compose compares against, shared by its in-process part (run.ts) and its workflow part
// (workflow.ts): plain `dnf reposync` calls with our flags, run the way a shell loop would (output to a log
// file, `parallelism` at once), plus the small helpers both parts use.
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import { renderDnfConfig } from '../../src/compose/dnfConfig.js';
import { planTasks } from '../../src/compose/plan.js';
import { buildReposyncArgs } from '../../src/compose/reposyncOutput.js';
import type { ComposePlan, ReposyncTask } from '../../src/compose/types.js';

/** Runs `fn` over `items`, at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Packages (`*.rpm`) under `dir` and their bytes. */
export async function dirStats(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.rpm')) {
        files++;
        bytes += (await fs.stat(p)).size;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}

/** What both plain loops start from under `base`: a log folder, dnf's folder and the plan's dnf config. */
async function plainSetup(plan: ComposePlan, base: string): Promise<{ dnfDir: string; cfg: string }> {
  const dnfDir = path.join(base, 'dnf');
  await fs.mkdir(path.join(base, 'logs'), { recursive: true });
  const cfg = path.join(dnfDir, 'dnf.conf');
  await fs.mkdir(dnfDir, { recursive: true });
  await fs.writeFile(cfg, renderDnfConfig(plan, { cacheDir: path.join(dnfDir, 'cache'), logDir: path.join(dnfDir, 'log'), persistDir: path.join(dnfDir, 'persist'), reposDir: path.join(dnfDir, 'none') }));
  return { dnfDir, cfg };
}

/**
 * Every task of `plan` as a plain `dnf reposync … > log 2>&1` under `base`, `plan.parallelism` at once.
 * Returns the wall time in ms and where the packages went.
 */
export async function plainReposyncLoop(plan: ComposePlan, base: string): Promise<{ ms: number; dir: string }> {
  const start = performance.now();
  const { dnfDir, cfg } = await plainSetup(plan, base);
  await pool(planTasks(plan), plan.parallelism, async (task: ReposyncTask) => {
    const stateDir = path.join(dnfDir, 'state', task.name);
    await fs.mkdir(path.join(stateDir, 'log'), { recursive: true });
    const args = buildReposyncArgs(plan, task, { dnfConfigPath: cfg, destDir: path.join(base, 'sync', task.relDir), rpmRoot: null, stateDir });
    const log = { file: path.join(base, 'logs', task.logName), append: true };
    await execa('dnf', args, { stdout: log, stderr: log, stdin: 'ignore', env: { LC_ALL: 'C.UTF-8' } });
  });
  return { ms: performance.now() - start, dir: path.join(base, 'sync') };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The same loop driven from a shell, as the seed's scripts run it: one command line per task, `xargs -P
 * parallelism` starting each (`mkdir -p` of its state folder, then `dnf reposync … >> log 2>&1`). Every dnf is
 * forked by a small process, not by this large one. Returns the wall time in ms and where the packages went.
 */
export async function plainReposyncShell(plan: ComposePlan, base: string): Promise<{ ms: number; dir: string }> {
  const { dnfDir, cfg } = await plainSetup(plan, base);
  const lines = planTasks(plan).map((task) => {
    const stateDir = path.join(dnfDir, 'state', task.name);
    const args = buildReposyncArgs(plan, task, { dnfConfigPath: cfg, destDir: path.join(base, 'sync', task.relDir), rpmRoot: null, stateDir });
    return `mkdir -p ${shellQuote(path.join(stateDir, 'log'))} && dnf ${args.map(shellQuote).join(' ')} >> ${shellQuote(path.join(base, 'logs', task.logName))} 2>&1`;
  });
  const commands = path.join(base, 'commands');
  await fs.writeFile(commands, `${lines.join('\n')}\n`);
  const start = performance.now();
  // xargs fails (123) when any command failed: so does the plain loop.
  await execa('xargs', ['-d', '\n', '-P', String(plan.parallelism), '-n', '1', 'sh', '-c'], { inputFile: commands, stdout: 'ignore', stderr: 'inherit', env: { LC_ALL: 'C.UTF-8' } });
  return { ms: performance.now() - start, dir: path.join(base, 'sync') };
}
