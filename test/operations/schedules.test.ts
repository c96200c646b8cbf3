// What a schedule of a SIG and release is made of, and the input it refuses, without a server.
import { describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { parseDaysOfWeek, parseScheduleId, parseTimeOfDay, prepareSchedule } from '../../src/schedules.js';
import { scheduleInputFromFlags } from '../../src/cli/schedule.js';
import { runsQuery } from '../../src/cli/runs.js';

const catalogue = loadCatalogue();
const testCatalogue = () => catalogue;
const site = parseSite({
  composeRoot: '/srv/compose',
  stagingRoot: '/srv/staging',
  productionRoot: '/srv/production',
  repoBaseUrl: 'https://yumrepofs.example/v1/projects',
  releases: { '9': { revision: '9.7' }, '10': { revision: '10.0' } },
  temporal: { taskQueue: 'sigrelease-prod' },
});

describe('prepareSchedule', () => {
  it('builds one nightly compose per SIG and release: calendar time in its time zone, SKIP, explicit catch-up window, pause on failure', () => {
    const { scheduleId, options } = prepareSchedule(site, testCatalogue(), {
      release: '9',
      sig: 'core',
      hashed: true,
      fullRun: true,
      calendar: { hour: 2, minute: 30 },
      timezone: 'Europe/Berlin',
    });
    expect(scheduleId).toBe('sigrelease-nightly-core-9');
    expect(options.scheduleId).toBe('sigrelease-nightly-core-9');
    expect(options.spec).toEqual({ calendars: [{ hour: 2, minute: 30, comment: 'sigrelease core 9: 02:30 daily' }], timezone: 'Europe/Berlin' });
    expect(options.policies).toEqual({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000, pauseOnFailure: true });
    expect(options.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sigRelease', workflowId: 'sigrelease-core-9', taskQueue: 'sigrelease-prod' });
    // The validated request with its defaults, compose only by default, signed by the schedule.
    expect(options.action.args?.[0]).toMatchObject({ release: '9', sig: 'core', hashed: true, fullRun: true, composeOnly: true, dryRun: false, requestedBy: 'schedule sigrelease-nightly-core-9' });
    const attrs = (options.action.typedSearchAttributes as Array<{ key: { name: string }; value: unknown }>).map((p) => [p.key.name, p.value]);
    expect(attrs).toEqual([['SigName', 'core'], ['SigRelease', '9'], ['SigStage', 'validating']]);
    expect(options.state).toEqual({ paused: false, note: 'compose-only 02:30 daily Europe/Berlin' });
  });

  it('gives every run it starts a summary for the Web UI list: SIG, release, mode and the schedule as starter', () => {
    const { options } = prepareSchedule(site, testCatalogue(), { release: '9', sig: 'core', hashed: true, mode: 'full' });
    expect(options.action.staticSummary).toBe('core 9: full pipeline, in-place compose; started by schedule sigrelease-nightly-core-9');
    expect(options.action.staticDetails).toContain('- flags: `--hashed`');
  });

  it('runs the full pipeline (to the approval gate) in mode full, and every interval instead of a time when asked', () => {
    const { options } = prepareSchedule(site, testCatalogue(), { release: '10', sig: 'core', mode: 'full', interval: '90s', catchupWindow: '10m', taskQueue: 'q' });
    expect(options.spec).toEqual({ intervals: [{ every: 90_000 }] });
    expect(options.policies?.catchupWindow).toBe(600_000);
    expect(options.action.taskQueue).toBe('q');
    expect(options.action.args?.[0]).toMatchObject({ composeOnly: false });
  });

  it('refuses bad input before anything is built, naming what is allowed', () => {
    const cat = testCatalogue();
    const base = { release: '9', sig: 'core' };
    expect(() => prepareSchedule(site, cat, { ...base, sig: 'nosuch' })).toThrow(/unknown SIG "nosuch"; known: .*core/);
    expect(() => prepareSchedule(site, cat, { ...base, release: '7' })).toThrow(/SIG "core" has no release "7"/);
    expect(() => prepareSchedule(site, cat, { ...base, hashd: true })).toThrow(/hashd/);
    expect(() => prepareSchedule(site, cat, { ...base, timezone: 'Mars/Olympus' })).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => prepareSchedule(site, cat, { ...base, catchupWindow: '5s' })).toThrow(/shorter than the server's minimum of 10s/);
    expect(() => prepareSchedule(site, cat, { ...base, catchupWindow: 'soon' })).toThrow(/catch-up window "soon" is not a duration/);
    expect(() => prepareSchedule(site, cat, { ...base, interval: '0.5s' })).toThrow(/shorter than one second/);
    expect(() => prepareSchedule(site, cat, { ...base, calendar: { hour: 24, minute: 0 } })).toThrow(/not a time of day/);
    expect(() => prepareSchedule(site, cat, { ...base, mode: 'nightly' as never })).toThrow(/use compose-only or full/);
    expect(() => prepareSchedule(site, cat, { ...base, mode: 'full', composeOnly: true })).toThrow(/contradicts schedule mode "full"/);
  });
});

describe('schedule create flags', () => {
  it('turn into a schedule input: --at and --days make the calendar, --full the mode, the compose flags the request', () => {
    expect(scheduleInputFromFlags({ release: '9', sig: 'core', at: '03:15', days: 'mon-fri', full: true, hashed: true, arch: ['x86_64'], timezone: 'UTC' })).toEqual({
      release: '9',
      sig: 'core',
      mode: 'full',
      hashed: true,
      arches: ['x86_64'],
      timezone: 'UTC',
      calendar: { hour: 3, minute: 15, dayOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
    });
    expect(scheduleInputFromFlags({ release: '9', sig: 'core', interval: '5s' })).toEqual({ release: '9', sig: 'core', mode: 'compose-only', interval: '5s' });
    expect(() => scheduleInputFromFlags({ release: '9', sig: 'core', interval: '5s', at: '02:00' })).toThrow(/--at and --interval cannot be combined/);
  });

  it('parse times of day, days of the week (lists, ranges, ranges over the weekend) and schedule IDs', () => {
    expect(parseTimeOfDay('2:05')).toEqual({ hour: 2, minute: 5 });
    expect(() => parseTimeOfDay('24:00')).toThrow(/--at "24:00"/);
    expect(parseDaysOfWeek('sat,sun')).toEqual(['SUNDAY', 'SATURDAY']);
    expect(parseDaysOfWeek('fri-mon')).toEqual(['SUNDAY', 'MONDAY', 'FRIDAY', 'SATURDAY']);
    expect(() => parseDaysOfWeek('mo')).toThrow(/unknown day "mo"/);
    expect(parseScheduleId('sigrelease-nightly-alt-arch-10')).toEqual({ sig: 'alt-arch', release: '10' });
    expect(parseScheduleId('nightly-core')).toBeNull();
  });
});

describe('runsQuery', () => {
  it('lists running sigRelease runs by default and closed ones for a final stage or --all', () => {
    expect(runsQuery({})).toBe('(WorkflowType = "sigRelease" OR WorkflowType = "sigVault") AND ExecutionStatus = "Running"');
    expect(runsQuery({ stage: 'awaiting-approval', sig: 'core', release: '9' })).toBe(
      '(WorkflowType = "sigRelease" OR WorkflowType = "sigVault") AND SigStage = "awaiting-approval" AND SigName = "core" AND SigRelease = "9" AND ExecutionStatus = "Running"',
    );
    expect(runsQuery({ stage: 'failed' })).toBe('(WorkflowType = "sigRelease" OR WorkflowType = "sigVault") AND SigStage = "failed"');
    expect(runsQuery({ sig: 'core', all: true })).toBe('(WorkflowType = "sigRelease" OR WorkflowType = "sigVault") AND SigName = "core"');
  });

  it('refuses values that are not stages, SIG names or releases, so nothing reaches the query unchecked', () => {
    expect(() => runsQuery({ stage: 'waiting' })).toThrow(/unknown stage "waiting"/);
    expect(() => runsQuery({ sig: 'core" OR WorkflowType != "x' })).toThrow(/is not a SIG name/);
    expect(() => runsQuery({ release: '9 OR 1=1' })).toThrow(/is not a major release/);
  });
});
