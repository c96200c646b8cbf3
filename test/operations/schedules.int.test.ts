// Nightly composes on Temporal Schedules against the shared dev server: a schedule starts ordinary sigRelease
// runs of its SIG and release (heavy activities faked), one at a time; creating it again updates it; bad input
// never creates one. Each test has its own SIG and release, and deletes what it created.
import { afterEach, describe, expect, it } from 'vitest';
import { ScheduleNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { CliError } from '../../src/client.js';
import { deleteSchedule, describeSchedule, scheduleIdFor, upsertSchedule, type ScheduleView } from '../../src/schedules.js';
import { statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/sigRelease.js';
import { testCatalogue, testClient, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { cliFor } from './cli.js';
import { Hold, fakeHeavyActivities, terminateLeftovers } from './fakes.js';

const small = { hashed: true, ignoreDebug: true, ignoreSource: true, arches: ['x86_64'] };
const runtime = { timeouts: { heartbeat: '2s' } };
/** Each `bin/sigrelease` start costs 3-10 s on a loaded 2-core machine; tests with several get more time. */
const CLI_HEAVY = 240_000;

const created: string[] = [];
const queues: string[] = [];
afterEach(async () => {
  const client = await testClient();
  for (const id of created.splice(0)) await client.schedule.getHandle(id).delete().catch(() => undefined);
  for (const q of queues.splice(0)) await terminateLeftovers(client, q);
});

function setup() {
  const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused-by-fakes' });
  const taskQueue = uniqueQueue('ops-schedules');
  queues.push(taskQueue);
  return { site, taskQueue, cli: cliFor(site, taskQueue) };
}

/** The runs a schedule started, as `sigrelease list` finds runs: by type, SIG and release search attributes. */
async function scheduledRuns(client: Client, sig: string, release: string, extra = ''): Promise<WorkflowExecutionInfo[]> {
  const query = `WorkflowType = "sigRelease" AND SigName = "${sig}" AND SigRelease = "${release}" AND TemporalScheduledById = "${scheduleIdFor(sig, release)}"${extra}`;
  const out: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query })) out.push(wf);
  return out;
}

describe('a nightly schedule', () => {
  it('with a seconds-long interval starts compose-only runs of its SIG and release, never two at once, until deleted', async () => {
    const { site, taskQueue } = setup();
    const compose = new Hold();
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site, { compose }) }, async ({ client }) => {
      const r = await upsertSchedule(client, site, testCatalogue(), { release: '8', sig: 'virt', ...small, mode: 'compose-only', interval: '2s', taskQueue, runtime });
      created.push(r.scheduleId);
      expect(r).toMatchObject({ scheduleId: 'sigrelease-nightly-virt-8', created: true });

      const [first] = await waitFor('the schedule to start a run', async () => {
        const runs = await scheduledRuns(client, 'virt', '8');
        return runs.length > 0 ? runs : undefined;
      });
      // The server appends the scheduled time to the action's workflow ID.
      expect(first!.workflowId).toMatch(/^sigrelease-virt-8-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      await compose.reached;

      // While the compose runs, later intervals are skipped (overlap SKIP), not queued or run side by side.
      const busy = await waitFor('an interval skipped because a run is going', async () => {
        const v = await describeSchedule(client, r.scheduleId);
        return v.skippedOverlap >= 1 ? v : undefined;
      });
      expect(busy.runningWorkflows).toEqual([first!.workflowId]);
      expect(await scheduledRuns(client, 'virt', '8')).toHaveLength(1);

      compose.release();
      const handle = client.workflow.getHandle(first!.workflowId);
      const result: ReleaseResult = await handle.result();
      expect(result).toMatchObject({ outcome: 'composed', sig: 'virt', release: '8', staging: null, decision: null });
      expect((await handle.query(statusQuery)).stage).toBe('composed');

      await deleteSchedule(client, r.scheduleId);
      await expect(describeSchedule(client, r.scheduleId)).rejects.toThrow(/no schedule sigrelease-nightly-virt-8/);
      // Runs it started before the delete go on to the end (here: at once, with fake composes).
      await waitFor('the scheduled runs to end', async () =>
        (await scheduledRuns(client, 'virt', '8', ' AND ExecutionStatus = "Running"')).length === 0 ? true : undefined,
      );
    });
  });

  it('runs the full pipeline when triggered, stopping at the approval gate; a second trigger is refused while it runs', async () => {
    const { site, taskQueue, cli } = setup();
    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site) }, async ({ client }) => {
      const r = await upsertSchedule(client, site, testCatalogue(), {
        release: '9', sig: 'virt', ...small, mode: 'full', calendar: { hour: 2, minute: 0 }, timezone: 'Europe/Berlin', taskQueue, runtime,
      });
      created.push(r.scheduleId);

      const trigger = await cli.run(['schedule', 'trigger', '9', 'virt']);
      expect(trigger.exitCode, trigger.stderr).toBe(0);
      expect(trigger.stdout).toContain('triggered schedule sigrelease-nightly-virt-9');
      const [run] = await waitFor('the triggered run', async () => {
        const runs = await scheduledRuns(client, 'virt', '9');
        return runs.length > 0 ? runs : undefined;
      });
      const handle = client.workflow.getHandle(run!.workflowId);
      await waitFor('the triggered run to wait at the gate', async () => ((await handle.query(statusQuery)).stage === 'awaiting-approval' ? true : undefined));

      const again = await cli.run(['schedule', 'trigger', '9', 'virt']);
      expect(again.exitCode).toBe(4);
      expect(again.stderr).toContain(`a release of virt 9 is running (${run!.workflowId}); nothing started`);

      await handle.cancel();
      const gone = await cli.run(['schedule', 'delete', '9', 'virt']);
      expect(gone.exitCode).toBe(0);
      const missing = await cli.run(['schedule', 'describe', '9', 'virt']);
      expect(missing.exitCode).toBe(3);
      expect(missing.stderr).toContain('no schedule sigrelease-nightly-virt-9');
      await waitFor('the run to end cancelled', async () => ((await handle.describe()).status.name === 'CANCELLED' ? true : undefined));
    });
  }, CLI_HEAVY);

  it('created twice is one schedule, updated in place; pause and unpause show in describe', async () => {
    const { taskQueue, cli } = setup();
    const id = scheduleIdFor('security', '8');
    created.push(id);
    const first = await cli.json<{ created: boolean; schedule: ScheduleView }>(['schedule', 'create', '--release', '8', '--sig', 'security', '--hashed', '--at', '02:00', '--paused']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.data.created).toBe(true);
    expect(first.data.schedule).toMatchObject({
      scheduleId: id,
      sig: 'security',
      release: '8',
      mode: 'compose-only',
      when: '02:00 daily UTC',
      calendar: { hour: 2, minute: 0 },
      timezone: 'UTC',
      taskQueue,
      workflowId: 'sigrelease-security-8',
      overlap: 'SKIP',
      catchupWindow: '1h',
      pauseOnFailure: true,
      paused: true,
      request: { release: '8', sig: 'security', hashed: true, fullRun: false, composeOnly: true },
    });

    const second = await cli.json<{ created: boolean; schedule: ScheduleView }>([
      'schedule', 'create', '--release', '8', '--sig', 'security', '--full', '--full-run',
      '--at', '03:30', '--days', 'mon-fri', '--timezone', 'Europe/Berlin', '--catchup-window', '2h',
    ]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.data.created).toBe(false);

    const described = await cli.json<ScheduleView>(['schedule', 'describe', '8', 'security']);
    expect(described.exitCode).toBe(0);
    expect(described.data).toMatchObject({
      scheduleId: id,
      mode: 'full',
      when: '03:30 MONDAY,TUESDAY,WEDNESDAY,THURSDAY,FRIDAY Europe/Berlin',
      calendar: { hour: 3, minute: 30, dayOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
      timezone: 'Europe/Berlin',
      catchupWindow: '2h',
      paused: true, // an update leaves a paused schedule paused
      request: { hashed: false, fullRun: true, composeOnly: false },
    });
    expect(described.data.createdAt).toBe(first.data.schedule.createdAt);
    expect(described.data.updatedAt).not.toBeNull();

    const listed = await cli.json<ScheduleView[]>(['schedule', 'list', '--sig', 'security', '--release', '8']);
    expect(listed.data.map((s) => s.scheduleId)).toEqual([id]);

    const human = await cli.run(['schedule', 'describe', '8', 'security']);
    expect(human.stdout).toContain(`schedule ${id}: PAUSED`);
    expect(human.stdout).toMatch(/runs +security 8, full pipeline \(stops at the approval gate\)/);
    expect(human.stdout).toMatch(/flags +--full-run\n/);
    expect(human.stdout).toMatch(/policies +overlap SKIP, catch-up window 2h, pauses on failure/);

    const unpaused = await cli.json<ScheduleView>(['schedule', 'unpause', '8', 'security']);
    expect(unpaused.data.paused).toBe(false);
    expect(unpaused.data.nextRuns.length).toBeGreaterThan(0);
    const paused = await cli.json<ScheduleView>(['schedule', 'pause', '8', 'security', '--note', 'mirror maintenance']);
    expect(paused.data).toMatchObject({ paused: true, note: 'mirror maintenance' });
  }, CLI_HEAVY);

  it('refuses bad input with a clear message, and creates nothing', async () => {
    const { site, cli } = setup();
    const client = await testClient();
    await expect(upsertSchedule(client, site, testCatalogue(), { release: '9', sig: 'nosuch' })).rejects.toThrow(/unknown SIG "nosuch"; known: .*virt/);
    await expect(client.schedule.getHandle(scheduleIdFor('nosuch', '9')).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    const unknown = await cli.run(['schedule', 'create', '--release', '9', '--sig', 'nosuch']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown SIG "nosuch"; known: .*virt/);
    const badTime = await cli.run(['schedule', 'create', '--release', '8', '--sig', 'desktop', '--at', '25:00']);
    expect(badTime.exitCode).toBe(2);
    expect(badTime.stderr).toContain('--at "25:00": use a time of day such as 02:00');
    await expect(client.schedule.getHandle(scheduleIdFor('desktop', '8')).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(describeSchedule(client, scheduleIdFor('nosuch', '9'))).rejects.toBeInstanceOf(CliError);
  });
});
