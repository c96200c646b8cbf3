// The `notify` activity on its own (no Temporal server): what it posts, where the URL comes from, and how it
// fails without ever naming the URL.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createReleaseActivities } from '../../activities/release.js';
import { parseSite, type Catalogue } from '../../src/config/load.js';
import { freePort } from '../../src/devserver.js';
import type { Notification } from '../../workflows/messages.js';

const notification: Notification = { event: 'promoted', text: '**core 9**: in production', sig: 'core', release: '9', workflowId: 'sigrelease-core-9' };

const site = parseSite({
    composeRoot: '/srv/compose',
    stagingRoot: '/srv/staging',
    productionRoot: '/srv/production',
    repoBaseUrl: 'http://127.0.0.1:9/unused',
    releases: { '9': { revision: '9.7' } },
  });
// The worker resolves and checks the URL at start (test/deploy/secrets.test.ts); the activity gets it as is.
const notifyVia = (webhookUrl?: string) => createReleaseActivities({ site, catalogue: {} as Catalogue, ...(webhookUrl ? { webhookUrl } : {}) }).notify;

let server: http.Server;
let base = '';
let answer = 200;
let received: Array<{ path: string; contentType: string | undefined; body: unknown }> = [];
beforeEach(async () => {
  received = [];
  answer = 200;
  delete process.env.SIGRELEASE_WEBHOOK_URL;
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  delete process.env.SIGRELEASE_WEBHOOK_URL;
  await new Promise<void>((r) => server.close(() => r()));
});

/** The failure the activity throws (it must throw one). */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => new Error('notify succeeded, but should have failed'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}

describe('the notify activity', () => {
  it('posts Mattermost JSON ({ text, username, props }) to the webhook the worker was given', async () => {
    expect(await notifyVia(`${base}/hooks/site-secret`)(notification)).toBe(true);
    expect(received).toEqual([
      {
        path: '/hooks/site-secret',
        contentType: 'application/json',
        body: { username: 'sigrelease', text: '**core 9**: in production', props: { event: 'promoted', sig: 'core', release: '9', workflowId: 'sigrelease-core-9' } },
      },
    ]);
  });

  it('does nothing when no webhook is configured', async () => {
    expect(await notifyVia()(notification)).toBe(false);
    expect(received).toEqual([]);
  });

  it('fails retryably on a server error, and for good on a 4xx (a wrong URL), naming the status but not the URL', async () => {
    answer = 503;
    const busy = await failureOf(notifyVia(`${base}/hooks/s3cr3t`)(notification));
    expect(busy).toMatchObject({ type: 'WebhookFailed', nonRetryable: false, message: 'webhook answered HTTP 503 to event promoted' });
    answer = 404;
    const wrong = await failureOf(notifyVia(`${base}/hooks/s3cr3t`)(notification));
    expect(wrong).toMatchObject({ type: 'WebhookRejected', nonRetryable: true });
    expect(wrong.message).toBe('webhook answered HTTP 404 to event promoted; check SIGRELEASE_WEBHOOK_URL or the file named by notifications.webhookUrlFile');
    for (const f of [busy, wrong]) expect(JSON.stringify({ m: f.message, s: f.stack })).not.toContain('s3cr3t');
  });

  it('says why a post could not be made without quoting the URL: a closed port, or a URL that does not parse', async () => {
    const closed = await failureOf(notifyVia(`http://127.0.0.1:${await freePort()}/hooks/s3cr3t`)(notification));
    expect(closed).toMatchObject({ type: 'WebhookUnreachable', nonRetryable: false, message: 'could not post event promoted to the webhook: ECONNREFUSED' });
    expect(closed.cause).toBeUndefined();

    const garbled = await failureOf(notifyVia('not a url /hooks/s3cr3t')(notification));
    expect(garbled).toMatchObject({ type: 'WebhookUnreachable', nonRetryable: true, message: 'could not post event promoted to the webhook: the webhook URL is not a valid URL' });
    for (const f of [closed, garbled]) expect(JSON.stringify({ m: f.message, s: f.stack, c: String(f.cause) })).not.toContain('s3cr3t');
  });
});
