// What the compose activities share: dnf's environment and private folders, the dry-run refusal, and how a failed
// fetch becomes a failure. Not activities: activities/compose.ts lists those.
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { DnfIsolation } from '../src/compose/dnfConfig.js';
import { FetchError } from '../src/compose/files.js';
import type { ComposePlan } from '../src/compose/types.js';
import type { ComposeLayout } from '../src/paths.js';

/** Same environment for every dnf and rpm we start: English, parseable messages, UTF-8 file names. */
export const DNF_ENV = { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
export const HEARTBEAT_EVERY_MS = 2000;

export function refuseDryRun(plan: ComposePlan, activity: string): void {
  if (plan.dryRun) {
    throw ApplicationFailure.create({ type: 'DryRunViolation', nonRetryable: true, message: `${activity} writes to the compose and must not run for a dry run (${plan.composeId})` });
  }
}

export const dnfDirs = (dnfDir: string): DnfIsolation => ({
  cacheDir: path.join(dnfDir, 'cache'),
  logDir: path.join(dnfDir, 'log'),
  persistDir: path.join(dnfDir, 'persist'),
  // Never created: dnf must read no repo files but the sections of our config.
  reposDir: path.join(dnfDir, 'no-repos.d'),
});

/** Where a run keeps the SIG keys it fetched once. */
export const keysDir = (layout: ComposeLayout) => path.join(layout.dnf, 'keys');

export function fetchFailure(type: string, what: string, e: unknown): ApplicationFailure {
  const permanent = e instanceof FetchError && e.permanent;
  return ApplicationFailure.create({
    type,
    // A 404/403 will not fix itself; a timeout or 5xx may (the retry policy bounds the attempts).
    nonRetryable: permanent,
    message: `${what}: ${(e as Error).message}${permanent ? ' (check the URL in the SIG catalogue or the site urlRewrites)' : ''}`,
  });
}
