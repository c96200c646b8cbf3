// SIGINT, SIGTERM and SIGHUP stop `server`, `worker` and `demo` cleanly: real signals to real processes, then a
// walk of /proc shows that nothing they started (dev server, fixture server, worker, dnf, rsync) is left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devserver.js';
import { startRelease } from '../../src/client.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs } from '../fixtures/yumrepofs.js';
import { serverAddress, testCatalogue, testClient, testSite, uniqueQueue } from '../helpers/temporal.js';
import { prebuiltWorkflowBundle, smallRequest, writeSiteYaml } from '../reliability/support.js';
import { SIGNAL_EXIT, WatchedCli } from './watch.js';

const started: WatchedCli[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.cleanUp();
});
const tmp = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `sigrelease-${label}-`));

function expectCleanStop(cli: WatchedCli, signal: NodeJS.Signals, exit: { code: number | null }) {
  expect(exit.code, `exit code after ${signal} (stderr: ${cli.stderr})`).toBe(SIGNAL_EXIT[signal]);
  expect(cli.leftovers(), 'processes left behind').toEqual([]);
  // The clean path stopped everything itself; the /proc sweep had nothing to end.
  expect(cli.stderr).not.toMatch(/leftover/);
  expect(cli.stderr).not.toMatch(/^\s+at /m);
}

describe('sigrelease server', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`creates what --db needs, and stops its dev server on ${signal}`, async () => {
      const db = path.join(tmp('server'), 'fresh', 'nested', 'temporal.db');
      const cli = new WatchedCli(['server', '--port', String(await freePort()), '--ui-port', String(await freePort()), '--db', db]);
      started.push(cli);
      await cli.waitFor('"Temporal dev server at"', () => /Temporal dev server at/.test(cli.stderr), 120_000);
      // The process watcher samples /proc on a timer: the server may be up before its next sample has seen it.
      await cli.waitFor('the dev server among the watched processes', () => cli.seenNamed('temporal').length > 0, 30_000);
      expect(cli.seenNamed('temporal').length).toBe(1);
      expect(fs.existsSync(db)).toBe(true);
      expect(fs.existsSync(path.join(path.dirname(db), 'temporal-server.log'))).toBe(true);
      cli.signal(signal);
      expectCleanStop(cli, signal, await cli.exited);
    }, 180_000);
  }
});

describe('sigrelease worker', () => {
  it('drains on SIGTERM while dnf reposync runs: the worker, dnf and every other child exit', async () => {
    const yum = await startYumrepofs({ root: (await buildYumrepofs(tmp('yum'), defaultCoreFixture())).root });
    try {
      // Slow package downloads keep reposync busy long enough to be interrupted.
      yum.setFaults({ slowPaths: /\/Packages\/.*\.rpm$/, slowMs: 3000 });
      const { address, namespace } = serverAddress();
      const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
      const taskQueue = uniqueQueue('stop-signals');
      const siteFile = writeSiteYaml(site, { address, namespace, taskQueue });
      const cli = new WatchedCli(['worker'], { SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, SIGRELEASE_WORKFLOW_BUNDLE: await prebuiltWorkflowBundle() });
      started.push(cli);
      await cli.waitFor('"worker polling"', () => /worker polling/.test(cli.stderr), 120_000);
      const client = await testClient();
      const handle = await startRelease(client, site, testCatalogue(), { ...smallRequest }, { taskQueue, workflowId: `stop-signals-${taskQueue}` });
      try {
        await cli.waitFor('a dnf reposync below the worker', () => cli.seenNamed('dnf').length > 0, 120_000);
        cli.signal('SIGTERM');
        expectCleanStop(cli, 'SIGTERM', await cli.exited);
        expect(cli.stderr).toMatch(/worker stopped/);
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    } finally {
      await yum.close();
    }
  }, 300_000);
});

describe('sigrelease demo', () => {
  it('--interactive stops on SIGTERM at the gate: worker, fixture server and dev server all exit', async () => {
    const cli = new WatchedCli(['demo', '--interactive', '--dir', tmp('demo')]);
    started.push(cli);
    // Generous: on a 2-core machine shared with other work the compose alone has taken minutes.
    await cli.waitFor('the gate', () => /waiting for your decision/.test(cli.stdout), 900_000);
    expect(cli.seenNamed('temporal').length).toBe(1);
    cli.signal('SIGTERM');
    expectCleanStop(cli, 'SIGTERM', await cli.exited);
    expect(cli.stderr).not.toMatch(/MaxListeners/);
  }, 1_000_000);

  it('stops on SIGINT during the compose: dnf and everything else exit', async () => {
    const cli = new WatchedCli(['demo', '--dir', tmp('demo')]);
    started.push(cli);
    await cli.waitFor('a dnf reposync', () => cli.seenNamed('dnf').length > 0, 400_000);
    cli.signal('SIGINT');
    expectCleanStop(cli, 'SIGINT', await cli.exited);
  }, 500_000);
});
