// CLI start-up benchmark: wall time and peak RSS of `sigrelease --help`, of a refused bad input, and of `status`
// against a running dev server (a worker in this process answers the query), next to an empty `node` and the
// `temporal` CLI. Each command runs --runs times (after one warm-up); the table shows median, min and max.
// Runs the built CLI (bin/sigrelease with a current dist/: build it first with `bash scripts/setup.sh`), and with
// --source also the TypeScript through tsx, as before the build. Last line: `cli_help_s=<median>`.
//   npx tsx bench/cli/run.ts [--runs 7] [--source]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { startDevServer, temporalCliPath } from '../../src/devserver.js';
import { connectClient, startRelease } from '../../src/client.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { createWorkers } from '../../src/worker.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '7' }, source: { type: 'boolean', default: false } } });
const RUNS = Number(opt.runs);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/sigrelease');

interface Sample {
  wallS: number;
  rssMb: number;
  exitCode: number;
}

/** One run under GNU time: wall seconds and peak RSS of the whole command (the bash wrapper exec's node). */
function timed(cmd: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const out = path.join(os.tmpdir(), `sigrelease-bench-cli-${process.pid}.time`);
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-o', out, '-f', '%e %M %x', ...cmd], { env }, () => {
      const [wall, rss, code] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      if (wall === undefined || rss === undefined) reject(new Error(`no figures for ${cmd.join(' ')}`));
      else resolve({ wallS: wall, rssMb: rss / 1024, exitCode: code ?? -1 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, cmd: string[], env: NodeJS.ProcessEnv, expectExit: number): Promise<number> {
  await timed(cmd, env); // warm the page cache
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timed(cmd, env));
  const bad = samples.find((s) => s.exitCode !== expectExit);
  if (bad) throw new Error(`${label}: exit code ${bad.exitCode}, expected ${expectExit}`);
  const wall = samples.map((s) => s.wallS);
  const rss = samples.map((s) => s.rssMb);
  console.log(`${label.padEnd(44)} ${median(wall).toFixed(2).padStart(8)} ${Math.min(...wall).toFixed(2).padStart(6)} ${Math.max(...wall).toFixed(2).padStart(6)} ${Math.max(...rss).toFixed(0).padStart(10)}`);
  return median(wall);
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') }); // the run below fails on purpose; its warnings are noise here
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bench-cli-'));
  const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  const siteRaw = localSiteRaw(dir, { repoBaseUrl: 'http://127.0.0.1:9/v1/projects', overrides: { temporal: { address: server.address, namespace: server.namespace, taskQueue: 'bench-cli' } } });
  const siteFile = path.join(dir, 'site.yaml');
  fs.writeFileSync(siteFile, YAML.stringify(siteRaw));
  const site = parseSite(siteRaw, siteFile);
  const catalogue = loadCatalogue();
  const { workers, close } = await createWorkers({ address: server.address, namespace: server.namespace, site, catalogue, queues: ['control', 'host'] });
  const running = workers.map((w) => w.run());
  try {
    // A dry run with no compose to update ends at once (failed: nothing to update in place, no repository asked);
    // `status` still asks the worker for its state with a query, which is the round trip measured.
    const client = await connectClient(site);
    const handle = await startRelease(client, site, catalogue, { release: '9', sig: 'core', dryRun: true, requestedBy: 'bench' });
    await handle.result().catch(() => undefined);
    await client.connection.close();

    const env: NodeJS.ProcessEnv = { ...process.env, SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
    delete env.SIGRELEASE_DEBUG;
    const distCurrent = fs.existsSync(path.join(ROOT, 'dist/.built'));
    console.log(`${RUNS} runs each after one warm-up; ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}; dist/ ${distCurrent ? 'built' : 'MISSING: bin/sigrelease runs the sources through tsx'}`);
    console.log(`${'command'.padEnd(44)} ${'median_s'.padStart(8)} ${'min_s'.padStart(6)} ${'max_s'.padStart(6)} ${'max_rss_mb'.padStart(10)}`);
    await measure('node -e 0', ['node', '-e', '0'], env, 0);
    await measure('temporal --help', [temporalCliPath(), '--help'], env, 0);
    if (opt.source) {
      const tsx = ['node', '--import', path.join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), path.join(ROOT, 'src/cli/main.ts')];
      await measure('sigrelease --help (sources through tsx)', [...tsx, '--help'], env, 0);
      await measure('sigrelease status 9 core (sources through tsx)', [...tsx, 'status', '9', 'core'], env, 0);
    }
    const refused = await measure('sigrelease start --sig cor (refused, exit 2)', [BIN, 'start', '--release', '9', '--sig', 'cor'], env, 2);
    const status = await measure('sigrelease status 9 core (server up)', [BIN, 'status', '9', 'core'], env, 0);
    const help = await measure('sigrelease --help', [BIN, '--help'], env, 0);
    console.log(`cli_refused_s=${refused.toFixed(2)}`);
    console.log(`cli_status_s=${status.toFixed(2)}`);
    console.log(`cli_help_s=${help.toFixed(2)}`);
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.allSettled(running);
    await close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
