// `sigrelease list` and `sigrelease cancel`, run as the real CLI against the shared dev server. The runs are real
// sigRelease workflows whose heavy activities are fakes (test/operations/fakes.ts). Each test uses its own SIG
// and release: runs are looked up by search attribute across the whole server.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import type { RunRow } from '../../src/cli/runs.js';
import { statusQuery, type Stage } from '../../workflows/messages.js';
import { testCatalogue, testClient, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { cliFor } from './cli.js';
import { Hold, fakeHeavyActivities, terminateLeftovers } from './fakes.js';

const small = { hashed: true, ignoreDebug: true, ignoreSource: true, arches: ['x86_64'] };
/** Short heartbeats: a cancelled activity learns it within seconds. */
const runtime = { timeouts: { heartbeat: '2s' } };

const queues: string[] = [];
afterEach(async () => {
  const client = await testClient();
  for (const q of queues.splice(0)) await terminateLeftovers(client, q);
});

function setup() {
  const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused-by-fakes' });
  const taskQueue = uniqueQueue('ops-runs');
  queues.push(taskQueue);
  return { site, taskQueue, cli: cliFor(site, taskQueue) };
}

async function start(client: Client, site: ReturnType<typeof setup>['site'], taskQueue: string, sig: string, release: string) {
  const workflowId = `${releaseWorkflowId(sig, release)}-${randomUUID().slice(0, 8)}`;
  return startRelease(client, site, testCatalogue(), { release, sig, ...small }, { taskQueue, workflowId, runtime });
}

async function untilStage(handle: Awaited<ReturnType<typeof start>>, stage: Stage) {
  return waitFor(`${handle.workflowId} to reach ${stage}`, async () => {
    const st = await handle.query(statusQuery);
    if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
    return st.stage === stage ? st : undefined;
  });
}

/** Waits until visibility (what `list` reads) shows the run with this stage and status. */
async function untilListed(client: Client, workflowId: string, stage: string, status = 'Running') {
  return waitFor(`${workflowId} listed as ${stage}/${status}`, async () => {
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}" AND SigStage = "${stage}" AND ExecutionStatus = "${status}"` })) return wf;
    return undefined;
  });
}

const ids = (rows: RunRow[]) => rows.map((r) => r.workflowId);
/** Each `bin/sigrelease` start costs 3-10 s on a loaded 2-core machine; tests with several get more time. */
const CLI_HEAVY = 240_000;

describe('sigrelease list', () => {
  it('lists runs by stage from their search attributes: running ones by default, finished ones with --all', async () => {
    const { site, taskQueue, cli } = setup();
    const composing = new Hold((sig, release) => sig === 'hpc' && release === '9');
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site, { compose: composing }) }, async ({ client }) => {
      const gated = await start(client, site, taskQueue, 'hpc', '8');
      const busy = await start(client, site, taskQueue, 'hpc', '9');
      await untilStage(gated, 'awaiting-approval');
      await composing.reached;
      await untilListed(client, gated.workflowId, 'awaiting-approval');
      await untilListed(client, busy.workflowId, 'composing');

      // Everything waiting for a decision, whatever its SIG.
      const waiting = await cli.json<RunRow[]>(['list', '--stage', 'awaiting-approval']);
      expect(waiting.exitCode).toBe(0);
      expect(waiting.data.find((r) => r.workflowId === gated.workflowId)).toMatchObject({
        mode: 'release',
        sig: 'hpc',
        release: '8',
        stage: 'awaiting-approval',
        status: 'running',
        closeTime: null,
        approver: null,
        scheduledBy: null,
      });
      expect(ids(waiting.data)).not.toContain(busy.workflowId);

      // The table: one line per run with its stage.
      const table = await cli.run(['list', '--sig', 'hpc']);
      expect(table.exitCode).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^WORKFLOW ID\s+SIG\s+REL\s+MODE\s+STAGE\s+STATUS\s+STARTED\s+APPROVER\s+SCHEDULE$/);
      expect(lines.find((l) => l.startsWith(gated.workflowId))).toMatch(/\s+hpc\s+8\s+release\s+awaiting-approval\s+running\s+/);
      expect(lines.find((l) => l.startsWith(busy.workflowId))).toMatch(/\s+hpc\s+9\s+release\s+composing\s+running\s+/);

      // Both end: one approved and promoted, one cancelled in the middle of its compose.
      await gated.signal('approve', { by: 'tester' });
      await busy.cancel();
      expect((await gated.result()).outcome).toBe('promoted');
      await expect(busy.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      await untilListed(client, gated.workflowId, 'promoted', 'Completed');
      await untilListed(client, busy.workflowId, 'cancelled', 'Canceled');

      const running = await cli.json<RunRow[]>(['list', '--sig', 'hpc']);
      expect(running.exitCode).toBe(0);
      expect(ids(running.data)).not.toContain(gated.workflowId);
      expect(ids(running.data)).not.toContain(busy.workflowId);

      const all = await cli.json<RunRow[]>(['list', '--sig', 'hpc', '--all']);
      expect(all.data.find((r) => r.workflowId === gated.workflowId)).toMatchObject({ stage: 'promoted', status: 'completed', approver: 'tester' });
      expect(all.data.find((r) => r.workflowId === busy.workflowId)).toMatchObject({ stage: 'cancelled', status: 'cancelled' });
      expect(all.data.find((r) => r.workflowId === gated.workflowId)?.closeTime).toEqual(expect.any(String));
    });
  }, CLI_HEAVY);

  it('refuses an unknown stage, a malformed SIG or limit with exit code 2 and says what is allowed', async () => {
    const { cli } = setup();
    const stage = await cli.run(['list', '--stage', 'waiting']);
    expect(stage.exitCode).toBe(2);
    expect(stage.stderr).toContain('unknown stage "waiting"; known: validating, composing, staging, awaiting-approval');
    const sig = await cli.run(['list', '--sig', 'core" OR SigName != "']);
    expect(sig.exitCode).toBe(2);
    expect(sig.stderr).toMatch(/is not a SIG name/);
    const limit = await cli.run(['list', '--limit', '0']);
    expect(limit.exitCode).toBe(2);
    expect(limit.stderr).toMatch(/--limit "0"/);
  }, CLI_HEAVY);
});

describe('sigrelease cancel', () => {
  it('cancels the run waiting at the gate, records the reason in its history, and --wait reports it ended cancelled', async () => {
    const { site, taskQueue, cli } = setup();
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site) }, async ({ client }) => {
      const run = await start(client, site, taskQueue, 'kernel', '8');
      await untilStage(run, 'awaiting-approval');
      await untilListed(client, run.workflowId, 'awaiting-approval');

      const r = await cli.json<{ workflowId: string; stage: string; reason: string; note: string | null; final: { status: string; stage: string } }>([
        'cancel', '8', 'kernel', '--reason', 'superseded by a newer compose', '--wait',
      ]);
      expect(r.exitCode).toBe(0);
      expect(r.data).toMatchObject({
        workflowId: run.workflowId,
        stage: 'awaiting-approval',
        reason: 'superseded by a newer compose',
        note: null,
        final: { status: 'cancelled', stage: 'cancelled' },
      });

      const d = await run.describe();
      expect(d.status.name).toBe('CANCELLED');
      const history = await run.fetchHistory();
      const requested = history.events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
      expect(requested?.workflowExecutionCancelRequestedEventAttributes?.cause).toBe('superseded by a newer compose');
      expect((await run.query(statusQuery)).stage).toBe('cancelled');
    });
  });

  it('says there is nothing to cancel (exit 3) when no run of that SIG and release is going, and refuses bad names (exit 2)', async () => {
    const { cli } = setup();
    const none = await cli.run(['cancel', '8', 'security']);
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toContain('no running release of security 8');
    const bad = await cli.run(['cancel', 'nine', 'security']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('release "nine" is not a major release');
  });

  it('lets a production promotion that has started finish: the cancel is accepted and the run still ends promoted', async () => {
    const { site, taskQueue, cli } = setup();
    const promoting = new Hold();
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site, { production: promoting }) }, async ({ client }) => {
      const run = await start(client, site, taskQueue, 'kernel', '9');
      await untilStage(run, 'awaiting-approval');
      await run.signal('approve', { by: 'tester' });
      await promoting.reached;
      await untilListed(client, run.workflowId, 'promoting');

      const r = await cli.json<{ workflowId: string; stage: string; note: string }>(['cancel', '9', 'kernel']);
      expect(r.exitCode).toBe(0);
      expect(r.data.workflowId).toBe(run.workflowId);
      expect(r.data.stage).toBe('promoting');
      expect(r.data.note).toMatch(/promotion is under way and finishes first/);

      promoting.release();
      const result = await run.result();
      expect(result.outcome).toBe('promoted');
      expect((await run.describe()).status.name).toBe('COMPLETED');
    });
  });
});
