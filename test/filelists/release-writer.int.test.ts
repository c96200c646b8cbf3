// Two releases promoting close together publish their lists through the level writers: the root and sig lists
// end up naming both releases' files, and no writer ever runs two walks at once (read from its history).
// Real dev server, real reposync/rsync/hardlink, fixture repositories served like yumrepofs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import { productionCategory } from '../../src/paths.js';
import { fileListWriterId } from '../../workflows/fileListWriter.js';
import { statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/releaseRun.js';
import { CORE9_KEY_GIT_PATH, CORE9_PROJECT_ID, buildYumrepofs, fixtureSpecForSig, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';

const CORE8_PROJECT_ID = '91e0dd2f-448e-4b75-9066-3946aceb60db';
const CORE8_KEY_GIT_PATH = CORE9_KEY_GIT_PATH.replace('/r9/', '/r8/');

let yum: YumrepofsServer;
beforeAll(async () => {
  const nine = fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH });
  const eight = fixtureSpecForSig({ projectId: CORE8_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE8_KEY_GIT_PATH });
  const spec = { ...nine, projects: { ...nine.projects, ...eight.projects }, gitFiles: { ...nine.gitFiles, ...eight.gitFiles } };
  const tree = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-yum-')), spec);
  yum = await startYumrepofs({ root: tree.root });
});
afterAll(async () => {
  await yum?.close();
});

async function atGate(handle: WorkflowHandle) {
  return waitFor(
    `${handle.workflowId} to wait at the gate`,
    async () => {
      const st = await handle.query(statusQuery);
      if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
      return st.stage === 'awaiting-approval' ? st : undefined;
    },
    240_000,
  );
}

/** The most publishFileLists activities open at once over every run of the workflow `workflowId`. */
async function mostWalksAtOnce(client: Client, workflowId: string): Promise<{ walks: number; atOnce: number }> {
  let walks = 0;
  let atOnce = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
    const open = new Set<string>();
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'publishFileLists') {
        open.add(String(e.eventId));
        walks++;
        atOnce = Math.max(atOnce, open.size);
      }
      const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
      if (ended?.scheduledEventId != null) open.delete(String(ended.scheduledEventId));
    }
  }
  return { walks, atOnce };
}

describe('releases publish their lists through the level writers', () => {
  it('two releases promoting together: root and sig lists name both, and no writer walks twice at once', async () => {
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    expect(site.publish.fileListLevels).toEqual(['sig', 'root']);
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const tag = uniqueQueue('writer');
      const start = (release: string) =>
        startRelease(client, site, testCatalogue(), { release, sig: 'core', hashed: true, fullRun: true, arches: ['x86_64'], ignoreDebug: true }, { taskQueue, workflowId: `${releaseWorkflowId('core', release)}-${tag}` });
      const [nine, eight] = await Promise.all([start('9'), start('8')]);
      await Promise.all([atGate(nine), atGate(eight)]);
      await Promise.all([nine.signal('approve', { by: 'tester' }), eight.signal('approve', { by: 'tester' })]);
      const results = (await Promise.all([nine.result(), eight.result()])) as ReleaseResult[];
      for (const r of results) {
        expect(r.outcome).toBe('promoted');
        expect(r.fileLists.map((l) => l.dir)).toEqual([productionCategory(site), site.productionRoot]);
      }

      const rootList = fs.readFileSync(path.join(site.productionRoot, 'fullfiletimelist-rocky'), 'utf8');
      const sigList = fs.readFileSync(path.join(productionCategory(site), 'fullfiletimelist-sig'), 'utf8');
      for (const release of ['9', '8']) {
        expect(rootList).toMatch(new RegExp(`\\tmirror/pub/sig/${release}/core/x86_64/core-common/repodata/repomd\\.xml\\n`));
        expect(sigList).toMatch(new RegExp(`\\t${release}/core/x86_64/core-common/repodata/repomd\\.xml\\n`));
      }
      expect(fs.existsSync(path.join(site.productionRoot, 'imagelist-rocky'))).toBe(true);

      for (const level of ['sig', 'root'] as const) {
        const { walks, atOnce } = await mostWalksAtOnce(client, fileListWriterId(level, site.productionRoot));
        expect(walks, level).toBeGreaterThanOrEqual(1);
        expect(atOnce, level).toBe(1);
      }
    });
  }, 600_000);
});
