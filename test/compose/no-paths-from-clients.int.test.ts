// Activities take no paths from clients (issue 12 item 1). A client that reaches Temporal starts the compose
// directly, or through a parent of its own, with roots, relDirs and key URLs that point outside the site's roots:
// nothing is written outside them, and the run fails naming the refused value.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities } from '../../activities/index.js';
import { checkRequest } from '../../src/config/request.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { planCompose } from '../../src/compose/plan.js';
import type { ComposePlan } from '../../src/compose/types.js';
import { composeStamp } from '../../src/paths.js';
import type { ComposeInput } from '../../workflows/messages.js';
import { CORE9_KEY_GIT_PATH, CORE9_PROJECT_ID, buildYumrepofs, fixtureSpecForSig, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { failureChain, serverAddress, testCatalogue, testClient, testSite, uniqueQueue, withWorkers } from '../helpers/temporal.js';

let yum: YumrepofsServer;
let site: SiteConfig;
let outside: string;
let client: Client;
let taskQueue: string;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;

/** Every entry under `dir` (files, folders, links), relative. */
function entries(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : [];
}

const siteRoots = () => ({ composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot });

function genuinePlan(): ComposePlan {
  const { request, resolved } = checkRequest({ release: '9', sig: 'core', fullRun: true, hashed: true, ignoreDebug: true, arches: ['x86_64'], composeOnly: true }, testCatalogue(), site);
  return JSON.parse(JSON.stringify(planCompose(request, resolved, site, composeStamp(Date.now())))) as ComposePlan;
}

/** Runs the compose child under a parent that is not sigRelease; resolves with the failure chain. */
async function composeUnderHostileParent(input: ComposeInput): Promise<string> {
  const handle = await client.workflow.start('hostileParent', { taskQueue, workflowId: uniqueQueue('hostile'), args: [input] });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the hostile compose must fail').not.toBeNull();
  return failureChain(err);
}

beforeAll(async () => {
  const tree = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-hostile-yum-')), fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH }));
  yum = await startYumrepofs({ root: tree.root });
  ({ site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl }));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-outside-'));
  client = await testClient();
  taskQueue = uniqueQueue('hostile');
  const { address, namespace } = serverAddress();
  connection = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows/hostileParent.ts', import.meta.url)),
    activities: createActivities({ site, catalogue: testCatalogue(), client }),
  });
  running = worker.run();
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await connection?.close();
  await yum?.close();
  fs.rmSync(outside, { recursive: true, force: true });
});

describe('activities take no paths from clients', () => {
  it('refuses a compose started directly, with no sigRelease parent, before any activity runs', async () => {
    await withWorkers({ site }, async ({ client: c, taskQueue: q }) => {
      const workflowId = uniqueQueue('direct-compose');
      const handle = await c.workflow.start('composeSig', { taskQueue: q, workflowId, args: [{ plan: genuinePlan(), roots: { ...site, composeRoot: outside } }] });
      const chain = failureChain(await handle.result().catch((e: unknown) => e));
      expect(chain).toMatch(new RegExp(`ComposeRefused composeSig runs only as the compose step of a sigRelease run; this one \\(${workflowId}\\) was started directly`));
      const history = await handle.fetchHistory();
      expect(JSON.stringify(history.events)).not.toMatch(/ActivityTaskScheduled|activityTaskScheduledEventAttributes/);
    });
    expect(entries(outside)).toEqual([]);
    expect(entries(site.composeRoot)).toEqual([]);
  });

  it('checks the runtime part of a sigRelease started with the temporal CLI\'s JSON like the rest, naming the value', async () => {
    await withWorkers({ site }, async ({ client: c, taskQueue: q }) => {
      const handle = await c.workflow.start('sigRelease', {
        taskQueue: q,
        workflowId: uniqueQueue('bad-runtime'),
        args: [{ release: '9', sig: 'core', composeOnly: true, fullRun: true, runtime: { timeouts: { heartbeat: 'forever' }, hostTaskQueue: '' } }],
      });
      const chain = failureChain(await handle.result().catch((e: unknown) => e));
      expect(chain).toMatch(/BadRequest runtime\.timeouts\.heartbeat must be a duration such as "30s", "10m", "3d", got "forever"/);
    });
    expect(entries(site.composeRoot)).toEqual([]);
  });

  it('refuses roots that are not the site\'s, naming them', async () => {
    const chain = await composeUnderHostileParent({ plan: genuinePlan(), roots: { composeRoot: outside, stagingRoot: outside, productionRoot: outside } });
    expect(chain).toContain(`PlanRefused composeRoot ${JSON.stringify(outside)} is not this worker's composeRoot (${site.composeRoot})`);
    expect(entries(outside)).toEqual([]);
  });

  it.each([
    ['a relDir that climbs out', (p: ComposePlan) => (p.batches[0]![0]!.relDir = '../../../../../../../../tmp/sigrelease-climb'), 'batches.0.0.relDir is "../../../../../../../../tmp/sigrelease-climb"'],
    ['an absolute relDir', (p: ComposePlan) => (p.batches[0]![0]!.relDir = '/tmp/sigrelease-absolute'), 'batches.0.0.relDir is "/tmp/sigrelease-absolute"'],
    ['a key URL that reads /etc', (p: ComposePlan) => (p.gpgKeys = ['file:///etc/passwd']), 'gpgKeys.0 is "file:///etc/passwd"'],
    ['a percent-encoded key name that climbs', (p: ComposePlan) => (p.gpgKeys = [`${yum.gitBaseUrl}%2e%2e%2f%2e%2e%2fescaped`]), 'gpgKeys.0 is'],
  ])('refuses a plan with %s, naming the value, and writes nothing', async (_what, mutate, named) => {
    const plan = genuinePlan();
    mutate(plan);
    const chain = await composeUnderHostileParent({ plan, roots: { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot } });
    expect(chain).toContain('PlanRefused compose plan refused: ');
    expect(chain).toContain(named);
    expect(entries(site.composeRoot)).toEqual([]);
    expect(fs.existsSync('/tmp/sigrelease-climb') || fs.existsSync('/tmp/sigrelease-absolute')).toBe(false);
  });

  it('refuses a symlink planted in the compose root that points out, naming it, and writes nothing through it', async () => {
    fs.symlinkSync(outside, path.join(site.composeRoot, '9'));
    try {
      const chain = await composeUnderHostileParent({ plan: genuinePlan(), roots: siteRoots() });
      expect(chain).toContain(`PathRefused compose folder`);
      expect(chain).toContain(`goes through the symlink ${fs.realpathSync(site.composeRoot)}/9 (→ ${outside})`);
      expect(entries(outside)).toEqual([]);
    } finally {
      fs.rmSync(path.join(site.composeRoot, '9'));
    }
  });

  it('composes a genuine plan under the same worker (the guards refuse only what is wrong)', async () => {
    const plan = genuinePlan();
    const handle = await client.workflow.start('hostileParent', { taskQueue, workflowId: uniqueQueue('genuine'), args: [{ plan, roots: siteRoots() }] });
    const result = (await handle.result()) as { latestFlipped: boolean; composeDir: string };
    expect(result.latestFlipped).toBe(true);
    expect(result.composeDir.startsWith(site.composeRoot)).toBe(true);
    expect(entries(outside)).toEqual([]);
  });
});
