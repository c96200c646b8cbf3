// Approval bound to what was reviewed: production gets the staging tree the approver saw, or nothing. The
// compose is faked (no dnf); staging, the preview with its digest, the production sync and its check are real.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { startRelease } from '../../src/client.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, approveUpdate, statusQuery } from '../../workflows/messages.js';
import { testCatalogue, testSite, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, testWorkflowId, untilStage } from './support.js';

/** The first package file under a staging tree. */
function firstRpm(dir: string): string {
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.rpm')) return path.join(e.parentPath, e.name);
  }
  throw new Error(`no .rpm under ${dir}`);
}

describe('approval bound to what was reviewed', () => {
  it('fails with StagingChangedSinceApproval and leaves production untouched when staging changed after the gate previewed it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'staging-changed');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        const atGate = await untilStage(handle, 'awaiting-approval');

        // The gate shows what an approval approves: in status and in the run's details.
        const fp = atGate.fingerprint!;
        expect(fp.composeId).toMatch(/^core-9/);
        expect(fp.stagingDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(fp.stagingEntries).toBeGreaterThan(0);
        const meta = await handle.query(workflowMetadataQuery);
        expect(meta.currentDetails).toContain(fp.stagingDigest);
        expect(meta.currentDetails).toContain(fp.composeId);

        // Someone rewrites a package in staging while the run waits (same size, so only the mtime tells).
        const staging = stagingSigDir(site, '9', 'core');
        const rpm = firstRpm(staging);
        fs.writeFileSync(rpm, fs.readFileSync(rpm, 'utf8').toUpperCase());
        fs.utimesSync(rpm, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));

        const ack = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', composeId: fp.composeId }] });
        expect(ack.accepted).toBe(true);

        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = (err as WorkflowFailedError).cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause).toMatchObject({ type: 'StagingChangedSinceApproval', nonRetryable: true });
        expect(cause!.message).toContain(`approved digest ${fp.stagingDigest}`);
        expect(cause!.message).toMatch(/staging now sha256:[0-9a-f]{64}/);
        expect(cause!.message).not.toContain(`staging now ${fp.stagingDigest}`);

        // Production was never written: the first release of core has no production tree at all.
        expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
        expect(await handle.query(statusQuery)).toMatchObject({ stage: 'failed' });
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });

  it('refuses a decision naming another compose (update refused, signal ignored), then promotes on one naming the compose at the gate', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'other-compose');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        const { fingerprint } = await untilStage(handle, 'awaiting-approval');
        const other = 'core-9-20200101.000000';

        const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', composeId: other }] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'DecisionRefused' });
        expect((refused as WorkflowUpdateFailedError).cause?.message).toContain(`names compose "${other}", but this run waits with compose ${fingerprint!.composeId}`);

        await handle.signal(approveSignal, { by: 'bob', composeId: other });
        const afterSignal = await handle.query(statusQuery);
        expect(afterSignal.decision).toBeNull();
        expect(afterSignal.warnings.join('\n')).toContain(`ignored approve signal from bob: the decision names compose "${other}"`);
        expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);

        await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', composeId: fingerprint!.composeId }] });
        expect((await handle.result()).outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
