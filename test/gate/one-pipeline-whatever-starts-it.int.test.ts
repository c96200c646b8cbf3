// One pipeline per SIG and release, whatever starts it: our CLI (`sigrelease-core-9`), a schedule (its runs carry
// the scheduled time in their ID) and `temporal workflow start` with any ID, all at once. Exactly one takes the
// turn (workflows/pipelineTurn.ts); the others are refused (PipelineBusy) or, scheduled, skipped, naming it.
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import { temporalCliPath } from '../../src/devserver.js';
import { describeSchedule, triggerSchedule, upsertSchedule } from '../../src/schedules.js';
import { givePipelineTurnBackSignal, pipelineTurnStatusQuery, rejectSignal, requestPipelineTurnSignal, statusQuery, type ReleaseStatus } from '../../workflows/messages.js';
import { pipelineTurnWorkflowId } from '../../workflows/pipelineTurnRules.js';
import type { ReleaseResult } from '../../workflows/sigRelease.js';
import { failureChain, serverAddress, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { cliFor } from '../operations/cli.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, untilStage } from './support.js';

/** `bin/sigrelease` takes seconds to start on a loaded machine; three starts and a second round need time. */
const SLOW = 300_000;

/** `temporal workflow start` as the README shows it, with this test's server, namespace and queue. */
async function startWithTemporalCli(taskQueue: string, workflowId: string, request: Record<string, unknown>) {
  const { address, namespace } = serverAddress();
  const input = JSON.stringify({ ...request, runtime: fastRuntime() });
  const r = await execa(
    temporalCliPath(),
    ['workflow', 'start', '--address', address, '--namespace', namespace, '--type', 'sigRelease', '--task-queue', taskQueue, '--workflow-id', workflowId, '--input', input],
    { reject: false },
  );
  expect(r.exitCode, r.stderr).toBe(0);
}

/** Waits until the run holds the gate, or has ended; returns its status then. */
async function settledStage(handle: WorkflowHandle): Promise<ReleaseStatus> {
  return waitFor(`${handle.workflowId} to reach the gate or end`, async () => {
    const st = await handle.query(statusQuery).catch(() => undefined);
    return st && ['awaiting-approval', 'failed', 'skipped', 'cancelled'].includes(st.stage) ? st : undefined;
  }, 120_000);
}

async function turnHolder(client: Client, composeRoot: string): Promise<string | null> {
  const st = await client.workflow.getHandle(pipelineTurnWorkflowId(composeRoot, 'core', '9')).query(pipelineTurnStatusQuery);
  return st.holder?.workflowId ?? null;
}

describe('one pipeline per SIG and release, whatever starts it', () => {
  it(
    'lets exactly one of a CLI start, a schedule trigger and a `temporal workflow start` go on, refuses or skips the others naming it, and lets the next one go once it ends',
    async () => {
      const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
      await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
        const cli = cliFor(site, taskQueue);
        const byHand = `by-hand-${uniqueQueue('temporal-cli')}`;
        const again = `again-${uniqueQueue('temporal-cli')}`;
        const ids: string[] = [releaseWorkflowId('core', '9'), byHand, again];
        const turnId = pipelineTurnWorkflowId(site.composeRoot, 'core', '9');
        // A full-pipeline schedule whose calendar is 12 hours away: only the trigger starts it.
        const { release, sig, ...flags } = smallRelease('core');
        const schedule = await upsertSchedule(client, site, testCatalogue(), {
          release,
          sig,
          ...flags,
          mode: 'full',
          calendar: { hour: (new Date().getUTCHours() + 12) % 24, minute: 0 },
          taskQueue,
          runtime: fastRuntime(),
        });
        try {
          // All three at once.
          const [byCli] = await Promise.all([
            cli.run(['start', '--release', '9', '--sig', 'core', '--hashed', '--full-run', '--ignore-debug', '--ignore-source', '--arch', 'x86_64', '--no-sign']),
            startWithTemporalCli(taskQueue, byHand, smallRelease('core')),
            triggerSchedule(client, schedule.scheduleId),
          ]);
          const scheduledId = (await waitFor('the triggered run', async () => (await describeSchedule(client, schedule.scheduleId)).recentRuns[0]))
            .workflowId;
          ids.push(scheduledId);
          expect(scheduledId).toMatch(/^sigrelease-core-9-\d{4}-/);

          const handles = [releaseWorkflowId('core', '9'), byHand, scheduledId].map((id) => client.workflow.getHandle(id));
          const stages = await Promise.all(handles.map(settledStage));
          const winners = handles.filter((_, i) => stages[i]!.stage === 'awaiting-approval');
          expect(winners.map((h) => h.workflowId), JSON.stringify(stages.map((s) => [s.stage, s.error]))).toHaveLength(1);
          const winner = winners[0]!;
          expect(await turnHolder(client, site.composeRoot)).toBe(winner.workflowId);
          expect((await winner.query(statusQuery)).pipelineTurn).toMatchObject({ turnWorkflowId: turnId, state: 'held' });

          for (const [i, handle] of handles.entries()) {
            if (handle === winner) continue;
            const st = stages[i]!;
            expect(st.pipelineTurn?.holder?.workflowId).toBe(winner.workflowId);
            // Nothing of the loser's was composed: it never got past the turn.
            expect(st.composeWorkflowId).toBeNull();
            const details = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
            expect(details).toContain(`workflow ${winner.workflowId}`);
            if (handle.workflowId === scheduledId) {
              // Skipped, not failed: a failed run would pause the schedule (pauseOnFailure).
              expect(st.stage).toBe('skipped');
              const result: ReleaseResult = await handle.result();
              expect(result.outcome).toBe('skipped');
              expect(result.skipped).toContain(`another pipeline of core 9 is running: workflow ${winner.workflowId}`);
              expect((await describeSchedule(client, schedule.scheduleId)).paused).toBe(false);
            } else {
              expect(st.stage).toBe('failed');
              expect(st.pipelineTurn?.state).toBe('refused');
              const failure = await handle.result().then(() => null, (e: unknown) => e);
              expect(failureChain(failure)).toMatch(new RegExp(`PipelineBusy another pipeline of core 9 is running: workflow ${escape(winner.workflowId)} \\(run `));
            }
          }
          // The CLI says who holds the turn: exit 4 when it was refused, 0 when its run reached the gate.
          if (winner.workflowId === releaseWorkflowId('core', '9')) expect(byCli.exitCode, byCli.stderr).toBe(0);
          else {
            expect(byCli.exitCode, byCli.stderr).toBe(4);
            expect(byCli.stderr).toContain(`another pipeline of core 9 is running: workflow ${winner.workflowId}`);
          }

          // Once the one that went on has ended, a new start of the same SIG and release goes on.
          await winner.signal(rejectSignal, { by: 'tester', comment: 'make room for the next run' });
          expect(((await winner.result()) as ReleaseResult).outcome).toBe('rejected');
          await startWithTemporalCli(taskQueue, again, smallRelease('core'));
          await untilStage(client.workflow.getHandle(again), 'awaiting-approval');
          expect(await turnHolder(client, site.composeRoot)).toBe(again);
        } finally {
          await client.schedule.getHandle(schedule.scheduleId).delete().catch(() => undefined);
          await cleanUp(client, site, [...ids, turnId]);
        }
      });
    },
    SLOW,
  );

  it('does not let a terminated holder block the next run, nor hand-sent messages move the turn; a dry run needs no turn', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const first = `first-${uniqueQueue('holder')}`;
      const next = `next-${uniqueQueue('holder')}`;
      const dry = `dry-${uniqueQueue('holder')}`;
      const turnId = pipelineTurnWorkflowId(site.composeRoot, 'core', '9');
      const start = (workflowId: string, request: Record<string, unknown> = smallRelease('core')) =>
        startRelease(client, site, testCatalogue(), request, { taskQueue, workflowId, runtime: fastRuntime() });
      try {
        const holder = await start(first);
        await untilStage(holder, 'awaiting-approval');
        expect(await turnHolder(client, site.composeRoot)).toBe(first);
        // Terminated: it never gives the turn back.
        await holder.terminate('the operator pulled the plug');

        const after = await start(next);
        await untilStage(after, 'awaiting-approval');
        expect(await turnHolder(client, site.composeRoot)).toBe(next);

        // Hand-sent messages do not move the turn: a give-back must name the holder's request, a malformed request
        // is ignored (the turn keeps answering), and one from a run that does not exist is refused while the holder runs.
        const turn = client.workflow.getHandle(turnId);
        const { runId } = await after.describe();
        await turn.signal(givePipelineTurnBackSignal, { workflowId: next, runId, requestId: randomUUID() });
        await turn.signal(requestPipelineTurnSignal, { workflowId: 'nobody', runId: 'no-run', requestId: 'typed-by-hand' });
        await turn.signal(requestPipelineTurnSignal, { workflowId: 'nobody', runId: randomUUID(), requestId: randomUUID() });
        const st = await waitFor('the hand-sent request to be refused', async () => {
          const s = await turn.query(pipelineTurnStatusQuery);
          return s.refused.some((x) => x.workflowId === 'nobody') ? s : undefined;
        });
        expect(st.holder?.workflowId).toBe(next);
        expect(st.refused.find((x) => x.workflowId === 'nobody')?.holder).toBe(next);

        // A dry run writes nothing shared, so it goes on while another run holds the turn.
        const { fullRun: _inPlace, ...inPlace } = smallRelease('core');
        const dryRun = await start(dry, { ...inPlace, dryRun: true });
        expect(((await dryRun.result()) as ReleaseResult).outcome).toBe('dry-run');
        expect((await dryRun.query(statusQuery)).pipelineTurn ?? null).toBeNull();
        expect(await turnHolder(client, site.composeRoot)).toBe(next);
      } finally {
        await cleanUp(client, site, [first, next, dry, turnId]);
      }
    });
  }, SLOW);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
