// Deletion approval bound to the number, through the real pipeline on the dev server: the flags that weaken a
// check are shown at the gate (details, status, notification), and an approval with allowLargeDeletion does not
// cover deletions that appeared in staging after the preview the approver saw.
import fs from 'node:fs';
import path from 'node:path';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { formatStatus } from '../../src/cli/format.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal } from '../../workflows/messages.js';
import { failureChain, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, startWebhook, testWorkflowId, untilStage } from '../gate/support.js';

describe('allowLargeDeletion at the gate and in production', () => {
  it('shows the weakened checks at the gate, and stops before deleting more than the approved preview showed', async () => {
    const hook = await startWebhook();
    // The webhook URL is a secret: the worker is given it, the site file never holds it.
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    // Production holds a retired repo staging will not have: the preview deletes all 30 of its packages.
    const production = productionSigDir(site, '9', 'core');
    const retired = path.join(production, 'x86_64', 'core-retired', 'Packages', 'r');
    fs.mkdirSync(retired, { recursive: true });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(retired, `retired-${i}-1.0-1.el9.x86_64.rpm`), `retired ${i}\n`);

    await withWorkers({ site, webhookUrl: hook.url, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'deletion-cap');
      try {
        const request = { ...smallRelease('core'), allowLargeDeletion: true, disableGpgCheck: true };
        const handle = await startRelease(client, site, testCatalogue(), request, { taskQueue, workflowId, runtime: fastRuntime() });
        const gate = await untilStage(handle, 'awaiting-approval', 180_000);
        expect(gate.requestOverrides?.map((o) => o.split(':')[0])).toEqual(['disableGpgCheck', 'allowLargeDeletion']);
        expect(formatStatus(gate)).toContain('this request weakens checks:\n  disableGpgCheck: package signatures were NOT checked');
        const details = (await handle.query(workflowMetadataQuery)).currentDetails;
        expect(details).toContain('**This request weakens checks:**\n- disableGpgCheck');
        expect(details).toContain('- allowLargeDeletion');
        // The gate's notice is an activity of its own: the stage is shown before its post has necessarily arrived.
        const notice = await waitFor('the awaiting-approval notice', async () =>
          hook.posts.find((p) => p.body.props.event === 'awaiting-approval' && p.body.props.workflowId === workflowId),
        );
        expect(notice.body.text).toContain('- allowLargeDeletion: the request lets syncs delete more than publish.maxDeleteShare');
        expect(gate.productionPreview?.deleted.files).toBe(30);
        expect(gate.productionPreview?.guard.ok).toBe(false);

        // After the preview, the trees drift: production gains a file staging lacks, so the sync would now delete 31.
        fs.writeFileSync(path.join(retired, 'retired-late-1.0-1.el9.x86_64.rpm'), 'not in the preview\n');
        const before = treeDigest(production);
        const stagingBefore = treeDigest(stagingSigDir(site, '9', 'core'));

        await handle.signal(approveSignal, { by: 'alice', comment: 'core-retired is gone for good', allowLargeDeletion: true });
        const err = await handle.result().then(() => null, (e: unknown) => e);
        expect(failureChain(err)).toContain('DeletionExceedsApproval');
        expect(failureChain(err)).toContain('would now delete 31 files (approved: 30)');
        expect(treeDigest(production)).toEqual(before);
        expect(treeDigest(stagingSigDir(site, '9', 'core'))).toEqual(stagingBefore);
      } finally {
        await cleanUp(client, site, [workflowId]);
        await hook.close();
      }
    });
    // A whole release with real rsync (workflow bundle included) on a machine shared with other test runs.
  }, 300_000);
});
