// bench/scale: many releases at once against one server and two worker processes.
//   npx tsx bench/scale/run.ts [--sigs all] [--releases 8,9,10] [--packages 2] [--keep]
// Starts every SIG × release of a bench catalogue together (27 by default), approves each as it reaches the
// gate, and prints: completion time, releases per minute, peak RSS of each worker, the largest history (events; and
// the largest of each workflow type),
// the longest wait of any release for the production lock (request to grant), and whether two
// production promotions ever overlapped (they must not: one lock per production tree).
// Releases a SIG lacks in the real catalogue (e.g. desktop 10) are cloned from its newest one with a new
// project id, so the bench always has 9 × 3 = 27 releases of fixture content.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import { startDevServer } from '../../src/devserver.js';
import { decide, startRelease } from '../../src/client.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { buildYumrepofs, fixtureSpecForSig, startYumrepofs, type FixtureSpec } from '../../test/fixtures/yumrepofs.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const releases = arg('releases', '8,9,10').split(',');
const packagesPerRepo = Number(arg('packages', '2'));
const BIN = new URL('../../bin/sigrelease', import.meta.url).pathname;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-scale-'));
  const real = loadCatalogue();
  const sigs = arg('sigs', 'all') === 'all' ? Object.keys(real).sort() : arg('sigs', '').split(',');

  // Bench catalogue: every SIG for every release.
  const catDir = path.join(dir, 'sigs');
  fs.mkdirSync(catDir);
  const spec: FixtureSpec = { projects: {}, sign: true, gitFiles: {} };
  const pairs: Array<{ sig: string; release: string }> = [];
  for (const sig of sigs) {
    const file = structuredClone(real[sig]!);
    const newest = Object.keys(file.releases).sort((a, b) => Number(b) - Number(a))[0]!;
    for (const rel of releases) {
      if (!file.releases[rel]) {
        const base = structuredClone(file.releases[newest]!);
        base.projectId = `bench-${sig}-${rel}`;
        base.gpgKeys = base.gpgKeys.map((k) => k.replace(`/raw/r${newest}/`, `/raw/r${rel}/`));
        if (base.extraFiles) base.extraFiles.baseUrl = base.extraFiles.baseUrl.replace(`/raw/r${newest}/`, `/raw/r${rel}/`);
        file.releases[rel] = base;
      }
      const entry = file.releases[rel]!;
      const sub = fixtureSpecForSig({ projectId: entry.projectId, repos: Object.fromEntries(Object.entries(entry.repos).map(([r, e]) => [r, e.arches])), packagesPerRepo });
      Object.assign(spec.projects, sub.projects);
      for (const key of entry.gpgKeys) spec.gitFiles![key.replace('https://git.rockylinux.org/staging/src/', '')] = 'PUBLIC_KEY';
      pairs.push({ sig, release: rel });
    }
    fs.writeFileSync(path.join(catDir, `${sig}.yaml`), YAML.stringify(file));
  }
  const t0 = Date.now();
  const tree = await buildYumrepofs(path.join(dir, 'yumrepofs'), spec);
  const yum = await startYumrepofs({ root: tree.root });
  const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  console.log(`fixtures and server ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${pairs.length} releases, ${tree.repos.length} fixture repo dirs)`);

  const siteRaw = localSiteRaw(dir, {
    repoBaseUrl: yum.baseUrl,
    gitBaseUrl: yum.gitBaseUrl,
    overrides: { compose: { parallelism: 4 }, temporal: { address: server.address, namespace: server.namespace, taskQueue: 'scale' } },
  });
  const siteFile = path.join(dir, 'site.yaml');
  fs.writeFileSync(siteFile, YAML.stringify(siteRaw));
  const site = parseSite(siteRaw);
  initRoots(site);
  const catalogue = loadCatalogue(catDir);
  const env = { ...process.env, SIGRELEASE_SITE: siteFile, SIGRELEASE_CATALOGUE: catDir, TEMPORAL_ADDRESS: server.address };

  const workers: ResultPromise[] = [0, 1].map(() => execa(BIN, ['worker', '--max-host-activities', '4'], { env, reject: false, stdio: ['ignore', 'ignore', 'pipe'] }));
  const peak = new Map<number, number>();
  const sampler = setInterval(() => {
    for (const w of workers) {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${w.pid}/status`, 'utf8'))?.[1] ?? 0);
        peak.set(w.pid!, Math.max(peak.get(w.pid!) ?? 0, kb));
      } catch {
        /* not started yet, or gone */
      }
    }
  }, 500);

  const client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: server.namespace });
  const tStart = Date.now();
  const handles = await Promise.all(
    pairs.map((p) => startRelease(client, site, catalogue, { ...p, hashed: true, fullRun: true, cleanOldPackages: true })),
  );
  console.log(`started ${handles.length} releases`);
  const approved = new Set<string>();
  const pending = new Set(handles.map((h) => h.workflowId));
  while (pending.size > 0) {
    for await (const wf of client.workflow.list({ query: `WorkflowType = "sigRelease" AND ${SEARCH_ATTRIBUTES.stage.name} = "awaiting-approval" AND ExecutionStatus = "Running"` })) {
      if (approved.has(wf.workflowId)) continue;
      const [, sig, release] = /^sigrelease-(.+)-(\d+)$/.exec(wf.workflowId)!;
      await decide(client, release!, sig!, true, { by: 'bench' }).catch((e) => console.error(`approve ${wf.workflowId}: ${(e as Error).message}`));
      approved.add(wf.workflowId);
    }
    for (const id of [...pending]) {
      const d = await client.workflow.getHandle(id).describe();
      if (d.status.name !== 'RUNNING') {
        pending.delete(id);
        if (d.status.name !== 'COMPLETED') console.error(`${id}: ${d.status.name}`);
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const elapsed = (Date.now() - tStart) / 1000;
  clearInterval(sampler);

  // Histories: the largest one, and the promotion windows (lock granted → lock released) per run.
  let largest = { id: '', events: 0 };
  // And per workflow type: the lock's history grows with its grants, a release's with its own stages.
  const largestByType = new Map<string, number>();
  const windows: Array<{ id: string; from: number; to: number }> = [];
  let longestLockWait = { id: '', ms: 0 };
  let completed = 0;
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus != "Running" OR ExecutionStatus = "Running"' })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const events = history.events ?? [];
    if (events.length > largest.events) largest = { id: wf.workflowId, events: events.length };
    largestByType.set(wf.type, Math.max(largestByType.get(wf.type) ?? 0, events.length));
    if (wf.type !== 'sigRelease') continue;
    if (wf.status.name === 'COMPLETED') completed++;
    const at = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    const granted = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'productionLockGranted');
    const released = events.find((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'releaseLock');
    if (granted && released) windows.push({ id: wf.workflowId, from: at(granted), to: at(released) });
    // Each turn at the lock: from the request activity being scheduled to the grant that answered it.
    let asked: number | null = null;
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'requestProductionLock') asked = at(e);
      else if (asked !== null && e.workflowExecutionSignaledEventAttributes?.signalName === 'productionLockGranted') {
        if (at(e) - asked > longestLockWait.ms) longestLockWait = { id: wf.workflowId, ms: at(e) - asked };
        asked = null;
      }
    }
  }
  windows.sort((a, b) => a.from - b.from);
  let overlaps = 0;
  for (let i = 1; i < windows.length; i++) if (windows[i]!.from < windows[i - 1]!.to) overlaps++;

  for (const w of workers) w.kill('SIGTERM');
  await Promise.allSettled(workers);
  await yum.close();
  await server.stop();
  const peakMiB = [...peak.values()].map((kb) => (kb / 1024).toFixed(0));
  console.log(`releases            ${pairs.length} (${completed} completed)`);
  console.log(`completion time     ${elapsed.toFixed(1)} s (start of all to the last promotion)`);
  console.log(`releases per minute ${((completed / elapsed) * 60).toFixed(2)}`);
  console.log(`longest lock wait   ${(longestLockWait.ms / 1000).toFixed(1)} s (${longestLockWait.id})`);
  console.log(`peak worker RSS     ${peakMiB.join(' MiB, ')} MiB`);
  console.log(`largest history     ${largest.events} events (${largest.id})`);
  console.log(`  by type           ${[...largestByType].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  console.log(`promotion windows   ${windows.length}, overlapping: ${overlaps}`);
  // About 190 MB of fixtures, composes and trees per run: kept only when asked (--keep), to look into.
  if (process.argv.includes('--keep')) console.log(`scratch             ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  console.log(`scale_ok=${completed === pairs.length && overlaps === 0 && largest.events <= 2000 && Math.max(...[...peak.values()]) < 1024 * 1024 ? 1 : 0}`);
}

await main();
