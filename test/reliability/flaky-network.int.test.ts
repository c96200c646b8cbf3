// A flaky build system: connections reset, 503s and a slow answer on package downloads. The compose retries
// (librepo per download, then the activity) and ends identical to a clean compose. A package that stays missing
// fails the compose by name after a bounded number of attempts, and `latest` keeps pointing at the last good one.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { latestLink } from '../../src/paths.js';
import type { ComposeResult } from '../../workflows/compose.js';
import { statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/sigRelease.js';
import { addPackage, breakPackage, buildYumrepofs, defaultCoreFixture, startYumrepofs, type FixtureTree, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { failureChain, testCatalogue, testSite, uniqueQueue, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { untilStage } from '../gate/support.js';
import { fastRuntime, mtimesOf, packageGets, seconds, smallRequest, tempDir, terminateAll, treeDiff } from './support.js';

let tree: FixtureTree;
let yum: YumrepofsServer;
let site: SiteConfig;
/** Fresh roots for the flaky compose: with no `latest` to seed from, every package crosses the faulty network. */
let flakySite: SiteConfig;
const workflowIds: string[] = [];
const request = { ...smallRequest, composeOnly: true };

beforeAll(async () => {
  tree = await buildYumrepofs(tempDir('yum'), defaultCoreFixture());
  yum = await startYumrepofs({ root: tree.root });
  site = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl }).site;
  flakySite = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl }).site;
});
afterAll(async () => {
  await yum?.close();
});

interface Compose {
  result: ReleaseResult;
  compose: ComposeResult;
  ms: number;
}

const sigTree = (composeDir: string) => path.join(composeDir, 'compose', '9', 'core');

/** A compose-only full run on this file's site; resolves with the run's and its compose child's results. */
async function compose(client: Client, taskQueue: string, label: string, runtime = fastRuntime(), on: SiteConfig = site): Promise<Compose> {
  const workflowId = `${releaseWorkflowId('core', '9')}-${uniqueQueue(label)}`;
  workflowIds.push(workflowId);
  const t0 = Date.now();
  const handle = await startRelease(client, on, testCatalogue(), request, { taskQueue, workflowId, runtime });
  const st = await untilStage(handle, 'composing');
  workflowIds.push(st.composeWorkflowId!);
  const result = await handle.result();
  const child = (await client.workflow.getHandle(st.composeWorkflowId!).result()) as ComposeResult;
  return { result, compose: child, ms: Date.now() - t0 };
}

describe('a flaky build system', () => {
  let clean: Compose;
  let flaky: Compose;

  it('costs retries, not correctness: with 30 % resets, 10 % 503s and one slow answer the compose equals a clean one', async () => {
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      try {
        yum.setFaults(null);
        clean = await compose(client, taskQueue, 'clean');
        expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(clean.result.composeDir);

        yum.resetCounters();
        const slow = tree.repos.find((d) => d.variant === 'hashed' && d.repo === 'core-infra' && d.arch === 'x86_64' && d.kind === 'binary')!.packages[0]!;
        yum.setFaults({ resetShare: 0.3, errorShare: 0.1, onlyPaths: /\/Packages\//, slowPaths: new RegExp(`/${slow.fileName.replace(/[.+]/g, '\\$&')}$`), slowMs: 4000, seed: 7 });
        // The flaky compose runs on its own roots, served by workers of that site.
        flaky = await withWorkers({ site: flakySite }, (w) => compose(w.client, w.taskQueue, 'flaky', fastRuntime(), flakySite));
        const log = [...yum.log];
        yum.setFaults(null);

        const resets = log.filter((r) => r.fault === 'reset').length;
        const errors = log.filter((r) => r.fault === 'error').length;
        const gets = packageGets(log);
        const mtimeDiff = treeDiff(mtimesOf(sigTree(flaky.result.composeDir!)), mtimesOf(sigTree(clean.result.composeDir!)));
        console.log(
          `[flaky-network] clean compose ${seconds(clean.ms)}; flaky compose ${seconds(flaky.ms)}: ${log.length} requests, ${resets} resets, ${errors} 503s, ` +
            `1 slow answer (${slow.fileName}, 4 s); ${gets.size} packages, ${[...gets.values()].reduce((a, b) => a + b, 0)} whole-file answers; ` +
            `reposync attempts ${flaky.compose.tasks.map((t) => `${t.name}#${t.attempt}`).join(', ')}; files whose mtime differs from the clean compose: ${mtimeDiff.length}` +
            (mtimeDiff.length ? ` (${mtimeDiff.slice(0, 4).join('; ')}${mtimeDiff.length > 4 ? '; …' : ''})` : ''),
        );

        expect(resets + errors).toBeGreaterThan(0);
        expect(flaky.result.outcome).toBe('composed');
        expect(flaky.compose.verify?.ok).toBe(true);
        expect(fs.readlinkSync(latestLink(flakySite, '9', 'core'))).toBe(flaky.result.composeDir);
        // Same files with the same bytes, and the upstream modification times (what mirrors compare).
        expect(treeDiff(treeDigest(sigTree(flaky.result.composeDir!)), treeDigest(sigTree(clean.result.composeDir!)))).toEqual([]);
        expect(mtimeDiff).toEqual([]);
      } finally {
        yum.setFaults(null);
        await terminateAll(client, workflowIds);
      }
    });
  });

  it('fails the compose by name when a package stays missing (bounded attempts), and latest still points at the previous compose', async () => {
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      try {
        // The previous good compose: the clean one above, or a clean one when this test runs alone.
        const link = latestLink(site, '9', 'core');
        const previous = fs.existsSync(link) ? fs.readlinkSync(link) : (await compose(client, taskQueue, 'good')).result.composeDir!;
        // A package new upstream whose file then goes missing: one that latest already has is linked, not downloaded.
        await addPackage(tree, { repo: 'core-common' }, { name: 'vanished', version: '1.0' });
        const missing = tree.repos.find((d) => d.repo === 'core-common' && d.variant === 'hashed' && d.kind === 'binary' && d.arch === 'x86_64')!.packages.find((p) => p.name === 'vanished')!.fileName;
        await breakPackage(tree, { repo: 'core-common', fileName: missing, mode: 'missing', variants: ['hashed'] });
        yum.resetCounters();
        const maxAttempts = 3;
        const t0 = Date.now();
        const err = await compose(client, taskQueue, 'missing', fastRuntime({ maxAttempts })).catch((e: unknown) => e);
        const ms = Date.now() - t0;
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const chain = failureChain(err);
        const requests = yum.log.filter((r) => r.path.endsWith(`/${missing}`)).length;
        const id = workflowIds.at(-2)!;
        const status = await client.workflow.getHandle(id).query(statusQuery);
        console.log(
          `[flaky-network] missing package ${missing}: compose failed after ${seconds(ms)}, ${requests} requests for it over ${maxAttempts} attempts; ` +
            `error: ${status.error?.split('\n')[0]}`,
        );
        // By name: the task, the package and the type; and what it means for latest.
        expect(chain).toMatch(/ComposeFailed/);
        expect(chain).toContain('core-common-x86_64');
        expect(chain).toContain(missing);
        expect(chain).toMatch(/latest-SIG-core-9 was not changed/);
        expect(status.stage).toBe('failed');
        expect(status.error).toContain(missing);
        // Bounded: one reposync per attempt, each asking a few times (librepo), never more than maxAttempts runs.
        expect(requests).toBeGreaterThanOrEqual(maxAttempts);
        expect(requests).toBeLessThanOrEqual(maxAttempts * 10);
        expect(fs.readlinkSync(latestLink(site, '9', 'core'))).toBe(previous);
      } finally {
        await terminateAll(client, workflowIds);
      }
    });
  });
});
