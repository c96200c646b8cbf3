// The compose activities trust no plan they are handed. A client that reaches Temporal can start the compose
// workflow directly with a plan of its own (relDirs that climb out, key URLs such as file:///etc/shadow, other
// roots), so each activity plans again from what the worker trusts, its own site config and SIG catalogue, and
// the request recorded in the plan (`options`, release, SIG, stamp), and refuses a plan that differs in anything.
// Pure: no I/O.
import { ConfigError, type Catalogue } from '../config/load.js';
import { checkRequest } from '../config/request.js';
import type { SiteConfig } from '../config/schema.js';
import type { Roots } from '../paths.js';
import { planCompose } from './plan.js';
import type { ComposePlan, ReposyncTask } from './types.js';

/** A plan, task or root handed to an activity that the worker's own config does not produce. */
export class PlanRefusedError extends Error {
  override name = 'PlanRefusedError';
}

const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
};

/** The first place where two JSON values differ, as a path (`batches.0.1.relDir`), or null when equal. */
export function firstDifference(given: unknown, expected: unknown, at = ''): { path: string; given: unknown; expected: unknown } | null {
  if (Object.is(given, expected)) return null;
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
  if (!isObj(given) || !isObj(expected) || Array.isArray(given) !== Array.isArray(expected)) return { path: at || '(the plan)', given, expected };
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(given)])];
  for (const k of keys) {
    const d = firstDifference(given[k], expected[k], at ? `${at}.${k}` : k);
    if (d) return d;
  }
  return null;
}

/** The request a plan claims to carry out, from its own recorded fields. */
function requestOf(plan: Partial<ComposePlan>): Record<string, unknown> {
  const o = plan.options;
  if (!o || typeof o !== 'object') throw new PlanRefusedError(`compose plan: no options recorded (got ${show(o)}); only a plan made by sigRelease can run`);
  const request: Record<string, unknown> = {
    release: plan.release,
    sig: plan.sig,
    hashed: o.hashed,
    cleanOldPackages: o.cleanOldPackages,
    fullRun: o.fullRun,
    dryRun: o.dryRun,
    ignoreDebug: o.ignoreDebug,
    ignoreSource: o.ignoreSource,
    refreshExtraFiles: o.refreshExtraFiles,
    repoclosure: o.repoclosure,
    disableGpgCheck: o.disableGpgCheck,
    disableRepoGpgCheck: o.disableRepoGpgCheck,
  };
  if (o.repos !== null) request['repos'] = o.repos;
  if (o.arches !== null) request['arches'] = o.arches;
  if (o.requestedBy !== null) request['requestedBy'] = o.requestedBy;
  return request;
}

/**
 * Plans the compose again from the worker's catalogue and site config and returns that plan when the given one is
 * the same in every field (the task list may be left out: TaskPlan); throws PlanRefusedError naming the first
 * field that differs and its value.
 */
export function recheckComposePlan(given: unknown, catalogue: Catalogue, site: SiteConfig): ComposePlan {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new PlanRefusedError(`compose plan: must be an object, got ${show(given)}`);
  const plan = given as Partial<ComposePlan>;
  let expected: ComposePlan;
  try {
    const { request, resolved } = checkRequest(requestOf(plan), catalogue, site);
    expected = planCompose(request, resolved, site, String(plan.stamp));
  } catch (e) {
    if (e instanceof ConfigError) throw new PlanRefusedError(`compose plan refused: ${e.message}`);
    throw e;
  }
  // As the plan travelled: through JSON (no undefined fields).
  const canonical = JSON.parse(JSON.stringify(expected)) as ComposePlan;
  // A task's input leaves the task list out (TaskPlan): every other field must still be the worker's, and the
  // task is then checked against the worker's own list (recheckTask), never against one it was handed.
  const { batches: _ownTasks, ...withoutTasks } = canonical;
  const d = firstDifference(given, 'batches' in plan ? canonical : withoutTasks);
  if (d) {
    throw new PlanRefusedError(
      `compose plan refused: ${d.path} is ${show(d.given)}, but the worker's catalogue and site config give ${show(d.expected)} ` +
        `for ${show(plan.sig)} ${show(plan.release)}; compose plans are made by sigRelease, not by clients`,
    );
  }
  return canonical;
}

/** The task of the trusted plan that `given` names, refused unless it is that task exactly. */
export function recheckTask(plan: ComposePlan, given: unknown): ReposyncTask {
  const name = (given as { name?: unknown } | null)?.name;
  const task = plan.batches.flat().find((t) => t.name === name);
  if (!task) throw new PlanRefusedError(`reposync task ${show(name)} is not part of compose ${plan.composeId}; its tasks: ${plan.batches.flat().map((t) => t.name).join(', ')}`);
  const d = firstDifference(given, task);
  if (d) throw new PlanRefusedError(`reposync task ${task.name}: ${d.path} is ${show(d.given)}, but the plan gives ${show(d.expected)}`);
  return task;
}

/** The worker's roots; roots handed in (by runs started before roots left the input) must be the same. */
export function recheckRoots(given: unknown, site: SiteConfig): Roots {
  const own: Roots = { composeRoot: site.composeRoot, stagingRoot: site.stagingRoot, productionRoot: site.productionRoot };
  if (given === undefined || given === null) return own;
  for (const key of ['composeRoot', 'stagingRoot', 'productionRoot'] as const) {
    const value = (given as Partial<Roots>)[key];
    if (value !== undefined && value !== own[key]) {
      throw new PlanRefusedError(`${key} ${show(value)} is not this worker's ${key} (${own[key]}): roots come from the site config, never from a request`);
    }
  }
  return own;
}
