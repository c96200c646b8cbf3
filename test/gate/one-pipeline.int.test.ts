// One pipeline per SIG and release: the workflow ID says which, and a second start while one runs is refused.
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, startRelease } from '../../src/client.js';
import { rejectSignal } from '../../workflows/messages.js';
import { testCatalogue, testSite, withWorkers } from '../helpers/temporal.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, testWorkflowId, untilStage } from './support.js';

describe('one pipeline per SIG and release', () => {
  it('refuses a second start while a release of the same SIG and release runs, naming the running one; --attach follows it instead', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'one-pipeline');
      const start = (attach = false) => startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime(), attach });
      try {
        const first = await start();
        const running = await first.describe();
        await untilStage(first, 'awaiting-approval');

        const err = await start().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CliError);
        expect((err as CliError).exitCode).toBe(EXIT.conflict);
        expect((err as CliError).exitCode).toBe(4);
        expect((err as CliError).message).toBe(
          `a release of core 9 is already running: workflow ${workflowId} (run ${running.runId}, started ${running.startTime.toISOString()})` +
            '; watch it with `sigrelease status 9 core`, cancel it, or pass --attach',
        );

        const attached = await start(true);
        expect(attached.workflowId).toBe(workflowId);
        expect((await attached.describe()).runId).toBe(running.runId);

        // Once it has ended, the same SIG and release may start again: a new run under the same ID.
        await attached.signal(rejectSignal, { by: 'tester', comment: 'make room for the next run' });
        expect((await first.result()).outcome).toBe('rejected');
        const second = await start();
        const again = await second.describe();
        expect(again.runId).not.toBe(running.runId);
        expect(again.status.name).toBe('RUNNING');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
