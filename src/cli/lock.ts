// `sigrelease lock status | force-release`: the production lock of this site's production root, for operators.
// The input (--by, --reason) is checked before the SDK loads or anything connects; whether --by may force the
// lock is decided by the worker, against its own site config (lock.operators), not here.
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { forceReleaseProblem } from '../../workflows/lockRequests.js';
import type { ForcedRelease, LockStatus } from '../../workflows/messages.js';
import { action, loadSiteConfig, print, type GlobalOptions } from './common.js';
import { badInputExit } from './runs-command.js';

export function registerLockCommands(program: Command, globals: () => GlobalOptions): void {
  const lock = badInputExit(program.command('lock')).description("the production lock of the site's production root: who holds it, who waits, forced releases");
  badInputExit(lock.command('status'))
    .description('holder, its grant number and lease end, the runs waiting, and the releases operators forced')
    .action(action(async () => lockStatusCommand(globals())));
  badInputExit(lock.command('force-release'))
    .description("take the lock from its holder (a run stuck in production); only for the site's lock.operators. The holder's further production writes are refused")
    .requiredOption('--reason <text>', 'why: recorded in the lock status and log')
    .option('--by <name>', 'your name as in lock.operators', process.env.SUDO_USER ?? process.env.USER)
    .action(action(async (o: { reason: string; by?: string }) => forceReleaseCommand(o, globals())));
}

async function lockStatusCommand(g: GlobalOptions): Promise<void> {
  const site = loadSiteConfig(g);
  const { connectClient } = await import('../client.js');
  const { lockWorkflowId, lockStatusQuery } = await import('../../workflows/productionLock.js');
  const client = await connectClient(site);
  const id = lockWorkflowId(site.productionRoot);
  const status = await notFoundAsNone(() => client.workflow.getHandle(id).query(lockStatusQuery));
  print(g, status ?? { lock: id, running: false }, () => (status ? formatLockStatus(id, status) : `${id}: not running (nobody holds or waits for production)`));
}

async function forceReleaseCommand(o: { reason: string; by?: string }, g: GlobalOptions): Promise<void> {
  const request = { by: o.by ?? '', reason: o.reason };
  const problem = forceReleaseProblem(request);
  if (problem) throw new CliError(`${problem.replace(/^"by"/, '--by').replace(/^"reason"/, '--reason')}`, EXIT.badInput);
  const site = loadSiteConfig(g);
  const { connectClient } = await import('../client.js');
  const { lockWorkflowId, forceReleaseUpdate } = await import('../../workflows/productionLock.js');
  const client = await connectClient(site);
  const id = lockWorkflowId(site.productionRoot);
  let forced: ForcedRelease;
  try {
    forced = await client.workflow.getHandle(id).executeUpdate(forceReleaseUpdate, { args: [request] });
  } catch (e) {
    throw refusal(e, id);
  }
  print(g, forced, () => `${id}: taken from ${forced.holder.workflowId}${forced.holder.token ? ` (grant ${forced.holder.token})` : ''} by ${forced.by} at ${forced.at}: ${forced.reason}`);
}

/** A refused update (not an operator, no holder) is exit 2 with the worker's reason; a missing lock is 3. */
function refusal(e: unknown, id: string): Error {
  const chain: Array<{ name?: string; type?: string; message?: string }> = [];
  for (let err = e as { cause?: unknown } | undefined; err; err = err.cause as typeof err) chain.push(err as (typeof chain)[number]);
  if (chain.some((x) => x.name === 'WorkflowNotFoundError')) return new CliError(`${id} is not running: nobody holds the production lock`, EXIT.notFound);
  const known = chain.find((x) => x.type === 'NotALockOperator' || x.type === 'NoLockHolder');
  if (known) return new CliError(known.message ?? String(e), EXIT.badInput);
  const invalid = chain.at(-1);
  if (chain.some((x) => x.name === 'WorkflowUpdateFailedError') && invalid?.message) return new CliError(`refused: ${invalid.message}`, EXIT.badInput);
  return e instanceof Error ? e : new Error(String(e));
}

async function notFoundAsNone<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { name?: string }).name === 'WorkflowNotFoundError') return null;
    throw e;
  }
}

export function formatLockStatus(id: string, s: LockStatus): string {
  const lines = [`${id} (release ${s.release})`];
  lines.push(s.holder ? `  holder:  ${s.holder}${s.token ? ` (grant ${s.token})` : ''} since ${s.heldSince}${s.leaseEndsAt ? `, lease ends ${s.leaseEndsAt}` : ''}` : '  holder:  none');
  lines.push(`  waiting: ${s.queue.length ? s.queue.join(', ') : 'none'}`);
  for (const f of s.forcedReleases ?? []) lines.push(`  forced:  ${f.at} by ${f.by} from ${f.holder.workflowId}: ${f.reason}`);
  for (const x of s.expiredLeases ?? []) lines.push(`  expired: ${x.at} lease of ${x.workflowId}${x.token ? ` (grant ${x.token})` : ''}`);
  return lines.join('\n');
}
