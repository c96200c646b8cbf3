// Runs are found however they started: a run started with the README's `temporal workflow start` command
// (no search attributes given at start) names itself with SigName and SigRelease once its request is
// validated, so `sigrelease list --sig` and `sigrelease status` find it like a run our CLI started.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { releaseStatus, releaseWorkflowId } from '../../src/client.js';
import { temporalCliPath } from '../../src/devserver.js';
import { listRuns } from '../../src/cli/runs.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { serverAddress, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { cleanUp, composeWithoutDnf, fastRuntime, untilStage } from './support.js';

describe('a run started with the temporal CLI', () => {
  it('appears in `sigrelease list --sig` and `status` once it has validated its request', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const { address, namespace } = serverAddress();
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      // No other test uses the kernel SIG, so `status 9 kernel` can only mean this run.
      const workflowId = `${releaseWorkflowId('kernel', '9')}-started-with-temporal-cli`;
      try {
        // The README's command, with this test's server, namespace, task queue and a small request.
        const input = { release: '9', sig: 'kernel', hashed: true, fullRun: true, ignoreDebug: true, ignoreSource: true, arches: ['x86_64'], runtime: fastRuntime() };
        const started = await execa(
          temporalCliPath(),
          ['workflow', 'start', '--address', address, '--namespace', namespace, '--type', 'sigRelease', '--task-queue', taskQueue, '--workflow-id', workflowId, '--input', JSON.stringify(input)],
          { reject: false },
        );
        expect(started.exitCode, started.stderr).toBe(0);
        const handle = client.workflow.getHandle(workflowId);
        await untilStage(handle, 'awaiting-approval');

        const desc = await handle.describe();
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.sig)).toBe('kernel');
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.release)).toBe('9');
        // Visibility catches up with the upsert a moment later.
        const rows = await waitFor('the run in `sigrelease list --sig kernel --release 9`', async () => {
          const found = await listRuns(client, { sig: 'kernel', release: '9' });
          return found.some((r) => r.workflowId === workflowId && r.stage === 'awaiting-approval') ? found : undefined;
        });
        expect(rows.find((r) => r.workflowId === workflowId)).toMatchObject({ sig: 'kernel', release: '9', stage: 'awaiting-approval', status: 'running' });
        const status = await releaseStatus(client, '9', 'kernel');
        expect(status).toMatchObject({ sig: 'kernel', release: '9', stage: 'awaiting-approval' });
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
