// `sigrelease prune [--dry-run] [<release> <sig>]` and `sigrelease schedule prune ...`: retention of compose
// folders (src/retention/). The request is checked against the catalogue before the SDK loads or anything is
// contacted; the work is the pruneComposes workflow on the worker, so a schedule runs exactly the same thing.
import { Option, type Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { pruneTargets, pruneWorkflowId } from '../retention/targets.js';
import { action, checkReleaseArg, checkSigArg, loadConfig, print, type GlobalOptions } from './common.js';
import type { PruneResult } from '../../workflows/prune.js';
import { humanBytes } from '../publish/guard.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('prune [release] [sig]')
    .description('remove compose folders beyond the newest compose.keep of each SIG and release (never what latest, staging, production or a running release uses); both or neither argument')
    .option('--dry-run', 'say what would be removed and the bytes it would free; remove nothing')
    .action(action(async (release: string | undefined, sig: string | undefined, o: { dryRun?: boolean }) => pruneCommand(globals(), release, sig, o.dryRun === true)));
}

async function pruneCommand(g: GlobalOptions, release: string | undefined, sig: string | undefined, dryRun: boolean): Promise<number> {
  if (release !== undefined) checkReleaseArg(release);
  if (sig !== undefined) checkSigArg(sig);
  const { site, catalogue } = loadConfig(g);
  const targets = pruneTargets(catalogue, site, { release, sig, dryRun });
  const { connectClient } = await import('../client.js');
  const { WorkflowExecutionAlreadyStartedError } = await import('@temporalio/client');
  const client = await connectClient(site);
  const workflowId = pruneWorkflowId(release === undefined ? null : targets[0]!);
  try {
    const result: PruneResult = await client.workflow.execute('pruneComposes', {
      workflowId,
      taskQueue: site.temporal.taskQueue,
      args: [{ ...(release !== undefined ? { release, sig } : {}), dryRun }],
    });
    print(g, result, () => formatPruneResult(result));
    return EXIT.ok;
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`a prune is already running (${workflowId}); nothing started`, EXIT.conflict);
    throw e;
  }
}

export function formatPruneResult(r: PruneResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const p of r.reports) {
    if (p.kept.length === 0 && p.removed.length === 0) continue;
    lines.push(`${p.sig} ${p.release}: keeps ${p.kept.length} (compose.keep ${p.keep}), ${verb} ${p.removed.length}, ${humanBytes(p.bytesFreed)} freed${p.dryRun ? ' (dry run)' : ''}`);
    for (const k of p.kept) lines.push(`  keep    ${k.name}  (${k.reasons.join(', ')})`);
    for (const name of p.removed) lines.push(`  ${r.dryRun ? 'would rm' : 'removed '} ${name}`);
    if (p.filesStillLinked > 0) lines.push(`  ${p.filesStillLinked} file(s) of these stay: hard links from a kept compose still use them`);
  }
  lines.push(`${verb} ${r.removed} compose folder(s); ${humanBytes(r.bytesFreed)} ${r.dryRun ? 'would be ' : ''}freed (files whose last hard link went)`);
  return lines.join('\n');
}

/** `schedule prune`: one line in src/cli/schedule.ts adds it to the `schedule` command. */
export function registerPruneSchedule(schedule: Command, globals: () => GlobalOptions): void {
  schedule
    .command('prune [release] [sig]')
    .description('prune compose folders on a schedule (one schedule per SIG and release, or one for all); created or updated in place')
    .option('--dry-run', 'the scheduled prunes only report')
    .addOption(new Option('--at <HH:MM>', 'time of day in --timezone (default 03:00)').conflicts('interval'))
    .option('--days <days>', 'only on these days: mon,wed,fri or mon-fri (default: every day)')
    .option('--timezone <tz>', 'IANA time zone of --at', 'UTC')
    .option('--interval <duration>', 'instead of --at: every <duration>, e.g. 6h')
    .option('--paused', 'create paused')
    .option('--delete', 'delete this prune schedule instead')
    .action(
      action(async (release: string | undefined, sig: string | undefined, o: { dryRun?: boolean; at?: string; days?: string; timezone?: string; interval?: string; paused?: boolean; delete?: boolean }) => {
        if (release !== undefined) checkReleaseArg(release);
        if (sig !== undefined) checkSigArg(sig);
        const { site, catalogue } = loadConfig(globals());
        const { parseDaysOfWeek, parseTimeOfDay } = await import('../scheduleInput.js');
        const { preparePruneSchedule, upsertPruneSchedule } = await import('../retention/schedule.js');
        const input = {
          ...(release !== undefined ? { release } : {}),
          ...(sig !== undefined ? { sig } : {}),
          dryRun: o.dryRun === true,
          ...(o.interval !== undefined ? { interval: o.interval } : { calendar: { ...(o.at !== undefined ? parseTimeOfDay(o.at) : { hour: 3, minute: 0 }), ...(o.days !== undefined ? { dayOfWeek: parseDaysOfWeek(o.days) } : {}) } }),
          ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
          ...(o.paused ? { paused: true } : {}),
        };
        const { scheduleId } = preparePruneSchedule(site, catalogue, input); // refused here, before connecting
        const { connectClient } = await import('../client.js');
        const client = await connectClient(site);
        if (o.delete) {
          await client.schedule.getHandle(scheduleId).delete().catch((e: unknown) => {
            throw new CliError(`no prune schedule ${scheduleId} (${(e as Error).message})`, EXIT.notFound);
          });
          print(globals(), { scheduleId, deleted: true }, () => `deleted schedule ${scheduleId}`);
          return;
        }
        const r = await upsertPruneSchedule(client, site, catalogue, input);
        const d = await client.schedule.getHandle(r.scheduleId).describe();
        const next = d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString());
        print(globals(), { ...r, next, paused: d.state.paused, note: d.state.note ?? null }, () => `${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: ${d.state.note ?? ''}${d.state.paused ? ' (PAUSED)' : ''}\n  next  ${next.join(', ') || '-'}`);
      }),
    );
}
