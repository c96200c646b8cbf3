// What the compose activities share: dnf's environment and private folders, the dry-run refusal, and how a failed
// fetch becomes a failure, and how a handed-in plan becomes a trusted one. Not activities: activities/compose.ts
// lists those.
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { DnfIsolation } from '../src/compose/dnfConfig.js';
import { FetchError } from '../src/compose/files.js';
import { PlanRefusedError, recheckComposePlan, recheckRoots } from '../src/compose/trust.js';
import type { ComposePlan } from '../src/compose/types.js';
import { ConfigError, type Catalogue } from '../src/config/load.js';
import type { SiteConfig } from '../src/config/schema.js';
import { composeDir as datedComposeDir, composeLayout, type ComposeLayout, type Roots } from '../src/paths.js';
import { OutsideRootsError } from '../src/roots.js';

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

/** What the compose activities trust: the worker's own site config and SIG catalogue, nothing from the request. */
export interface ComposeDeps {
  site: SiteConfig;
  catalogue: Catalogue;
}

/** The plan, roots and compose folder an activity works on, all derived from the worker's own config. */
export interface TrustedCompose {
  plan: ComposePlan;
  roots: Roots;
  /** Always the run's own dated folder: in-place runs too build a new folder (seeded from `latest`). */
  composeDir: string;
  layout: ComposeLayout;
  dnfConfigPath: string;
  rpmRoot: string | null;
}

/**
 * Re-derives the compose from the handed-in plan (refused unless the catalogue and site config produce exactly it)
 * and checks that every path handed in is the derived one. Throws a non-retryable `PlanRefused`.
 */
export function trustCompose(deps: ComposeDeps, given: { plan: unknown; roots?: unknown; composeDir?: unknown; dnfConfigPath?: unknown; rpmRoot?: unknown }): TrustedCompose {
  try {
    const plan = recheckComposePlan(given.plan, deps.catalogue, deps.site);
    const roots = recheckRoots(given.roots, deps.site);
    const composeDir = datedComposeDir(roots, plan.release, plan.sig, plan.revision, plan.stamp);
    const layout = composeLayout(composeDir, plan.release, plan.sig, plan.stamp);
    const trusted: TrustedCompose = {
      plan,
      roots,
      composeDir,
      layout,
      dnfConfigPath: path.join(layout.dnf, 'dnf.conf'),
      rpmRoot: plan.gpgCheck ? path.join(layout.dnf, 'rpmroot') : null,
    };
    for (const key of ['composeDir', 'dnfConfigPath', 'rpmRoot'] as const) {
      if (given[key] !== undefined && given[key] !== trusted[key]) {
        throw new PlanRefusedError(`${key} ${JSON.stringify(given[key])} is not the one compose ${plan.composeId} uses (${JSON.stringify(trusted[key])}); paths come from the site config, never from a request`);
      }
    }
    return trusted;
  } catch (e) {
    throw refusal(e);
  }
}

/** A refused plan or path as the activity's failure: non-retryable, and the message names the value. */
export function refusal(e: unknown): unknown {
  if (e instanceof ConfigError) return ApplicationFailure.create({ type: 'PlanRefused', nonRetryable: true, message: e.message });
  if (e instanceof PlanRefusedError) return ApplicationFailure.create({ type: 'PlanRefused', nonRetryable: true, message: e.message });
  if (e instanceof OutsideRootsError) return ApplicationFailure.create({ type: 'PathRefused', nonRetryable: true, message: e.message });
  return e;
}

/** The compose root confinement of every path the compose activities write. */
export const composeRootOf = (t: TrustedCompose) => t.roots.composeRoot;
