// `sigrelease demo`: a whole release of core 9 on this machine, with nothing but what setup.sh installed:
// the embedded dev server, a fixture yumrepofs built from real RPMs, a worker, and an approval given from
// the CLI while the run waits at the gate (or by a person with --interactive). SIGINT, SIGTERM or SIGHUP at any
// point stops it: the worker drains, then the fixture server, the dev server and every child it started end.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../root.js';
import { CliError, EXIT } from '../errors.js';
import { initRoots } from '../config/roots.js';
import { latestLink, productionCategory, productionSigDir, stagingSigDir } from '../paths.js';
import { action, type GlobalOptions } from './common.js';
import { humanBytes } from '../publish/guard.js';
import { endDescendants } from './processes.js';
import { stopRequested, untilStopped, whenStopRequested } from './signals.js';
import { STATE_DIR } from './server.js';

const BIN = path.join(PROJECT_ROOT, 'bin', 'sigrelease');

interface DemoOptions {
  interactive?: boolean;
  keep?: boolean;
  dir?: string;
}

export function register(program: Command, _globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('run a full SIG release (core 9) against the embedded dev server and local fixture repos')
    .option('--interactive', 'wait for a person to approve (CLI, temporal CLI or Web UI) instead of approving from the CLI')
    .option('--keep', 'keep the dev server and Web UI running at the end (Ctrl-C to stop)')
    .option('--dir <dir>', 'where the demo writes (default: .state/demo/<time>)')
    .action(action(async (o: DemoOptions) => runDemo(o)));
}

/** What the demo has started, stopped in reverse order whatever happens. */
class Started {
  private readonly stops: Array<{ what: string; stop: () => Promise<unknown> }> = [];
  add(what: string, stop: () => Promise<unknown>): void {
    this.stops.push({ what, stop });
  }
  async stopAll(): Promise<void> {
    for (const { what, stop } of this.stops.reverse()) {
      await stop().catch((e: Error) => process.stderr.write(`sigrelease: stopping the ${what}: ${e.message}\n`));
    }
    const left = await endDescendants();
    if (left.length > 0) process.stderr.write(`sigrelease: ended leftover processes: ${left.map((p) => `${p.comm}(${p.pid})`).join(', ')}\n`);
  }
}

async function runDemo(o: DemoOptions): Promise<number> {
  const dir = path.resolve(o.dir ?? path.join(STATE_DIR, 'demo', new Date().toISOString().replace(/[:.]/g, '-')));
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new CliError(`--dir ${dir}: cannot create or write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, EXIT.badInput);
  }
  const stop = stopRequested();
  const started = new Started();
  try {
    return await demoSteps(o, dir, started, stop);
  } finally {
    await started.stopAll();
  }
}

async function demoSteps(o: DemoOptions, dir: string, started: Started, stop: AbortSignal): Promise<number> {
  const t0 = Date.now();
  const [{ runTool, runToolChecked }, { SSH_KEYGEN_EXITS }, YAML, { startDevServer, freePort }, { loadCatalogue, parseSite }, { localSiteRaw }, client, { DefaultLogger, Runtime }, { createWorkers }, { formatStatus }] =
    await Promise.all([import('../tools/run.js'), import('../tools/exit-codes.js'), import('yaml'), import('../devserver.js'), import('../config/load.js'), import('../config/local.js'), import('../client.js'), import('@temporalio/worker'), import('../worker.js'), import('./format.js')]);
  // The demo narrates itself; the worker's own INFO lines would drown it. The CLI handles stop signals itself.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const step = (s: string) => process.stdout.write(`\n== ${s}\n`);

  step('starting the Temporal dev server');
  const server = await untilStopped(startDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: await freePort(), logFile: path.join(dir, 'temporal-server.log') }));
  started.add('Temporal dev server', () => server.stop());
  console.log(`Temporal at ${server.address}; Web UI ${server.uiUrl}`);

  step('building fixture repositories from real RPMs and serving them like yumrepofs');
  // Loaded here so a deployed worker image needs no test fixtures.
  const { buildYumrepofs, defaultCoreFixture, startYumrepofs } = await import('../../test/fixtures/yumrepofs.js');
  const fixture = await untilStopped(buildYumrepofs(path.join(dir, 'yumrepofs'), defaultCoreFixture()));
  const yum = await startYumrepofs({ root: fixture.root });
  started.add('fixture yumrepofs server', () => yum.close());
  console.log(`yumrepofs at ${yum.baseUrl}`);

  // Signatures on, as on a real site: a throwaway key for the approver "demo" and an allowed_signers naming it.
  const key = path.join(dir, 'demo-approver-key');
  await runToolChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sigrelease demo approver', '-f', key], SSH_KEYGEN_EXITS);
  const allowedSigners = path.join(dir, 'allowed_signers');
  fs.writeFileSync(allowedSigners, `demo ${fs.readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const siteFile = path.join(dir, 'site.yaml');
  const siteRaw = localSiteRaw(dir, {
    repoBaseUrl: yum.baseUrl,
    gitBaseUrl: yum.gitBaseUrl,
    // A short grace period, so the demo shows production keeping superseded files until their clients are done.
    overrides: {
      temporal: { address: server.address, namespace: server.namespace, taskQueue: 'sigrelease-demo' },
      publish: { metadataGrace: '3s' },
      approval: { requireSignature: true, allowedSigners },
    },
  });
  fs.writeFileSync(siteFile, YAML.stringify(siteRaw));
  const site = parseSite(siteRaw, siteFile);
  // What an operator does once on a new compose host: `sigrelease init-roots`.
  initRoots(site);
  const catalogue = loadCatalogue();
  // On top of the demo's own environment (the tool runner keeps it).
  const env = { SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: server.address };

  step('starting a worker');
  const { workers, close } = await untilStopped(createWorkers({ address: server.address, namespace: server.namespace, site, catalogue, queues: ['control', 'host'] }));
  const running = workers.map((w) => w.run());
  // Drains as Temporal's shutdown does: running activities get the grace time, then are cancelled.
  started.add('worker', async () => {
    workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
    await Promise.allSettled(running);
    await close();
  });

  step('sigrelease start --release 9 --sig core --hashed --clean-old-packages --full-run');
  const temporal = await untilStopped(client.connectClient(site));
  started.add('client connection', () => temporal.connection.close());
  const handle = await untilStopped(client.startRelease(temporal, site, catalogue, { release: '9', sig: 'core', hashed: true, cleanOldPackages: true, fullRun: true, requestedBy: 'demo' }, { sign: { by: 'demo', keyFile: key } }));
  console.log(`workflow ${handle.workflowId}`);
  let st = await untilStopped(client.releaseStatus(temporal, '9', 'core'));
  let last = '';
  while (st.stage !== 'awaiting-approval' && !['failed', 'cancelled'].includes(st.stage)) {
    if (st.stage !== last) console.log(`stage: ${st.stage}`);
    last = st.stage;
    await untilStopped(new Promise((r) => setTimeout(r, 500)));
    st = await untilStopped(client.releaseStatus(temporal, '9', 'core'));
  }
  console.log(formatStatus(st));
  if (st.stage !== 'awaiting-approval') throw new Error(`the release stopped before the gate: ${st.error ?? st.stage}`);
  console.log(`\nproduction is untouched until someone approves: ${fs.existsSync(productionSigDir(site, '9', 'core')) ? 'EXISTS (unexpected)' : 'nothing there yet'}`);

  if (o.interactive) {
    step('waiting for your decision');
    const cli = `SIGRELEASE_SITE=${siteFile} TEMPORAL_ADDRESS=${server.address} ${BIN}`;
    console.log(`Approve from another terminal (signed with the demo's throwaway key):\n  ${cli} approve 9 core --by demo --key ${key} --comment "looks good"`);
    console.log(`or print the signed decision and send it with the temporal CLI or the Web UI (Send a Signal → approve → paste):\n  ${cli} approve 9 core --by demo --key ${key} --print-signed`);
    console.log(`  ${process.env.SIGRELEASE_TEMPORAL_CLI ?? 'temporal'} workflow signal --address ${server.address} -w ${handle.workflowId} --name approve --input '<the JSON>'`);
    console.log(`  Web UI: ${server.uiUrl}/namespaces/default/workflows/${handle.workflowId}`);
  } else {
    step(`sigrelease approve 9 core --by demo --key ${path.basename(key)} --comment "demo run"`);
    // A stop rejects with the stop's reason once the approve process is gone.
    const r = await runTool(BIN, ['approve', '9', 'core', '--by', 'demo', '--key', key, '--comment', 'demo run'], { env, signal: stop });
    process.stdout.write(r.stdout + (r.stderr ? `\n${r.stderr}` : '') + '\n');
    if (r.exitCode !== 0) throw new Error(`approve failed with exit code ${r.exitCode}`);
  }
  const result = await untilStopped(handle.result());
  step(`result: ${result.outcome}`);
  summarize(site, result, dir);
  console.log(`\ndemo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (o.keep) {
    console.log(`dev server and Web UI stay up at ${server.uiUrl}; Ctrl-C to stop`);
    await whenStopRequested();
  }
  return result.outcome === 'promoted' ? 0 : 5;
}

function summarize(site: { composeRoot: string; stagingRoot: string; productionRoot: string }, result: { composeDir: string | null; decision: { by: string } | null; fileLists: Array<{ dir: string; changed: string[] }>; compose: { downloaded: number; tasks: number } }, dir: string) {
  const count = (d: string) => {
    let files = 0;
    let bytes = 0;
    const walk = (p: string) => {
      for (const e of fs.readdirSync(p, { withFileTypes: true })) {
        const full = path.join(p, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.isFile()) {
          files++;
          bytes += fs.statSync(full).size;
        }
      }
    };
    if (fs.existsSync(d)) walk(d);
    return `${files} files, ${humanBytes(bytes)}`;
  };
  const latest = latestLink(site, '9', 'core');
  console.log(`compose     ${result.composeDir} (${result.compose.tasks} reposync tasks, ${result.compose.downloaded} packages downloaded)`);
  console.log(`latest      ${latest} -> ${fs.readlinkSync(latest)}`);
  console.log(`staging     ${stagingSigDir(site, '9', 'core')} (${count(stagingSigDir(site, '9', 'core'))})`);
  console.log(`production  ${productionSigDir(site, '9', 'core')} (${count(productionSigDir(site, '9', 'core'))})`);
  console.log(`approved by ${result.decision?.by}`);
  for (const l of result.fileLists) console.log(`file lists  ${l.dir}: ${l.changed.join(', ') || 'unchanged'}`);
  const tl = path.join(productionCategory(site), 'fullfiletimelist-sig');
  if (fs.existsSync(tl)) console.log(fs.readFileSync(tl, 'utf8').split('\n').slice(0, 8).join('\n') + '\n...');
  console.log(`everything is under ${dir}`);
}
