// Reminders and expiry at the approval gate, with durations in seconds (there is no time skipping).
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { productionCategory, productionSigDir } from '../../src/paths.js';
import { SEARCH_ATTRIBUTES, statusQuery } from '../../workflows/messages.js';
import { testCatalogue, testSite, withWorkers } from '../helpers/temporal.js';
import { cleanUp, composeWithoutDnf, fastRuntime, smallRelease, startWebhook, testWorkflowId, type Webhook } from './support.js';

let webhook: Webhook | null = null;
afterEach(async () => {
  await webhook?.close();
  webhook = null;
});

describe('reminders and expiry at the approval gate', () => {
  it('reminds at every interval while nobody decides, then expires: nothing reaches production, and the reminders are counted in status and result', async () => {
    webhook = await startWebhook();
    const hook = webhook;
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    await withWorkers({ site, webhookUrl: hook.url, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'expiry');
      try {
        // Reminders are due 1 s and 2 s after the gate opens; the deadline is at 2.5 s.
        const runtime = fastRuntime({ reminderInterval: '1s', expireAfter: '2.5s' });
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime });
        const result = await handle.result();

        expect(result.outcome).toBe('expired');
        expect(result.decision).toBeNull();
        expect(result.remindersSent).toBe(2);
        expect(result.production).toBeNull();
        expect(result.fileLists).toEqual([]);
        expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
        expect(fs.existsSync(productionCategory(site))).toBe(false);

        const status = await handle.query(statusQuery);
        expect(status).toMatchObject({ stage: 'expired', remindersSent: 2, decision: null, approvalDeadline: result.approvalDeadline });
        const desc = await handle.describe();
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('expired');
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBeUndefined();

        expect(hook.events(workflowId)).toEqual(['awaiting-approval', 'reminder', 'reminder', 'expired']);
        const [, first, second, expired] = hook.posts.filter((p) => p.body.props.workflowId === workflowId).map((p) => p.body.text);
        expect(first).toContain(`**core 9**: still waiting for approval (reminder 1); expires ${result.approvalDeadline}`);
        expect(second).toContain('(reminder 2)');
        expect(expired).toBe(`**core 9**: nobody approved before ${result.approvalDeadline} (2 reminders); nothing went to production`);
        // Each reminder waited for a durable timer of its own, and so did the deadline: three timers fired at the
        // gate (read from the history, not from a wall clock, which a busy machine makes late).
        const history = await handle.fetchHistory();
        expect(history.events?.filter((e) => e.timerFiredEventAttributes).length).toBe(3);
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
