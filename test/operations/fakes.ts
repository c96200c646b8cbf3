// Stand-ins for the heavy activities (reposync, rsync, hardlink, file lists) for tests about operating runs:
// listing, cancelling, scheduling, the Web UI. Validation and planning (`resolveRelease`), the production
// lock and notifications stay real. A `Hold` parks an activity, heartbeating, until the test lets it go or
// the run is cancelled, so a test can look at a run in the stage it wants.
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Activities } from '../../activities/index.js';
import type { SiteConfig } from '../../src/config/schema.js';
import type { SyncPreview } from '../../src/publish/types.js';

export class Hold {
  private released = false;
  /** `appliesTo` picks the runs (by SIG and release) whose compose parks here; default: every run. */
  constructor(readonly appliesTo: (sig: string, release: string) => boolean = () => true) {}

  private markReached!: () => void;
  /** Resolves once an activity is parked on this hold. */
  readonly reached = new Promise<void>((r) => (this.markReached = r));

  /** Lets every parked (and every later) activity go on. */
  release(): void {
    this.released = true;
  }

  /** Called inside an activity: heartbeats until released; throws CancelledFailure once the run is cancelled. */
  async wait(): Promise<void> {
    this.markReached();
    const ctx = Context.current();
    while (!this.released) {
      ctx.heartbeat();
      await ctx.sleep(200);
    }
  }
}

const emptyPreview = (source: string, target: string, reportFile: string): SyncPreview => ({
  source,
  target,
  targetExists: false,
  added: { files: 3, bytes: 3000 },
  changed: { files: 0, bytes: 0 },
  deleted: { files: 0, bytes: 0 },
  attributesOnly: 0,
  dirs: { added: 1, deleted: 0 },
  deleteEntries: 0,
  targetFiles: 0,
  repos: {
    'x86_64/core-common': {
      added: { files: 3, bytes: 3000 },
      changed: { files: 0, bytes: 0 },
      deleted: { files: 0, bytes: 0 },
      attributesOnly: 0,
      targetFiles: 0,
      status: 'new',
    },
  },
  reportFile,
  itemizedLines: 4,
});

/** Heavy activities that only write a marker folder, answer at once, or park on a hold. */
export function fakeHeavyActivities(site: SiteConfig, holds: { compose?: Hold; production?: Hold } = {}): Partial<Activities> {
  const sync = (source: string, target: string, reportFile: string) => ({
    preview: emptyPreview(source, target, reportFile),
    guard: { ok: true },
    transferredFiles: 3,
    transferredBytes: 3000,
    durationMs: 1,
    scratchRemoved: [] as string[],
  });
  const fakes: Partial<Activities> = {
    async prepareCompose({ plan }) {
      const composeDir = path.join(site.composeRoot, `SIG-${plan.sig}-${plan.revision}-${plan.stamp}`);
      fs.mkdirSync(composeDir, { recursive: true });
      return { composeDir, layout: {} as never, dnfConfigPath: path.join(composeDir, 'dnf.conf'), rpmRoot: null } as Awaited<ReturnType<Activities['prepareCompose']>>;
    },
    async runReposyncTask({ plan, task }) {
      if (holds.compose?.appliesTo(plan.sig, plan.release)) await holds.compose.wait();
      return { name: task.name, repo: task.repo, kind: task.kind, arch: task.arch, downloaded: 1, skipped: 0, deleted: 0, bytes: 1000, packages: 1, durationMs: 1, attempt: 1 };
    },
    async deployExtraFiles() {
      return { files: [] };
    },
    async verifyCompose() {
      return { ok: true, repos: [], problems: [] };
    },
    async writeComposeManifest({ composeDir }) {
      return path.join(composeDir, 'manifest.json');
    },
    async flipLatestSymlink({ composeDir }) {
      return { previous: null, current: composeDir };
    },
    async syncToStaging({ source, target, reportFile }) {
      return sync(source, target, reportFile);
    },
    async previewProduction({ source, target, reportFile }) {
      return { ...emptyPreview(source, target, reportFile), guard: { ok: true } };
    },
    async syncToProduction({ source, target, reportFile }) {
      await holds.production?.wait();
      return { ...sync(source, target, reportFile), passes: [], resumedAfterPass: 0 };
    },
    // The fake syncs create no trees, so there is nothing to digest: the record says which compose, as the real one.
    async recordTreeSource(input) {
      return { compose: input.compose, composeId: input.composeId, digest: 'sha256:fake', recordedAt: input.recordedAt, workflowId: input.workflowId };
    },
    async hardlinkRelease() {
      return { linked: 0, savedBytes: 0, files: 0, saved: '0 B', durationMs: 1 };
    },
    async publishFileLists({ dir }) {
      return { dir, changed: [] } as unknown as Awaited<ReturnType<Activities['publishFileLists']>>;
    },
  };
  return fakes;
}

/**
 * Ends whatever still runs on a test's task queue once its worker is gone: the production lock workflow (which
 * otherwise idles for minutes on a queue nobody polls) and any run a failed test left behind.
 */
export async function terminateLeftovers(client: Client, taskQueue: string): Promise<void> {
  for await (const wf of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('test cleanup').catch(() => undefined);
  }
}
