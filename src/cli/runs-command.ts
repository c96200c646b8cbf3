// `sigrelease list` and `sigrelease cancel` as commands: flags, and the checks of every value, which run before the
// Temporal SDK is loaded (src/cli/runs.ts, the work itself) or anything connects.
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { SAFE_NAME } from '../config/schema.js';
import { FINAL_STAGES, STAGES, type Stage } from '../stages.js';
import type { RunFilter } from './runs.js';
import { action, loadSiteConfig, print, type GlobalOptions } from './common.js';

export { FINAL_STAGES, STAGES } from '../stages.js';
/** Commander's own refusals (missing argument, unknown option, conflicting flags) exit with 2 like ours, not 1. */
export function badInputExit(cmd: Command): Command {
  return cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput));
}

export function registerRunsCommands(program: Command, globals: () => GlobalOptions) {
  badInputExit(program.command('list'))
    .description('list releases by stage, SIG and release (default: the running ones)')
    .option('--stage <stage>', `only runs in this stage: ${STAGES.join(', ')}`)
    .option('--sig <sig>', 'only this SIG')
    .option('--release <major>', 'only this major release')
    .option('--all', 'finished runs too')
    .option('--limit <n>', 'at most this many runs, newest first', '100')
    .addHelpText('after', '\nExamples:\n  sigrelease list --stage awaiting-approval     everything waiting for a decision\n  sigrelease list --all --sig core --release 9  every run of core 9, newest first')
    .action(
      action(async (o: Omit<RunFilter, 'limit'> & { limit: string }) => {
        const filter: RunFilter = { ...o, limit: positiveInt('--limit', o.limit) };
        checkFilter(filter); // bad filters are refused before anything else
        const site = loadSiteConfig(globals());
        const { connectClient } = await import('../client.js');
        const { formatRuns, listRuns } = await import('./runs.js');
        const client = await connectClient(site);
        const rows = await listRuns(client, filter);
        print(globals(), rows, () => formatRuns(rows, filter));
      }),
    );

  badInputExit(program.command('cancel <release> <sig>'))
    .description('cancel the running release of a SIG (a production promotion that has started finishes first)')
    .option('--reason <text>', 'recorded in the run history')
    .option('--workflow-id <id>', 'which run, when more than one of this SIG and release is running')
    .option('--wait', 'wait until the run has ended and say how it ended')
    .action(
      action(async (release: string, sig: string, o: { reason?: string; workflowId?: string; wait?: boolean }) => {
        checkRelease(release);
        checkSig(sig);
        const site = loadSiteConfig(globals());
        const { connectClient } = await import('../client.js');
        const { cancelRun } = await import('./runs.js');
        const client = await connectClient(site);
        const r = await cancelRun(client, release, sig, o);
        print(globals(), r, () =>
          [
            `cancellation requested for ${r.workflowId} (stage: ${r.stage ?? 'unknown'}): ${r.reason}`,
            ...(r.note ? [`note: ${r.note}`] : []),
            ...(r.final ? [`${r.workflowId} ended: ${r.final.status}${r.final.stage ? ` (stage: ${r.final.stage})` : ''}`] : []),
          ].join('\n'),
        );
      }),
    );
}

/** Every value of a filter checked; runsQuery builds the query from them (nothing unchecked reaches it). */
export function checkFilter(f: RunFilter): void {
  if (f.stage !== undefined && !STAGES.includes(f.stage as Stage)) throw new CliError(`unknown stage ${JSON.stringify(f.stage)}; known: ${STAGES.join(', ')}`, EXIT.badInput);
  if (f.sig !== undefined) checkSig(f.sig);
  if (f.release !== undefined) checkRelease(f.release);
}

export function checkSig(sig: string): string {
  if (!SAFE_NAME.test(sig)) throw new CliError(`SIG ${JSON.stringify(sig)} is not a SIG name (letters, digits and . _ + -)`, EXIT.badInput);
  return sig;
}

export function checkRelease(release: string): string {
  if (!/^[0-9]+$/.test(release)) throw new CliError(`release ${JSON.stringify(release)} is not a major release such as 9`, EXIT.badInput);
  return release;
}

export function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} ${JSON.stringify(v)}: use a whole number of 1 or more`, EXIT.badInput);
  return n;
}
