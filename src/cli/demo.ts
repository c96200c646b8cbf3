// `sigrelease demo`: a whole release of core 9 on this machine, with nothing but what setup.sh installed:
// the embedded dev server, a fixture yumrepofs built from real RPMs, a worker, and an approval given from
// the CLI while the run waits at the gate (or by a person with --interactive).
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Command } from 'commander';
import YAML from 'yaml';
import { startDevServer, freePort } from '../devserver.js';
import { loadCatalogue, parseSite } from '../config/load.js';
import { localSiteRaw } from '../config/local.js';
import { connectClient, releaseStatus, startRelease } from '../client.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkers } from '../worker.js';
import { latestLink, productionCategory, productionSigDir, stagingSigDir } from '../paths.js';
import { action, formatBytes, type GlobalOptions } from './common.js';
import { formatStatus } from './format.js';
import { STATE_DIR } from './server.js';

const BIN = new URL('../../bin/sigrelease', import.meta.url).pathname;

export function registerDemoCommand(program: Command, _globals: () => GlobalOptions) {
  program
    .command('demo')
    .description('run a full SIG release (core 9) against the embedded dev server and local fixture repos')
    .option('--interactive', 'wait for a person to approve (CLI, temporal CLI or Web UI) instead of approving from the CLI')
    .option('--keep', 'keep the dev server and Web UI running at the end (Ctrl-C to stop)')
    .option('--dir <dir>', 'where the demo writes (default: .state/demo/<time>)')
    .action(action(async (o: { interactive?: boolean; keep?: boolean; dir?: string }) => runDemo(o)));
}

async function runDemo(o: { interactive?: boolean; keep?: boolean; dir?: string }) {
  const t0 = Date.now();
  // The demo narrates itself; the worker's own INFO lines would drown it.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = o.dir ?? path.join(STATE_DIR, 'demo', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const step = (s: string) => process.stdout.write(`\n== ${s}\n`);

  step('starting the Temporal dev server');
  const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: await freePort(), logFile: path.join(dir, 'temporal-server.log') });
  console.log(`Temporal at ${server.address}; Web UI ${server.uiUrl}`);

  step('building fixture repositories from real RPMs and serving them like yumrepofs');
  // Loaded here so a deployed worker image needs no test fixtures.
  const { buildYumrepofs, defaultCoreFixture, startYumrepofs } = await import('../../test/fixtures/yumrepofs.js');
  const fixture = await buildYumrepofs(path.join(dir, 'yumrepofs'), defaultCoreFixture());
  const yum = await startYumrepofs({ root: fixture.root });
  console.log(`yumrepofs at ${yum.baseUrl}`);

  // Signatures on, as on a real site: a throwaway key for the approver "demo" and an allowed_signers naming it.
  const key = path.join(dir, 'demo-approver-key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sigrelease demo approver', '-f', key]);
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
  const catalogue = loadCatalogue();
  const env = { ...process.env, SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: server.address };

  step('starting a worker');
  const { workers, close } = await createWorkers({ address: server.address, namespace: server.namespace, site, catalogue, queues: ['control', 'host'] });
  const running = workers.map((w) => w.run());
  try {
    step('sigrelease start --release 9 --sig core --hashed --clean-old-packages --full-run');
    const client = await connectClient(site);
    const handle = await startRelease(client, site, catalogue, { release: '9', sig: 'core', hashed: true, cleanOldPackages: true, fullRun: true, requestedBy: 'demo' }, { sign: { by: 'demo', keyFile: key } });
    console.log(`workflow ${handle.workflowId}`);
    let st = await releaseStatus(client, '9', 'core');
    let last = '';
    while (st.stage !== 'awaiting-approval' && !['failed', 'cancelled'].includes(st.stage)) {
      if (st.stage !== last) console.log(`stage: ${st.stage}`);
      last = st.stage;
      await new Promise((r) => setTimeout(r, 500));
      st = await releaseStatus(client, '9', 'core');
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
      const r = await execa(BIN, ['approve', '9', 'core', '--by', 'demo', '--key', key, '--comment', 'demo run'], { env, reject: false });
      process.stdout.write(r.stdout + (r.stderr ? `\n${r.stderr}` : '') + '\n');
      if (r.exitCode !== 0) throw new Error(`approve failed with exit code ${r.exitCode}`);
    }
    const result = await handle.result();
    step(`result: ${result.outcome}`);
    summarize(site, result, dir);
    console.log(`\ndemo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (o.keep) {
      console.log(`dev server and Web UI stay up at ${server.uiUrl}; Ctrl-C to stop`);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    return result.outcome === 'promoted' ? 0 : 5;
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.allSettled(running);
    await close();
    await yum.close();
    await server.stop();
  }
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
    return `${files} files, ${formatBytes(bytes)}`;
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
