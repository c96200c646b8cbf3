// `sigrelease schedule prune`: a Temporal Schedule that runs the pruneComposes workflow (workflows/prune.ts) at a
// time of day or every interval, for one SIG and release or for all. One schedule per target, created or updated
// in place; input is checked (targets against the catalogue, times, zones) before the server is touched.
// Type-only: `schedule prune` refuses bad input before the SDK loads (preparePruneSchedule is pure).
import type { Client, ScheduleOptions, ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { ConfigError, type Catalogue } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { SCHEDULE_DEFAULTS, checkCalendar, checkDuration, checkTimezone, type CalendarTime } from '../scheduleInput.js';
import type { pruneComposes } from '../../workflows/prune.js';
import { pruneTargets, pruneWorkflowId, type PruneTarget } from './targets.js';

export interface PruneScheduleInput {
  release?: string;
  sig?: string;
  dryRun?: boolean;
  /** Default 03:00 in `timezone`; ignored with `interval`. */
  calendar?: CalendarTime;
  interval?: string;
  timezone?: string;
  paused?: boolean;
  taskQueue?: string;
}

export const pruneScheduleId = (target: PruneTarget | null) => pruneWorkflowId(target).replace(/^sigrelease-prune-/, 'sigrelease-prune-schedule-');

export function preparePruneSchedule(site: SiteConfig, catalogue: Catalogue, input: PruneScheduleInput): { scheduleId: string; options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof pruneComposes>> } {
  const targets = pruneTargets(catalogue, site, { release: input.release, sig: input.sig, dryRun: input.dryRun });
  const target = input.release === undefined ? null : targets[0]!;
  const scheduleId = pruneScheduleId(target);
  const timezone = input.timezone ?? SCHEDULE_DEFAULTS.timezone;
  checkTimezone(timezone);
  let spec: ScheduleOptions['spec'];
  if (input.interval !== undefined) {
    const every = checkDuration('interval', input.interval);
    if (every < 1000) throw new ConfigError(`interval ${JSON.stringify(input.interval)} is shorter than one second`);
    spec = { intervals: [{ every }] };
  } else {
    const cal = input.calendar ?? { hour: 3, minute: 0 };
    checkCalendar(cal);
    spec = { calendars: [{ hour: cal.hour, minute: cal.minute, ...(cal.dayOfWeek?.length ? { dayOfWeek: cal.dayOfWeek } : {}) }], timezone };
  }
  return {
    scheduleId,
    options: {
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'pruneComposes',
        workflowId: pruneWorkflowId(target),
        taskQueue: input.taskQueue ?? site.temporal.taskQueue,
        args: [{ ...(target ?? {}), dryRun: input.dryRun === true }],
      },
      // A prune still going when the next is due has the same work to do: skip, never queue.
      policies: { overlap: 'SKIP', catchupWindow: checkDuration('catch-up window', SCHEDULE_DEFAULTS.catchupWindow), pauseOnFailure: false },
      state: { paused: input.paused ?? false, note: `prune ${target ? `${target.sig} ${target.release}` : 'every SIG and release'}${input.dryRun ? ' (dry run)' : ''}` },
    },
  };
}

/** Creates the prune schedule, or updates it in place when it exists. */
export async function upsertPruneSchedule(client: Client, site: SiteConfig, catalogue: Catalogue, input: PruneScheduleInput): Promise<{ scheduleId: string; created: boolean }> {
  const { scheduleId, options } = preparePruneSchedule(site, catalogue, input);
  try {
    await client.schedule.create(options);
    return { scheduleId, created: true };
  } catch (e) {
    const { ScheduleAlreadyRunning } = await import('@temporalio/client');
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
  }
  await client.schedule.getHandle(scheduleId).update((prev) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: { paused: input.paused ?? prev.state.paused, note: options.state?.note },
  }));
  return { scheduleId, created: false };
}
