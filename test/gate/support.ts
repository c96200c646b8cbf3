// What the gate tests share: a small release request, a compose without dnf (for tests that are not about
// the compose), a recording webhook, and waiting for a stage.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { createActivities } from '../../activities/index.js';
import { releaseWorkflowId } from '../../src/client.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { composeDir, composeLayout, latestLink } from '../../src/paths.js';
import { statusQuery, type ReleaseStatus, type Stage } from '../../workflows/messages.js';
import { lockWorkflowId } from '../../workflows/productionLock.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';
import { uniqueQueue } from '../helpers/temporal.js';

export type ActivityOverrides = Partial<ReturnType<typeof createActivities>>;

/** One arch, binaries only: the smallest release the catalogue allows. */
export const smallRelease = (sig: string, release = '9') => ({
  release,
  sig,
  hashed: true,
  fullRun: true,
  ignoreDebug: true,
  ignoreSource: true,
  arches: ['x86_64'],
});

/** A workflow ID of the pipeline's shape that no other test uses. */
export const testWorkflowId = (sig: string, label: string, release = '9') => `${releaseWorkflowId(sig, release)}-${uniqueQueue(label)}`;

/** Seconds instead of days; activity retries fast and few. */
export const fastRuntime = (approval: RuntimeOptions['approval'] = {}): RuntimeOptions => ({
  approval: { reminderInterval: '1h', expireAfter: '10m', ...approval },
  timeouts: { heartbeat: '30s', retryInitial: '1s', maxAttempts: 2 },
});

/**
 * The compose without dnf: folders as the real one makes them, and each reposync task writes a tiny repo
 * (two package files and a repomd.xml). Staging, preview, production, hardlink and file lists stay real.
 */
export function composeWithoutDnf(): ActivityOverrides {
  return {
    async prepareCompose({ plan, roots }) {
      // The workflow still hands its roots to the compose child; the real activities check them against the site.
      roots = roots!;
      const dir = plan.fullRun ? composeDir(roots, plan.release, plan.sig, plan.revision, plan.stamp) : await fs.realpath(latestLink(roots, plan.release, plan.sig));
      const layout = composeLayout(dir, plan.release, plan.sig, plan.stamp);
      for (const d of [layout.sigRoot, layout.entries, layout.logs, layout.dnf]) await fs.mkdir(d, { recursive: true });
      return { composeDir: dir, layout, dnfConfigPath: path.join(layout.dnf, 'dnf.conf'), rpmRoot: null };
    },
    async runReposyncTask({ plan, task, composeDir: dir }) {
      const dest = path.join(composeLayout(dir!, plan.release, plan.sig, plan.stamp).sigRoot, task.relDir);
      const files = {
        [`Packages/a/alpha-${task.repo}-1.0-1.el9.${task.arch}.rpm`]: `alpha ${task.name}\n`,
        [`Packages/b/bravo-${task.repo}-1.1-1.el9.noarch.rpm`]: `bravo ${task.name}\n`,
        'repodata/repomd.xml': `<repomd><!-- ${task.name} --></repomd>\n`,
      };
      for (const [rel, body] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dest, rel)), { recursive: true });
        await fs.writeFile(path.join(dest, rel), body);
      }
      return { name: task.name, repo: task.repo, kind: task.kind, arch: task.arch, downloaded: 2, skipped: 0, deleted: 0, bytes: 64, packages: 2, durationMs: 1, attempt: 1 };
    },
    async deployExtraFiles() {
      return { files: [] };
    },
    async verifyCompose() {
      return { ok: true, repos: [], problems: [] };
    },
  };
}

/** Polls the status query until the run reaches one of `stages`; fails at once if the run fails or closes first. */
export async function untilStage(handle: WorkflowHandle, stages: Stage | Stage[], timeoutMs = 120_000): Promise<ReleaseStatus> {
  const wanted = Array.isArray(stages) ? stages : [stages];
  let closed = false;
  handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  const deadline = Date.now() + timeoutMs;
  let last: ReleaseStatus | null = null;
  while (Date.now() < deadline) {
    last = (await handle.query(statusQuery).catch(() => null)) ?? last;
    if (last && wanted.includes(last.stage)) return last;
    if (last?.stage === 'failed' || closed) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${handle.workflowId} did not reach ${wanted.join(' or ')} (${closed ? 'it closed' : `waited ${timeoutMs} ms`}); ` +
      `last stage ${last?.stage ?? 'unknown'}${last?.error ? `, error: ${last.error}` : ''}`,
  );
}

/** Ends whatever a test left running: its release runs and the production lock of its site. */
export async function cleanUp(client: Client, site: SiteConfig, workflowIds: string[], release = '9'): Promise<void> {
  const ids = [...workflowIds, lockWorkflowId(site.productionRoot)];
  await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate('test finished').catch(() => undefined)));
}

export interface WebhookPost {
  path: string;
  /** Arrival, ms since the epoch. */
  at: number;
  body: { text: string; username?: string; props: { event: string; sig: string; release: string; workflowId: string } };
}

export interface Webhook {
  /** Has a secret path, like a Mattermost hook: `http://127.0.0.1:<port>/hooks/<secret>`. */
  url: string;
  secret: string;
  /** Every post received, in arrival order (also the ones answered with an error). */
  posts: WebhookPost[];
  events(workflowId?: string): string[];
  close(): Promise<void>;
}

/** A loopback incoming webhook that records each post and answers `status` (200 by default). */
export async function startWebhook(opts: { status?: number } = {}): Promise<Webhook> {
  const secret = `s3cr3t-${uniqueQueue('hook')}`;
  const posts: WebhookPost[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      try {
        posts.push({ path: req.url ?? '', at: Date.now(), body: JSON.parse(body) as WebhookPost['body'] });
      } catch {
        posts.push({ path: req.url ?? '', at: Date.now(), body: { text: body, props: { event: '(not JSON)', sig: '', release: '', workflowId: '' } } });
      }
      res.writeHead(opts.status ?? 200, { 'content-type': 'text/plain' }).end(opts.status && opts.status >= 400 ? 'no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/${secret}`,
    secret,
    posts,
    events: (workflowId) => posts.filter((p) => !workflowId || p.body.props?.workflowId === workflowId).map((p) => p.body.props?.event),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
