// Notifications: Mattermost-compatible posts to the site's webhook for every event a release engineer acts on,
// and a webhook that is down never fails a release nor shows its secret URL.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startRelease } from '../../src/client.js';
import { freePort } from '../../src/devserver.js';
import { approveSignal, rejectSignal } from '../../workflows/messages.js';
import { testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, startWebhook, testWorkflowId, untilStage, type Webhook } from './support.js';

const hooks: Webhook[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((h) => h.close()));
  vi.restoreAllMocks();
});
async function webhook(opts: { status?: number } = {}) {
  const h = await startWebhook(opts);
  hooks.push(h);
  return h;
}
// The webhook URL is the worker's secret (SIGRELEASE_WEBHOOK_URL or a private file), never the site file's.
const siteFor = (webhookUrl: string) => ({
  site: testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { approval: { approvers: ['alice'] } } }).site,
  webhookUrl,
});

/** Every string in the run's history, payloads decoded: what the Web UI and `temporal workflow show` can reveal. */
async function historyText(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  return JSON.stringify(history, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    const b = v as { type?: string; data?: number[] } | null;
    return b && b.type === 'Buffer' && Array.isArray(b.data) ? Buffer.from(b.data).toString('utf8') : v;
  });
}

describe('notifications', () => {
  it('posts awaiting-approval with the preview table, reminders, approved and promoted, in that order, as Mattermost JSON', async () => {
    const hook = await webhook();
    const { site, webhookUrl } = siteFor(hook.url);
    await withWorkers({ site, webhookUrl, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'notify');
      try {
        const runtime = fastRuntime({ reminderInterval: '1s', expireAfter: '1m' });
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime });
        await waitFor('a reminder', async () => (hook.events(workflowId).includes('reminder') ? true : undefined));
        await handle.signal(approveSignal, { by: 'alice', comment: 'ship it' });
        const result = await handle.result();
        expect(result.outcome).toBe('promoted');

        const events = hook.events(workflowId);
        expect(events[0]).toBe('awaiting-approval');
        expect(events.slice(-2)).toEqual(['approved', 'promoted']);
        expect(events.slice(1, -2)).toEqual(Array(result.remindersSent).fill('reminder'));
        expect(result.remindersSent).toBeGreaterThanOrEqual(1);

        const posts = hook.posts.filter((p) => p.body.props.workflowId === workflowId);
        for (const p of posts) {
          expect(p.path).toBe(`/hooks/${hook.secret}`);
          expect(p.body).toMatchObject({ username: 'sigrelease', props: { sig: 'core', release: '9', workflowId } });
        }
        const text = (event: string) => posts.find((p) => p.body.props.event === event)!.body.text;
        expect(text('awaiting-approval')).toContain(`**core 9**: compose ${result.composeId} is in staging and waits for approval until ${result.approvalDeadline}`);
        expect(text('awaiting-approval')).toContain('sigrelease approve 9 core');
        expect(text('awaiting-approval')).toContain('| repo | added | changed | deleted | bytes |');
        expect(text('awaiting-approval')).toMatch(/\| x86_64\/core-common \| 3 \| 0 \| 0 \| \d+ \|/);
        expect(text('awaiting-approval')).toMatch(/\| x86_64\/core-infra \| 3 \| 0 \| 0 \| \d+ \|/);
        expect(text('reminder')).toContain('still waiting for approval (reminder 1)');
        expect(text('approved')).toBe(`**core 9**: approved by alice: ship it; promoting compose ${result.composeId} to production`);
        expect(text('promoted')).toBe(`**core 9**: compose ${result.composeId} is in production; file lists published`);
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });

  it('posts rejected with who and why, and failed with the stage and the error', async () => {
    const hook = await webhook();
    const { site, webhookUrl } = siteFor(hook.url);
    const overrides = {
      ...composeWithoutDnf(),
      async syncToStaging(): Promise<never> {
        throw ApplicationFailure.create({ type: 'StagingFull', message: 'no space left on the staging volume', nonRetryable: true });
      },
    };
    await withWorkers({ site, webhookUrl, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'notify-reject');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        await untilStage(handle, 'awaiting-approval');
        await handle.signal(rejectSignal, { by: 'alice', comment: 'core-infra is missing a package' });
        expect((await handle.result()).outcome).toBe('rejected');
        expect(hook.events(workflowId)).toEqual(['awaiting-approval', 'rejected']);
        expect(hook.posts.at(-1)!.body.text).toBe('**core 9**: rejected by alice: core-infra is missing a package; nothing went to production');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
    await withWorkers({ site, webhookUrl, activityOverrides: overrides }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('cloud', 'notify-fail');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('cloud'), { taskQueue, workflowId, runtime: fastRuntime() });
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect(hook.events(workflowId)).toEqual(['failed']);
        expect(hook.posts.at(-1)!.body.text).toBe('**cloud 9**: failed during staging: no space left on the staging volume');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });

  it('promotes all the same when the webhook answers HTTP 500 or is a closed port: each post is tried a few times, and the URL is never shown', async () => {
    const failing = await webhook({ status: 500 });
    const closedUrl = `http://127.0.0.1:${await freePort()}/hooks/s3cr3t-closed-${Date.now()}`;
    // Everything the worker logs goes to stderr (Temporal's DefaultLogger).
    const printed: string[] = [];
    const write = process.stderr.write.bind(process.stderr) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return write(chunk, ...rest);
    });

    const releaseWith = async (webhookUrl: string, label: string) => {
      const { site } = siteFor(webhookUrl);
      return withWorkers({ site, webhookUrl, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
        const workflowId = testWorkflowId('core', label);
        try {
          const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
          await untilStage(handle, 'awaiting-approval');
          await handle.signal(approveSignal, { by: 'alice' });
          return { workflowId, result: await handle.result(), history: await historyText(handle) };
        } finally {
          await cleanUp(client, site, [workflowId]);
        }
      });
    };
    const [answers500, refused] = await Promise.all([releaseWith(failing.url, 'notify-500'), releaseWith(closedUrl, 'notify-closed')]);

    expect(answers500.result.outcome).toBe('promoted');
    expect(refused.result.outcome).toBe('promoted');
    // Three attempts per event, one event after the other.
    expect(failing.events(answers500.workflowId)).toEqual(['awaiting-approval', 'approved', 'promoted'].flatMap((e) => [e, e, e]));
    expect(answers500.history).toContain('webhook answered HTTP 500 to event awaiting-approval');
    expect(refused.history).toContain('could not post event awaiting-approval to the webhook: ECONNREFUSED');
    expect(printed.join('')).toContain('webhook answered HTTP 500 to event promoted');
    for (const secret of [new URL(failing.url).pathname, new URL(closedUrl).pathname]) {
      expect(answers500.history).not.toContain(secret);
      expect(refused.history).not.toContain(secret);
      expect(printed.join('')).not.toContain(secret);
    }
  });
});
