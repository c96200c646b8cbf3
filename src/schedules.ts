// Nightly composes on Temporal Schedules: one schedule per SIG and release, ID `sigrelease-nightly-<sig>-<release>`,
// whose action starts the ordinary `sigRelease` pipeline with a validated request. Creating is idempotent (an
// existing schedule is updated in place), and every input is checked before the server is touched.
// Policies (temporal-notes §2.8): overlap SKIP (never two composes of one SIG and release from the schedule),
// an explicit catch-up window (the SDK default is a year), and pause on failure (a broken compose is not retried
// every night until someone looks).
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type DayOfWeek,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { CliError, EXIT, releaseWorkflowId } from './client.js';
import type { Catalogue } from './config/load.js';
import type { ReleaseRequest, SiteConfig } from './config/schema.js';
import { DAYS_OF_WEEK, checkScheduleInput, formatTime, parseScheduleId, SCHEDULE_PREFIX, type CalendarTime, type ScheduleInput, type ScheduleMode } from './scheduleInput.js';
import { runDetails, runSummary } from './uiText.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import type { sigRelease } from '../workflows/sigRelease.js';

// The checks live in scheduleInput.ts (no SDK there); re-exported for the callers that know them from here.
export {
  SCHEDULE_DEFAULTS,
  SCHEDULE_MODES,
  SCHEDULE_PREFIX,
  checkCalendar,
  checkDuration,
  checkScheduleInput,
  checkTimezone,
  parseDaysOfWeek,
  parseScheduleId,
  parseTimeOfDay,
  scheduleIdFor,
  type CalendarTime,
  type CheckedSchedule,
  type ScheduleInput,
  type ScheduleMode,
} from './scheduleInput.js';

export interface PreparedSchedule {
  scheduleId: string;
  request: ReleaseRequest;
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof sigRelease>>;
}

/** Validates everything (scheduleInput.ts) and builds the schedule; throws ConfigError (bad input) before anything is touched. */
export function prepareSchedule(site: SiteConfig, catalogue: Catalogue, input: ScheduleInput): PreparedSchedule {
  const { scheduleId, request, mode, timezone, catchupMs, everyMs, calendar: cal, when } = checkScheduleInput(site, catalogue, input);
  const spec: ScheduleOptions['spec'] =
    everyMs !== undefined
      ? { intervals: [{ every: everyMs }] }
      : {
          calendars: [{ hour: cal!.hour, minute: cal!.minute, ...(cal!.dayOfWeek?.length ? { dayOfWeek: cal!.dayOfWeek } : {}), comment: `sigrelease ${request.sig} ${request.release}: ${when}` }],
          timezone,
        };

  const sigAttrs = [
    { key: SEARCH_ATTRIBUTES.sig, value: request.sig },
    { key: SEARCH_ATTRIBUTES.release, value: request.release },
  ];
  return {
    scheduleId,
    request,
    options: {
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'sigRelease',
        // The server appends the scheduled time: sigrelease-core-9-2026-11-26T02:00:00Z.
        workflowId: releaseWorkflowId(request.sig, request.release),
        taskQueue: input.taskQueue ?? site.temporal.taskQueue,
        args: [{ ...request, ...(input.runtime ? { runtime: input.runtime } : {}) }],
        typedSearchAttributes: [...sigAttrs, { key: SEARCH_ATTRIBUTES.stage, value: 'validating' }],
        memo: { request, schedule: scheduleId },
        staticSummary: runSummary(request),
        staticDetails: runDetails(request),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: catchupMs, pauseOnFailure: true },
      // On the schedule itself too: `temporal schedule list --query 'SigName = "core"'`.
      typedSearchAttributes: sigAttrs,
      state: { paused: input.paused ?? false, note: input.note ?? `${mode} ${when}${input.interval === undefined ? ` ${timezone}` : ''}` },
    },
  };
}

/** Creates the schedule of a SIG and release, or updates it in place when it exists (one schedule, new settings). */
export async function upsertSchedule(
  client: Client,
  site: SiteConfig,
  catalogue: Catalogue,
  input: ScheduleInput,
): Promise<{ scheduleId: string; created: boolean; request: ReleaseRequest }> {
  const { scheduleId, request, options } = prepareSchedule(site, catalogue, input);
  try {
    await client.schedule.create(options);
    return { scheduleId, created: true, request };
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
  }
  await client.schedule.getHandle(scheduleId).update((prev) => {
    // A paused schedule stays paused (and keeps the note saying why) unless the caller says otherwise.
    const stillPaused = input.paused === undefined && prev.state.paused;
    return {
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      typedSearchAttributes: options.typedSearchAttributes,
      state: {
        paused: input.paused ?? prev.state.paused,
        note: input.note ?? (stillPaused ? prev.state.note : options.state?.note),
        ...(prev.state.remainingActions !== undefined ? { remainingActions: prev.state.remainingActions } : {}),
      },
    };
  });
  return { scheduleId, created: false, request };
}

/** A schedule as operators read it: what it runs, when, what it did, what it will do. */
export interface ScheduleView {
  scheduleId: string;
  sig: string;
  release: string;
  mode: ScheduleMode;
  /** The release request every run gets. */
  request: Record<string, unknown>;
  when: string;
  calendar: CalendarTime | null;
  interval: string | null;
  timezone: string | null;
  taskQueue: string;
  workflowId: string;
  overlap: string;
  catchupWindow: string;
  pauseOnFailure: boolean;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; startedAt: string; workflowId: string; runId: string }>;
  runningWorkflows: string[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  createdAt: string;
  updatedAt: string | null;
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleView> {
  try {
    return viewOf(await client.schedule.getHandle(scheduleId).describe());
  } catch (e) {
    throw notFound(e, scheduleId);
  }
}

/** Every sigrelease schedule (other schedules in the namespace are left out), by ID. */
export async function listSchedules(client: Client): Promise<ScheduleView[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(SCHEDULE_PREFIX)) ids.push(s.scheduleId);
  const views = await Promise.all(
    ids.sort().map((id) => client.schedule.getHandle(id).describe().then(viewOf, (e: unknown) => (e instanceof ScheduleNotFoundError ? null : Promise.reject(e)))),
  );
  return views.filter((v): v is ScheduleView => v !== null);
}

export async function pauseSchedule(client: Client, scheduleId: string, paused: boolean, note?: string): Promise<ScheduleView> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const text = note ?? `${paused ? 'paused' : 'unpaused'} with sigrelease by ${process.env.SUDO_USER ?? process.env.USER ?? 'unknown'}`;
    await (paused ? handle.pause(text) : handle.unpause(text));
    return viewOf(await handle.describe());
  } catch (e) {
    throw notFound(e, scheduleId);
  }
}

/**
 * Starts a run now, with the schedule's own overlap policy (SKIP): the SDK's default for a trigger would be
 * ALLOW_ALL, i.e. a second compose of the same SIG and release writing the same folders.
 */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
  } catch (e) {
    throw notFound(e, scheduleId);
  }
}

/** Deletes the schedule; runs it already started go on. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (e) {
    throw notFound(e, scheduleId);
  }
}

function viewOf(d: ScheduleDescription): ScheduleView {
  const args = (d.action.args?.[0] ?? {}) as Record<string, unknown>;
  const { runtime: _runtime, ...request } = args;
  const cal = d.spec.calendars?.[0];
  const interval = d.spec.intervals?.[0];
  const calendar: CalendarTime | null = cal
    ? {
        hour: cal.hour[0]?.start ?? 0,
        minute: cal.minute[0]?.start ?? 0,
        ...(isEveryDay(cal.dayOfWeek) ? {} : { dayOfWeek: cal.dayOfWeek.flatMap((r) => DAYS_OF_WEEK.slice(DAYS_OF_WEEK.indexOf(r.start), DAYS_OF_WEEK.indexOf(r.end) + 1)) }),
      }
    : null;
  const ids = parseScheduleId(d.scheduleId) ?? { sig: String(request.sig ?? ''), release: String(request.release ?? '') };
  return {
    scheduleId: d.scheduleId,
    sig: ids.sig,
    release: ids.release,
    mode: request.composeOnly === false ? 'full' : 'compose-only',
    request,
    when: calendar
      ? `${formatTime(calendar.hour, calendar.minute)} ${calendar.dayOfWeek ? calendar.dayOfWeek.join(',') : 'daily'} ${d.spec.timezone ?? 'UTC'}`
      : interval
        ? `every ${formatMs(interval.every)}`
        : 'never (no calendar or interval)',
    calendar,
    interval: interval ? formatMs(interval.every) : null,
    timezone: cal ? (d.spec.timezone ?? 'UTC') : null,
    taskQueue: d.action.taskQueue,
    workflowId: d.action.workflowId,
    overlap: d.policies.overlap ?? 'SKIP', // unspecified means the server's default, SKIP
    catchupWindow: formatMs(d.policies.catchupWindow),
    pauseOnFailure: d.policies.pauseOnFailure,
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      startedAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
    runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    createdAt: d.info.createdAt.toISOString(),
    updatedAt: d.info.lastUpdatedAt?.toISOString() ?? null,
  };
}

function isEveryDay(ranges: Array<{ start: DayOfWeek; end: DayOfWeek; step: number }>): boolean {
  return ranges.length === 0 || (ranges.length === 1 && ranges[0]!.start === 'SUNDAY' && ranges[0]!.end === 'SATURDAY' && ranges[0]!.step <= 1);
}

function notFound(e: unknown, scheduleId: string): unknown {
  if (e instanceof ScheduleNotFoundError) {
    return new CliError(`no schedule ${scheduleId}; see \`sigrelease schedule list\``, EXIT.notFound);
  }
  return e;
}

function formatMs(ms: number): string {
  for (const [unit, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}
