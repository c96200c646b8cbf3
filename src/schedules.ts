// Nightly composes on Temporal Schedules: one schedule per SIG and release, ID `sigrelease-nightly-<sig>-<release>`,
// whose action starts the ordinary `sigRelease` pipeline with a validated request. Creating is idempotent (an
// existing schedule is updated in place), and every input is checked before the server is touched.
// Policies (temporal-notes §2.8): overlap SKIP (never two composes of one SIG and release from the schedule),
// an explicit catch-up window (the SDK default is a year), and pause on failure (a broken compose is not retried
// every night until someone looks).
import {
  DAYS_OF_WEEK,
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
import { ConfigError, type Catalogue } from './config/load.js';
import { checkRequest } from './config/request.js';
import { checkRuntime } from './config/runtime.js';
import { planCompose } from './compose/plan.js';
import { composeStamp } from './paths.js';
import type { ReleaseRequest, SiteConfig } from './config/schema.js';
import { runDetails, runSummary } from './uiText.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { durationMs } from '../workflows/duration.js';
import type { RuntimeOptions, sigRelease } from '../workflows/sigRelease.js';

export const SCHEDULE_PREFIX = 'sigrelease-nightly-';
export const scheduleIdFor = (sig: string, release: string) => `${SCHEDULE_PREFIX}${sig}-${release}`;
/** Releases are digits only, so the last `-<digits>` is the release even when the SIG name has dashes. */
export function parseScheduleId(id: string): { sig: string; release: string } | null {
  const m = /^sigrelease-nightly-(.+)-(\d+)$/.exec(id);
  return m ? { sig: m[1]!, release: m[2]! } : null;
}

/** `compose-only`: stop after the compose. `full`: the whole pipeline, which then waits at the approval gate. */
export type ScheduleMode = 'compose-only' | 'full';
export const SCHEDULE_MODES: readonly ScheduleMode[] = ['compose-only', 'full'];

export const SCHEDULE_DEFAULTS = {
  mode: 'compose-only' as ScheduleMode,
  calendar: { hour: 2, minute: 0 },
  timezone: 'UTC',
  catchupWindow: '1h',
};
/** The server refuses shorter catch-up windows. */
const MIN_CATCHUP_MS = 10_000;

export interface CalendarTime {
  hour: number;
  minute: number;
  /** Every day when absent. */
  dayOfWeek?: DayOfWeek[];
}

/** What the schedule runs (the `start` flags: release, sig, hashed, fullRun, ...) and when. */
export interface ScheduleInput {
  release: string;
  sig: string;
  mode?: ScheduleMode;
  /** Local time in `timezone`; default 02:00. Ignored when `interval` is given. */
  calendar?: CalendarTime;
  /** Instead of a calendar time: every `interval` (tests and operations, e.g. "5s", "6h"). */
  interval?: string;
  /** IANA time zone of the calendar time; default UTC. */
  timezone?: string;
  /** How late a missed run (server down at 02:00) may still start; default 1h, minimum 10s. */
  catchupWindow?: string;
  /** Create paused, or pause/unpause an existing schedule; undefined keeps an existing schedule's state. */
  paused?: boolean;
  note?: string;
  /** Default: the site's `temporal.taskQueue`. */
  taskQueue?: string;
  /** Operational knobs of the started runs (tests shorten durations). */
  runtime?: RuntimeOptions;
  /** Any other key is a release-request flag (`hashed`, `fullRun`, `arches`, ...), validated with `checkRequest`. */
  [flag: string]: unknown;
}

const SCHEDULE_KEYS = ['mode', 'calendar', 'interval', 'timezone', 'catchupWindow', 'paused', 'note', 'taskQueue', 'runtime'] as const;

export interface PreparedSchedule {
  scheduleId: string;
  request: ReleaseRequest;
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof sigRelease>>;
}

/** Validates everything and builds the schedule; throws ConfigError (bad input) before anything is touched. */
export function prepareSchedule(site: SiteConfig, catalogue: Catalogue, input: ScheduleInput): PreparedSchedule {
  const raw: Record<string, unknown> = { ...input };
  for (const k of SCHEDULE_KEYS) delete raw[k];
  const mode = input.mode ?? SCHEDULE_DEFAULTS.mode;
  if (!SCHEDULE_MODES.includes(mode)) throw new ConfigError(`schedule mode ${JSON.stringify(mode)}: use ${SCHEDULE_MODES.join(' or ')}`);
  // The mode decides where the run stops; a `composeOnly` flag in the request may not say otherwise.
  if (raw.composeOnly !== undefined && raw.composeOnly !== (mode === 'compose-only')) {
    throw new ConfigError(`composeOnly: ${String(raw.composeOnly)} contradicts schedule mode "${mode}"; choose --compose-only or --full`);
  }
  raw.composeOnly = mode === 'compose-only';
  // A standing permission to delete beyond the guard, renewed every night, is what the guard exists to prevent.
  if (raw.allowLargeDeletion === true) {
    throw new ConfigError(
      'allowLargeDeletion: a schedule may not carry it (every scheduled run would skip the deletion guard); start that one release by hand with --allow-large-deletion, or approve its deletions at the gate',
    );
  }
  const { request, resolved } = checkRequest(raw, catalogue, site);
  planCompose(request, resolved, site, composeStamp(Date.now()));
  if (input.runtime !== undefined) checkRuntime(input.runtime);
  const scheduleId = scheduleIdFor(request.sig, request.release);
  if (request.requestedBy === undefined) request.requestedBy = `schedule ${scheduleId}`;

  const timezone = input.timezone ?? SCHEDULE_DEFAULTS.timezone;
  checkTimezone(timezone);
  const catchupWindow = input.catchupWindow ?? SCHEDULE_DEFAULTS.catchupWindow;
  const catchupMs = checkDuration('catch-up window', catchupWindow);
  if (catchupMs < MIN_CATCHUP_MS) throw new ConfigError(`catch-up window ${JSON.stringify(catchupWindow)} is shorter than the server's minimum of 10s`);

  let spec: ScheduleOptions['spec'];
  let when: string;
  if (input.interval !== undefined) {
    const everyMs = checkDuration('interval', input.interval);
    if (everyMs < 1000) throw new ConfigError(`interval ${JSON.stringify(input.interval)} is shorter than one second`);
    spec = { intervals: [{ every: everyMs }] };
    when = `every ${input.interval}`;
  } else {
    const cal: CalendarTime = input.calendar ?? SCHEDULE_DEFAULTS.calendar;
    checkCalendar(cal);
    when = `${formatTime(cal.hour, cal.minute)} ${cal.dayOfWeek?.length ? cal.dayOfWeek.join(',') : 'daily'}`;
    spec = {
      calendars: [{ hour: cal.hour, minute: cal.minute, ...(cal.dayOfWeek?.length ? { dayOfWeek: cal.dayOfWeek } : {}), comment: `sigrelease ${request.sig} ${request.release}: ${when}` }],
      timezone,
    };
  }

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

export function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ConfigError(`unknown time zone ${JSON.stringify(tz)}; use an IANA name such as UTC or Europe/Berlin`);
  }
}

export function checkDuration(what: string, value: string): number {
  try {
    const ms = durationMs(value);
    if (!(ms > 0)) throw new Error('not positive');
    return ms;
  } catch {
    throw new ConfigError(`${what} ${JSON.stringify(value)} is not a duration; use e.g. "30s", "10m", "1h", "1d"`);
  }
}

export function checkCalendar(cal: CalendarTime): void {
  if (!Number.isInteger(cal.hour) || cal.hour < 0 || cal.hour > 23 || !Number.isInteger(cal.minute) || cal.minute < 0 || cal.minute > 59) {
    throw new ConfigError(`calendar time ${cal.hour}:${cal.minute} is not a time of day (HH:MM, 00:00 to 23:59)`);
  }
  for (const d of cal.dayOfWeek ?? []) {
    if (!DAYS_OF_WEEK.includes(d)) throw new ConfigError(`unknown day of week ${JSON.stringify(d)}; use ${DAYS_OF_WEEK.join(', ')}`);
  }
}

/** `HH:MM` → hour and minute; throws ConfigError otherwise. */
export function parseTimeOfDay(s: string): { hour: number; minute: number } {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(s.trim());
  if (!m) throw new ConfigError(`--at ${JSON.stringify(s)}: use a time of day such as 02:00 or 23:30`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** `mon,wed,fri`, `mon-fri`, `sunday` → DAYS_OF_WEEK names. */
export function parseDaysOfWeek(s: string): DayOfWeek[] {
  const find = (name: string): number => {
    const n = name.trim().toUpperCase();
    const i = n.length >= 3 ? DAYS_OF_WEEK.findIndex((d) => d.startsWith(n)) : -1;
    if (i < 0) throw new ConfigError(`--days: unknown day ${JSON.stringify(name)}; use mon, tue, wed, thu, fri, sat, sun (lists a,b and ranges a-b)`);
    return i;
  };
  const out = new Set<DayOfWeek>();
  for (const part of s.split(',').filter((p) => p.trim())) {
    const [a = '', b] = part.split('-');
    const from = find(a);
    const to = b === undefined ? from : find(b);
    for (let i = from; ; i = (i + 1) % 7) {
      out.add(DAYS_OF_WEEK[i]!);
      if (i === to) break;
    }
  }
  if (out.size === 0) throw new ConfigError('--days: name at least one day');
  return DAYS_OF_WEEK.filter((d) => out.has(d));
}

const formatTime = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

function formatMs(ms: number): string {
  for (const [unit, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}
