// The compose stage as a child workflow: every reposync task of the plan with bounded parallelism, then
// extra files, verification, the manifest and, only if all of that succeeded, the atomic `latest` flip.
// Seed behaviour kept: a failed task does not stop its siblings (seed-systems.md §2 stage 1 step 7).
// Seed behaviour fixed: failures fail the compose, and `latest` is never flipped on failure (§7 risk 1).
import { ApplicationFailure, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { TaskResult, VerifyReport } from '../activities/compose.js';
import { reposyncLookahead, runBounded } from '../src/compose/bounded.js';
import type { ComposePlan, TaskPlan } from '../src/compose/types.js';
import { hostActivities } from './activityOptions.js';
import { innermostMessage, isUnexpected } from './failures.js';
import { composeStatusQuery, type ComposeInput, type ComposeStatus, type ReposyncTask } from './messages.js';

export interface ComposeResult {
  composeId: string;
  composeDir: string;
  dryRun: boolean;
  tasks: TaskResult[];
  /** Planned tasks with their URLs and destinations (what a dry run reports). */
  planned: Array<Pick<ReposyncTask, 'name' | 'baseUrl' | 'relDir'>>;
  verify: VerifyReport | null;
  manifest: string | null;
  latestFlipped: boolean;
  previousLatest: string | null;
}

export async function composeSig(input: ComposeInput): Promise<ComposeResult> {
  // Only sigRelease starts a compose (the worker registers no other workflow that does); one started directly by a
  // client has no parent and is refused before any activity runs. Its activities re-check everything anyway.
  if (patched('compose-only-as-child') && !workflowInfo().parent) {
    throw ApplicationFailure.create({
      type: 'ComposeRefused',
      nonRetryable: true,
      message: `composeSig runs only as the compose step of a sigRelease run; this one (${workflowInfo().workflowId}) was started directly. Start sigRelease instead.`,
    });
  }
  const { plan, roots } = input;
  const acts = hostActivities(input.timeouts, input.hostTaskQueue);
  const all = plan.batches.flat();
  const status: ComposeStatus = {
    composeId: plan.composeId,
    composeDir: null,
    tasks: all.map((t) => ({ name: t.name, state: 'pending' })),
    verified: null,
    latestFlipped: false,
  };
  setHandler(composeStatusQuery, () => status);
  const planned = all.map((t) => ({ name: t.name, baseUrl: t.baseUrl, relDir: t.relDir }));
  const startedAt = new Date().toISOString();

  const prepared = await acts.hostQuick.prepareCompose({ plan, roots });
  status.composeDir = prepared.composeDir;
  if (plan.dryRun) {
    return { composeId: plan.composeId, composeDir: prepared.composeDir, dryRun: true, tasks: [], planned, verify: null, manifest: null, latestFlipped: false, previousLatest: null };
  }

  const results: TaskResult[] = [];
  const failures: Array<{ task: string; message: string }> = [];
  // Each task's input without the task list (the activity takes it from its own plan): the history grows with the
  // tasks, not with their square (153 tasks: 5 MB of history with it; 500 would pass Temporal's 50 MB limit).
  const taskPlan = patched('reposync-input-without-task-list') ? planWithoutTasks(plan) : plan;
  // A few tasks more than the parallelism in flight: each waits at the worker for a slot of this compose, so the
  // next dnf starts as one ends, not a server round trip later; the worker still runs `parallelism` at once.
  const inFlight = patched('reposync-lookahead') ? plan.parallelism + reposyncLookahead(plan.parallelism) : plan.parallelism;
  await runBounded(all, inFlight, async (task, i) => {
    const row = status.tasks[i]!;
    row.state = 'running';
    try {
      const r = await acts.long.runReposyncTask({
        plan: taskPlan,
        task,
        composeDir: prepared.composeDir,
        dnfConfigPath: prepared.dnfConfigPath,
        rpmRoot: prepared.rpmRoot,
      });
      Object.assign(row, { state: 'done', downloaded: r.downloaded, skipped: r.skipped, bytes: r.bytes });
      results.push(r);
    } catch (e) {
      // A bug in our own code is not a failed task: it fails the workflow task until a fixed worker resumes.
      if (isCancellation(e) || isUnexpected(e)) throw e;
      const message = innermostMessage(e);
      Object.assign(row, { state: 'failed', error: message });
      failures.push({ task: task.name, message });
    }
  });
  if (failures.length > 0) {
    const names = failures.map((f) => f.task).join(', ');
    throw ApplicationFailure.create({
      type: 'ComposeFailed',
      nonRetryable: true,
      message: `${failures.length} of ${all.length} reposync tasks failed: ${names}; latest-SIG-${plan.sig}-${plan.release} was not changed.\n${failures[0]!.message}`,
      details: [failures],
    });
  }

  if (plan.deployExtraFiles && plan.extraFiles) {
    await acts.hostQuick.deployExtraFiles({ plan, composeDir: prepared.composeDir });
  }
  const verify = await acts.long.verifyCompose({ plan, composeDir: prepared.composeDir });
  status.verified = verify.ok;
  const manifest = await acts.hostQuick.writeComposeManifest({
    plan,
    composeDir: prepared.composeDir,
    tasks: results,
    verify,
    startedAt,
    finishedAt: new Date().toISOString(),
  });
  let previousLatest: string | null = null;
  // In place, the update is built in a new folder seeded from latest: latest flips to it only now, verified.
  if (plan.fullRun || patched('in-place-compose-in-new-folder')) {
    const flipped = await acts.hostQuick.flipLatestSymlink({ roots, release: plan.release, sig: plan.sig, composeDir: prepared.composeDir });
    previousLatest = flipped.previous;
    status.latestFlipped = true;
  }
  return {
    composeId: plan.composeId,
    composeDir: prepared.composeDir,
    dryRun: false,
    tasks: results,
    planned,
    verify,
    manifest,
    latestFlipped: status.latestFlipped,
    previousLatest,
  };
}

function planWithoutTasks(plan: ComposePlan): TaskPlan {
  const { batches: _tasks, ...rest } = plan;
  return rest;
}
