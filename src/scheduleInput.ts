// What a schedule request says, checked: the schedule's ID, the release request it starts, when it runs. Pure and
// free of the Temporal SDK, so that `sigrelease schedule ...` refuses bad input before loading it (src/schedules.ts
// builds the Temporal Schedule from what this module accepted).
import type { DayOfWeek } from '@temporalio/client';
import { ConfigError, type Catalogue } from './config/load.js';
import { checkRequest } from './config/request.js';
import { checkRuntime } from './config/runtime.js';
import { planCompose } from './compose/plan.js';
import { composeStamp } from './paths.js';
import type { ReleaseRequest, SiteConfig } from './config/schema.js';
import { durationMs } from '../workflows/duration.js';
import type { RuntimeOptions } from '../workflows/sigRelease.js';

/** The SDK's DAYS_OF_WEEK (Sunday first), spelled here so that checking a day needs no SDK. */
export const DAYS_OF_WEEK: readonly DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

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

/** A schedule request as checkScheduleInput accepted it. */
export interface CheckedSchedule {
  scheduleId: string;
  request: ReleaseRequest;
  mode: ScheduleMode;
  timezone: string;
  catchupMs: number;
  /** Exactly one of the two. */
  everyMs?: number;
  calendar?: CalendarTime;
  /** In words, e.g. `02:00 daily` or `every 6h`. */
  when: string;
}

/** Validates everything a schedule request says; throws ConfigError (bad input) before anything is touched. */
export function checkScheduleInput(site: SiteConfig, catalogue: Catalogue, input: ScheduleInput): CheckedSchedule {
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
  const checked = { scheduleId, request, mode, timezone, catchupMs };
  if (input.interval !== undefined) {
    const everyMs = checkDuration('interval', input.interval);
    if (everyMs < 1000) throw new ConfigError(`interval ${JSON.stringify(input.interval)} is shorter than one second`);
    return { ...checked, everyMs, when: `every ${input.interval}` };
  }
  const calendar: CalendarTime = input.calendar ?? SCHEDULE_DEFAULTS.calendar;
  checkCalendar(calendar);
  return { ...checked, calendar, when: `${formatTime(calendar.hour, calendar.minute)} ${calendar.dayOfWeek?.length ? calendar.dayOfWeek.join(',') : 'daily'}` };
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

export const formatTime = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

