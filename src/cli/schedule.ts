// `sigrelease schedule create|list|describe|pause|unpause|trigger|delete`: nightly composes of one SIG and release
// on a Temporal Schedule (src/schedules.ts). `create` takes the compose flags of `start` and is idempotent.
import { Command, Option } from 'commander';
import { CliError, EXIT } from '../errors.js';
// Only the checks at load time: the SDK (schedules.ts, the client, runs.ts) is imported once the input is good,
// so a refusal answers without it (README "CLI start-up").
import { SCHEDULE_DEFAULTS, checkScheduleInput, parseDaysOfWeek, parseTimeOfDay, scheduleIdFor, type ScheduleInput } from '../scheduleInput.js';
import type { ScheduleView } from '../schedules.js';
import type { SiteConfig } from '../config/schema.js';
import { action, checkReleaseArg, checkSigArg, loadConfig, loadSiteConfig, onlySig, print, type GlobalOptions } from './common.js';
import { badInputExit } from './runs-command.js';
import { registerPruneSchedule } from './prune.js';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** The compose flags of `start` (the `sync_sig` flags), as boolean request keys. */
const BOOLEAN_FLAGS = [
  ['--hashed', 'hashed', 'sync the hashed-<repo> variant (Packages/<letter>/ layout)'],
  ['--clean-old-packages', 'cleanOldPackages', 'delete local packages that left upstream (reposync --delete)'],
  ['--full-run', 'fullRun', 'new dated compose folder, then flip latest-SIG-<sig>-<rel>'],
  ['--dry-run', 'dryRun', 'say what would be synced; write nothing'],
  ['--ignore-debug', 'ignoreDebug', 'skip debug repos'],
  ['--ignore-source', 'ignoreSource', 'skip source repos'],
  ['--refresh-extra-files', 'refreshExtraFiles', 'redeploy the extra files (metadata/) in an in-place run'],
  ['--repoclosure', 'repoclosure', 'check every repo with dnf repoclosure before latest moves'],
  ['--disable-gpg-check', 'disableGpgCheck', 'do not check package signatures'],
  ['--disable-repo-gpg-check', 'disableRepoGpgCheck', 'do not check repomd.xml signatures'],
  // Kept so that `schedule create --allow-large-deletion` gets the reason it is refused, not "unknown option".
  ['--allow-large-deletion', 'allowLargeDeletion', 'refused: a schedule may not carry it (start that release by hand)'],
] as const;

interface CreateOptions {
  release: string;
  sig: string;
  repo?: string[];
  arch?: string[];
  composeOnly?: boolean;
  full?: boolean;
  at?: string;
  days?: string;
  timezone?: string;
  catchupWindow?: string;
  interval?: string;
  paused?: boolean;
  note?: string;
  requestedBy?: string;
  [flag: string]: unknown;
}

/** The `schedule create` flags → the input of upsertSchedule (validated there, before anything is touched). */
export function scheduleInputFromFlags(o: CreateOptions): ScheduleInput {
  if (o.at !== undefined && o.interval !== undefined) throw new CliError('--at and --interval cannot be combined: a schedule runs at a time of day or every interval', EXIT.badInput);
  if (o.days !== undefined && o.interval !== undefined) throw new CliError('--days and --interval cannot be combined', EXIT.badInput);
  const input: ScheduleInput = {
    release: o.release,
    sig: o.sig,
    mode: o.full ? 'full' : 'compose-only',
    ...(o.repo ? { repos: o.repo } : {}),
    ...(o.arch ? { arches: o.arch } : {}),
    ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
    ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
    ...(o.catchupWindow !== undefined ? { catchupWindow: o.catchupWindow } : {}),
    ...(o.interval !== undefined ? { interval: o.interval } : {}),
    ...(o.paused ? { paused: true } : {}),
    ...(o.note !== undefined ? { note: o.note } : {}),
  };
  for (const [, key] of BOOLEAN_FLAGS) if (o[key]) input[key] = true;
  if (o.interval === undefined) {
    const time = o.at !== undefined ? parseTimeOfDay(o.at) : SCHEDULE_DEFAULTS.calendar;
    input.calendar = { ...time, ...(o.days !== undefined ? { dayOfWeek: parseDaysOfWeek(o.days) } : {}) };
  }
  return input;
}

/** `schedule create`: the request as `start` takes it, plus when to run it. */
function registerCreate(schedule: Command, globals: () => GlobalOptions): void {
  const create = schedule
    .command('create')
    .description('create the schedule of a SIG and release, or update it if it exists')
    .requiredOption('--release <major>', 'major release, e.g. 9')
    .requiredOption('--sig <sig>', 'SIG name, e.g. core')
    .option('--repo <repos>', 'only these repos (comma list; in-place runs only)', list)
    .option('--arch <arches>', 'only these arches (comma list, "source" for sources)', list);
  for (const [flag, , help] of BOOLEAN_FLAGS) create.option(flag, help);
  create
    .addOption(new Option('--compose-only', 'stop after the compose (default)').conflicts('full'))
    .addOption(new Option('--full', 'the full pipeline: compose, staging, then wait at the approval gate').conflicts('composeOnly'))
    .option('--at <HH:MM>', `time of day in --timezone (default ${String(SCHEDULE_DEFAULTS.calendar.hour).padStart(2, '0')}:00)`)
    .option('--days <days>', 'only on these days: mon,wed,fri or mon-fri (default: every day)')
    .option('--timezone <tz>', 'IANA time zone of --at', SCHEDULE_DEFAULTS.timezone)
    .option('--catchup-window <duration>', 'how late a missed run may still start (minimum 10s)', SCHEDULE_DEFAULTS.catchupWindow)
    .option('--interval <duration>', 'instead of --at: every <duration>, e.g. 30s or 6h (tests, operations)')
    .option('--paused', 'create paused')
    .option('--note <text>', 'note shown with the schedule (e.g. why it is paused)')
    .option('--requested-by <name>', 'recorded in every run (default: the schedule)')
    .action(
      action(async (o: CreateOptions) => {
        const { site, catalogue } = loadConfig(globals(), onlySig(o.sig));
        const input = scheduleInputFromFlags(o);
        checkScheduleInput(site, catalogue, input); // bad input is refused before the SDK loads or anything connects
        const { describeSchedule, upsertSchedule } = await import('../schedules.js');
        const client = await connectTo(site);
        const r = await upsertSchedule(client, site, catalogue, input);
        const view = await describeSchedule(client, r.scheduleId);
        print(globals(), { created: r.created, schedule: view }, () => `${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}\n${formatSchedule(view)}`);
      }),
    );
}

/** What every command on one schedule does first: release and SIG checked (exit 2), a connection, the schedule's ID. */
async function openSchedule(globals: () => GlobalOptions, release: string, sig: string) {
  checkReleaseArg(release);
  checkSigArg(sig);
  const site = loadSiteConfig(globals());
  return { client: await connectTo(site), id: scheduleIdFor(sig, release), schedules: await import('../schedules.js') };
}

/** The SDK's client, loaded only here: after the input was found good. */
async function connectTo(site: SiteConfig) {
  const { connectClient } = await import('../client.js');
  return connectClient(site);
}

export function registerScheduleCommands(program: Command, globals: () => GlobalOptions) {
  // Set before the subcommands are added: they inherit it.
  const schedule = badInputExit(program.command('schedule'))
    .description('nightly composes on Temporal Schedules: one schedule per SIG and release')
    .addHelpText(
      'after',
      `\nEach schedule starts the ordinary pipeline (the same run as \`sigrelease start\`), at most one at a time\n` +
        `(overlap SKIP); a missed time still runs within the catch-up window; a failed run pauses the schedule.`,
    );

  registerCreate(schedule, globals);
  registerPruneSchedule(schedule, globals);

  schedule
    .command('list')
    .description('every sigrelease schedule: what it runs, when, and whether it is paused')
    .option('--sig <sig>', 'only this SIG')
    .option('--release <major>', 'only this major release')
    .action(
      action(async (o: { sig?: string; release?: string }) => {
        if (o.sig !== undefined) checkSigArg(o.sig);
        if (o.release !== undefined) checkReleaseArg(o.release);
        const site = loadSiteConfig(globals());
        const { listSchedules } = await import('../schedules.js');
        const client = await connectTo(site);
        const views = (await listSchedules(client)).filter((v) => (!o.sig || v.sig === o.sig) && (!o.release || v.release === o.release));
        print(globals(), views, () => formatScheduleTable(views));
      }),
    );

  schedule
    .command('describe <release> <sig>')
    .description('the schedule in full: request, time, policies, next and recent runs')
    .action(
      action(async (release: string, sig: string) => {
        const { client, id, schedules } = await openSchedule(globals, release, sig);
        const view = await schedules.describeSchedule(client, id);
        print(globals(), view, () => formatSchedule(view));
      }),
    );

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} <release> <sig>`)
      .description(verb === 'pause' ? 'stop starting runs until unpaused (running runs go on)' : 'start runs again at the scheduled times')
      .option('--note <text>', 'why (shown by describe and list)')
      .action(
        action(async (release: string, sig: string, o: { note?: string }) => {
          const { client, id, schedules } = await openSchedule(globals, release, sig);
          const view = await schedules.pauseSchedule(client, id, verb === 'pause', o.note);
          print(globals(), view, () => `${verb}d schedule ${view.scheduleId}${view.note ? `: ${view.note}` : ''}`);
        }),
      );
  }

  schedule
    .command('trigger <release> <sig>')
    .description('start a run now, with the schedule\'s request (refused while a run of this SIG and release is going)')
    .action(
      action(async (release: string, sig: string) => {
        const { client, id, schedules } = await openSchedule(globals, release, sig);
        await schedules.describeSchedule(client, id); // not found: exit 3 before anything else
        // SKIP would drop the trigger silently; say why instead. A hand-started run counts too: both write the same compose.
        const { runningRuns } = await import('./runs.js');
        const going = await runningRuns(client, release, sig);
        if (going.length > 0) {
          throw new CliError(`a release of ${sig} ${release} is running (${going.map((r) => r.workflowId).join(', ')}); nothing started`, EXIT.conflict);
        }
        await schedules.triggerSchedule(client, id);
        print(globals(), { scheduleId: id, triggered: true }, () => `triggered schedule ${id}; follow it with \`sigrelease list --sig ${sig} --release ${release}\``);
      }),
    );

  schedule
    .command('delete <release> <sig>')
    .description('delete the schedule (runs it started go on)')
    .action(
      action(async (release: string, sig: string) => {
        const { client, id, schedules } = await openSchedule(globals, release, sig);
        await schedules.deleteSchedule(client, id);
        print(globals(), { scheduleId: id, deleted: true }, () => `deleted schedule ${id}`);
      }),
    );
}

/** The request as the flags of `start`, e.g. `--hashed --full-run --arch x86_64`. */
export function requestFlags(request: Record<string, unknown>): string {
  const out: string[] = [];
  if (Array.isArray(request.repos)) out.push(`--repo ${request.repos.join(',')}`);
  if (Array.isArray(request.arches)) out.push(`--arch ${request.arches.join(',')}`);
  for (const [flag, key] of BOOLEAN_FLAGS) if (request[key] === true) out.push(flag);
  return out.join(' ') || '(none)';
}

export function formatSchedule(v: ScheduleView): string {
  return [
    `schedule ${v.scheduleId}: ${v.paused ? 'PAUSED' : 'active'}${v.note ? ` (${v.note})` : ''}`,
    `  runs      ${v.sig} ${v.release}, ${v.mode === 'full' ? 'full pipeline (stops at the approval gate)' : 'compose only'}`,
    `  when      ${v.when}`,
    `  flags     ${requestFlags(v.request)}`,
    `  queue     ${v.taskQueue}; workflow ID ${v.workflowId}-<scheduled time>`,
    `  policies  overlap ${v.overlap}, catch-up window ${v.catchupWindow}, ${v.pauseOnFailure ? 'pauses on failure' : 'keeps going on failure'}`,
    `  next      ${v.paused ? '(paused)' : v.nextRuns.slice(0, 3).join(', ') || '-'}`,
    `  recent    ${v.recentRuns.slice(-3).map((r) => r.workflowId).join(', ') || '-'}`,
    `  running   ${v.runningWorkflows.join(', ') || '-'}`,
    `  counts    ${v.actionsTaken} started, ${v.skippedOverlap} skipped (overlap), ${v.missedCatchupWindow} missed (catch-up window)`,
  ].join('\n');
}

function formatScheduleTable(views: ScheduleView[]): string {
  if (views.length === 0) return 'no sigrelease schedules';
  const head = ['SCHEDULE', 'SIG', 'REL', 'MODE', 'WHEN', 'STATE', 'NEXT'];
  const cells = views.map((v) => [v.scheduleId, v.sig, v.release, v.mode, v.when, v.paused ? 'paused' : 'active', v.paused ? '-' : (v.nextRuns[0] ?? '-')]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
