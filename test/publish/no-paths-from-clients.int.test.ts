// Activities take no paths from clients (issue 12 item 1), through the real workflow: a `sigRelease` started as the
// `temporal` CLI or the Web UI would start it, with the paths of the publish and file-list activities written into
// its input (roots, a staging sync source and target, a report file, a file-list folder) pointing outside the site's
// roots. The run refuses the request while validating, naming the field, and nothing is written anywhere; the
// activity-level checks behind it are test/publish/no-paths-from-clients.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureChain, testSite, uniqueQueue, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from './helpers.js';

describe('sigRelease started with paths in its input', () => {
  it('refuses each path-bearing field before any activity touches a tree, naming it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-outside-'));
    fs.writeFileSync(path.join(outside, 'keep-me.txt'), 'not ours\n');
    const trees = async () => Promise.all([site.composeRoot, site.stagingRoot, site.productionRoot, outside].map((d) => treeDigest(d)));
    const before = await trees();
    const crafted: Array<[field: string, value: unknown]> = [
      ['roots', { composeRoot: outside, stagingRoot: outside, productionRoot: outside }],
      ['source', outside],
      ['target', outside],
      ['reportFile', path.join(outside, 'report.txt')],
      ['dir', outside],
    ];
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      for (const [field, value] of crafted) {
        const handle = await client.workflow.start('sigRelease', {
          taskQueue,
          workflowId: uniqueQueue(`crafted-${field}`),
          args: [{ release: '9', sig: 'core', fullRun: true, [field]: value }],
        });
        const chain = await handle.result().then(
          () => 'the run succeeded',
          (e: unknown) => failureChain(e),
        );
        expect(chain, field).toContain(`release request: (top level): Unrecognized key: "${field}"`);
        expect(chain, field).toMatch(/failed during validating/);
      }
    });
    expect(await trees()).toEqual(before);
    fs.rmSync(outside, { recursive: true, force: true });
  }, 120_000);
});
