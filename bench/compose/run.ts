// Compose benchmark. First the real path (workflow.ts): composeSig as a child of sigRelease on a dev server, at
// 15 and 153 tasks, against the same plain loop: `overhead_ratio_15=` and `overhead_ratio_150=`, each after
// `overhead_ratio_shell_<size>=`, the same against the loop started from a shell (xargs -P). Then
// our activities in-process (prepareCompose + every runReposyncTask, `parallelism` at once)
// against plain `dnf reposync` calls with the same flags, run the way a shell loop would (output to a log
// file, same parallelism). Prints packages/s and MB/s per side; then, for the same unchanged SIG composed again
// seeded from `latest` (src/compose/seed.ts, src/compose/carryOver.ts), `seeded_downloads=<packages downloaded>`
// and `seeded_vs_fresh=<seeded compose time / fresh compose time>` (whole composes: prepare, tasks, verification,
// manifest), the median time of each step of both; `overhead_ratio_activities=<ours/plain>` (median wall times of
// prepare + tasks, what the plain loop does) and, as the last line, `overhead_ratio=` (the workflow's at 153 tasks).
//   npx tsx bench/compose/run.ts [--runs 3] [--packages 20] [--size-kb 32] [--parallelism 4] [--wide-packages 3] [--workflow-only] [--sizes 15,150] [--server-db-file]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { buildYumrepofs, startYumrepofs, type FixturePackage } from '../../test/fixtures/yumrepofs.js';
import { parseSite } from '../../src/config/load.js';
import { initRoots } from '../../src/config/roots.js';
import { releaseRequestSchema, sigFileSchema } from '../../src/config/schema.js';
import { planCompose, planTasks } from '../../src/compose/plan.js';
import { composeStamp, type Roots } from '../../src/paths.js';
import type { ComposePlan, TaskResult } from '../../src/compose/types.js';
import { createComposeActivities } from '../../activities/compose.js';
import { dirStats, median, plainReposyncLoop, pool } from './plain.js';
import { benchComposeWorkflow } from './workflow.js';
import { dnfRunsInLog } from '../../src/compose/taskLog.js';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    packages: { type: 'string', default: '20' },
    'size-kb': { type: 'string', default: '32' },
    parallelism: { type: 'string', default: '4' },
    'wide-packages': { type: 'string', default: '3' },
    'workflow-only': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '15,150' },
    'server-db-file': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opt.runs);
const PER_REPO = Number(opt.packages);
const SIZE = Number(opt['size-kb']) * 1024;
const PARALLELISM = Number(opt.parallelism);
const PROJECT = 'b0b0b0b0-1111-4222-8333-444455556666';
const REPOS = ['bench-common', 'bench-extras', 'bench-tools'];
const ARCHES = ['x86_64', 'aarch64'] as const;

/** Runs one activity in a mock activity context (typed: `env.run` does not infer the result). */
const runActivity = <I, O>(env: MockActivityEnvironment, fn: (input: I) => Promise<O>, input: I): Promise<O> => env.run(fn, input);

/**
 * Where the tasks' time went, summed over tasks (so above the wall time when they run in parallel): dnf itself
 * (from its `dnf …` header to its `exit` line in the task log) and everything else of the task (seeding, keys).
 */
async function taskSplit(logs: string, results: TaskResult[]): Promise<{ dnfSum: number; restSum: number }> {
  let dnfSum = 0;
  for (const name of await fs.readdir(logs).catch(() => [] as string[])) {
    for (const run of dnfRunsInLog(await fs.readFile(path.join(logs, name), 'utf8'))) if (run.endMs !== null) dnfSum += run.endMs - run.startMs;
  }
  const all = results.reduce((n, r) => n + r.durationMs, 0);
  return { dnfSum, restSum: all - dnfSum };
}

type Steps = Record<string, number>;
const medianSteps = (runs: Steps[]): string =>
  Object.keys(runs[0] ?? {}).map((k) => `${k} ${(median(runs.map((r) => r[k]!)) / 1000).toFixed(2)} s`).join(', ');

async function main() {
  // The real path first (bench/compose/workflow.ts): composeSig on a dev server at 15 and 153 tasks.
  const workflowRatios = await benchComposeWorkflow({ runs: RUNS, packages: PER_REPO, widePackages: Number(opt['wide-packages']), sizeBytes: SIZE, parallelism: PARALLELISM, sizes: opt.sizes.split(','), serverDbFile: opt['server-db-file'] });
  if (opt['workflow-only']) return void console.log(`overhead_ratio=${workflowRatios.at(-1)!.ratio.toFixed(3)}`);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-compose-'));
  // Closed on every way out: a failed run must not leave the fixture server holding the process open.
  let server: Awaited<ReturnType<typeof startYumrepofs>> | null = null;
  try {
    const t0 = Date.now();
    const packages: FixturePackage[] = Array.from({ length: PER_REPO }, (_, i) => ({ name: `pkg${String(i).padStart(3, '0')}`, version: '1.0', sizeBytes: SIZE }));
    const tree = await buildYumrepofs(path.join(tmp, 'upstream'), {
      projects: { [PROJECT]: Object.fromEntries(REPOS.map((r) => [r, { arches: [...ARCHES], packages }])) },
      variants: ['hashed'],
    });
    server = await startYumrepofs({ root: tree.root });
    console.log(`fixture: ${REPOS.length} repos x ${ARCHES.length} arches x 3 kinds, ${PER_REPO} source packages each, built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const roots: Roots = { composeRoot: path.join(tmp, 'compose'), stagingRoot: path.join(tmp, 's'), productionRoot: path.join(tmp, 'p') };
    const site = parseSite({ ...roots, repoBaseUrl: server.baseUrl, releases: { '9': { revision: '9.7' } }, compose: { parallelism: PARALLELISM, gpgCheck: false, repoGpgCheck: false } });
    initRoots(site); // the roots exist and carry their markers, as on a host after `sigrelease init-roots`
    const sigFile = sigFileSchema.parse({ sig: 'bench', name: 'Bench', releases: { '9': { projectId: PROJECT, repos: Object.fromEntries(REPOS.map((r) => [r, { arches: [...ARCHES] }])) } } });
    const planFor = (i: number): ComposePlan =>
      planCompose(releaseRequestSchema.parse({ release: '9', sig: 'bench', hashed: true, fullRun: true }), { sigFile, entry: sigFile.releases['9']!, revision: '9.7' }, site, composeStamp(Date.UTC(2026, 0, 1, 0, 0, i)));

    const { prepareCompose, runReposyncTask, verifyCompose, writeComposeManifest, flipLatestSymlink } = createComposeActivities({ site, catalogue: { bench: sigFile } });
    // A whole compose as composeSig runs it (prepare, every task, verification, manifest), each step timed: `ms`
    // (prepare + tasks) is what the plain loop is compared with, `totalMs` what seeded and fresh composes are.
    const ours = async (i: number) => {
      const plan = planFor(i);
      const env = new MockActivityEnvironment();
      const startedAt = new Date().toISOString();
      const start = performance.now();
      const prepared = await runActivity(env, prepareCompose, { plan, roots });
      const prepareMs = performance.now() - start;
      const results: TaskResult[] = [];
      await pool(planTasks(plan), plan.parallelism, async (task) => {
        results.push(await runActivity(env, runReposyncTask, { plan, task, ...prepared }));
      });
      const ms = performance.now() - start;
      const verify = await runActivity(env, verifyCompose, { plan, composeDir: prepared.composeDir });
      const verifyMs = performance.now() - start - ms;
      await runActivity(env, writeComposeManifest, { plan, composeDir: prepared.composeDir, tasks: results, verify, startedAt, finishedAt: new Date().toISOString() });
      const totalMs = performance.now() - start;
      const downloaded = results.reduce((n, r) => n + r.downloaded, 0);
      const steps = { prepare: prepareMs, tasks: ms - prepareMs, verify: verifyMs, manifest: totalMs - ms - verifyMs, ...(await taskSplit(prepared.layout.logs, results)) };
      return { ms, totalMs, steps, dir: prepared.layout.sigRoot, composeDir: prepared.composeDir, downloaded };
    };

    const plain = (i: number) => plainReposyncLoop(planFor(100 + i), path.join(tmp, `plain-${i}`));

    // One warm-up of each (page cache, Python bytecode), then alternate so drift hits both sides alike.
    await ours(99);
    await plain(99);
    const oursMs: number[] = [];
    const oursTotalMs: number[] = [];
    const freshSteps: Steps[] = [];
    const plainMs: number[] = [];
    let size = { files: 0, bytes: 0 };
    let lastFresh = '';
    for (let i = 0; i < RUNS; i++) {
      const a = await ours(i);
      lastFresh = a.composeDir;
      oursMs.push(a.ms);
      oursTotalMs.push(a.totalMs);
      freshSteps.push(a.steps);
      size = await dirStats(a.dir);
      const b = await plain(i);
      plainMs.push(b.ms);
      const bs = await dirStats(b.dir);
      if (bs.files !== size.files) throw new Error(`plain sync got ${bs.files} packages, ours ${size.files}`);
    }
    // Seeded: `latest` now points at a fresh compose of the same, unchanged SIG; each run seeds from it by hard
    // links and reposync fetches only what changed (nothing). Fresh runs above had no `latest` to seed from.
    await runActivity(new MockActivityEnvironment(), flipLatestSymlink, { release: '9', sig: 'bench', composeDir: lastFresh });
    const seededMs: number[] = [];
    const seededSteps: Steps[] = [];
    let seededDownloads = 0;
    for (let i = 0; i < RUNS; i++) {
      const c = await ours(200 + i);
      seededMs.push(c.totalMs);
      seededSteps.push(c.steps);
      seededDownloads = Math.max(seededDownloads, c.downloaded);
      const cs = await dirStats(c.dir);
      if (cs.files !== size.files) throw new Error(`seeded compose has ${cs.files} packages, fresh ${size.files}`);
    }
    await server.close();
    server = null;

    const report = (label: string, ms: number) =>
      console.log(`${label}: median ${(ms / 1000).toFixed(2)} s, ${(size.files / (ms / 1000)).toFixed(1)} packages/s, ${(size.bytes / 1048576 / (ms / 1000)).toFixed(2)} MB/s`);
    console.log(`${planTasks(planFor(0)).length} tasks, ${size.files} packages, ${(size.bytes / 1048576).toFixed(1)} MB per compose, parallelism ${PARALLELISM}, ${RUNS} runs`);
    report('ours (activities) ', median(oursMs));
    report('plain dnf reposync', median(plainMs));
    report('ours, whole compose', median(oursTotalMs));
    report('ours, seeded       ', median(seededMs));
    // dnfSum/restSum add up every task's time (parallel tasks overlap): a share, not a wall time.
    console.log(`fresh steps:  ${medianSteps(freshSteps)}`);
    console.log(`seeded steps: ${medianSteps(seededSteps)}`);
    console.log(`seeded_downloads=${seededDownloads}`);
    console.log(`seeded_vs_fresh=${(median(seededMs) / median(oursTotalMs)).toFixed(3)}`);
    console.log(`overhead_ratio_activities=${(median(oursMs) / median(plainMs)).toFixed(3)}`);
    console.log(`overhead_ratio=${workflowRatios.at(-1)!.ratio.toFixed(3)}`);
  } finally {
    await server?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
