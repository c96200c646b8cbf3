// An approver who only has a browser: the dev server's Web UI (2.42.1) finds the release waiting at the gate
// by its SigStage search attribute, shows the run's summary and the gate's details as typed (its User Metadata
// tab renders them as markdown), and the `approve` signal sent from the workflow's "Send a Signal" form
// promotes it. Debian's chromium driven by playwright-core; heavy activities are fakes (test/operations/fakes.ts).
// Screenshots of every step land in test-results/screenshots/.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { releaseWorkflowId, startRelease } from '../../src/client.js';
import { statusQuery } from '../../workflows/messages.js';
import { serverAddress, testCatalogue, testClient, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { fakeHeavyActivities, terminateLeftovers } from '../operations/fakes.js';

const CHROMIUM = process.env.SIGRELEASE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
/** The UI renders slowly on a loaded 2-core machine: generous waits, each for something named. */
const UI_TIMEOUT = 60_000;
/** The whole walk (list, run, user metadata, signal form, promotion) on a loaded 2-core machine. */
const WALK_TIMEOUT = 300_000;

const queues: string[] = [];
afterEach(async () => {
  const client = await testClient();
  for (const q of queues.splice(0)) await terminateLeftovers(client, q);
});

/**
 * The text of every markdown block on the page: the UI renders Temporal markdown (summary, details, current
 * details) in iframes of its own /render page.
 */
async function renderedMarkdown(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const frame of page.frames()) {
    if (!frame.url().includes('/render?')) continue;
    out.push((await frame.locator('body').innerText().catch(() => '')).trim());
  }
  return out;
}

async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `webui-${name}.png`), fullPage: false });
}

describe('the Temporal Web UI', () => {
  it('finds the release waiting for approval by its SigStage, and its Send a Signal form approves it', async () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium`).toBe(true);
    const uiUrl = inject('temporalUiUrl');
    expect(uiUrl, 'the integration dev server must run with its Web UI').toMatch(/^http:\/\//);
    const { namespace } = serverAddress();
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused-by-fakes' });
    const taskQueue = uniqueQueue('webui');
    queues.push(taskQueue);

    await withWorkers({ site, taskQueue, activityOverrides: fakeHeavyActivities(site) }, async ({ client }) => {
      const workflowId = `${releaseWorkflowId('fasttrack', '10')}-webui-${randomUUID().slice(0, 8)}`;
      // A starter name with markup in it: the UI must show it as typed, neither as a tag nor as bold.
      const requestedBy = 'webui <tester> **as typed**';
      const handle = await startRelease(client, site, testCatalogue(), { release: '10', sig: 'fasttrack', ignoreDebug: true, ignoreSource: true, arches: ['x86_64'], requestedBy }, { taskQueue, workflowId });
      const summary = `fasttrack 10: full pipeline, in-place compose; started by ${requestedBy}`;
      await waitFor('the run to wait at the gate', async () => {
        const st = await handle.query(statusQuery);
        if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
        return st.stage === 'awaiting-approval' ? st : undefined;
      });
      // The list page reads visibility, which follows the run's search attributes a moment later.
      const query = `WorkflowId = "${workflowId}" AND SigStage = "awaiting-approval"`;
      await waitFor('visibility to show the run at the gate', async () => {
        for await (const wf of client.workflow.list({ query })) return wf;
        return undefined;
      });

      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-chromium-'));
      let context: BrowserContext | null = null;
      let page: Page | null = null;
      try {
        context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
        page = context.pages()[0] ?? (await context.newPage());
        page.setDefaultTimeout(UI_TIMEOUT);

        // 1. The workflow list, filtered as an approver would: everything whose SigStage is awaiting-approval.
        await page.goto(`${uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`);
        const link = page.getByRole('link', { name: workflowId, exact: true });
        await link.waitFor();
        await page.getByText('SigStage').first().waitFor(); // the filter chip the query became
        await shot(page, '1-list-awaiting-approval');

        // 2. The run itself: running, with our input.
        await link.click();
        await page.getByRole('heading', { name: workflowId }).waitFor();
        await page.getByText('"fasttrack"').first().waitFor();
        await shot(page, '2-run-at-the-gate');
        const runPage = page.url();

        // 2b. User Metadata: the summary and the gate's current details as a person typed them, with the signal
        //     input's <you> placeholder and the paths of the compose manifest and the preview reports.
        await page.getByRole('link', { name: 'User Metadata' }).or(page.getByRole('tab', { name: 'User Metadata' })).first().click();
        const runView = page;
        const shown = await waitFor(
          'the summary and the gate details rendered',
          async () => {
            const blocks = await renderedMarkdown(runView);
            return blocks.includes(summary) && blocks.some((b) => b.includes('waits for approval')) ? blocks : undefined;
          },
          UI_TIMEOUT,
        );
        const gate = shown.find((b) => b.includes('waits for approval'))!;
        expect(gate).toContain('Send signal approve (or reject) with input {"by": "<you>", "comment": "..."}.');
        expect(gate).toMatch(/compose manifest: \S+\/manifest\.json/);
        expect(gate).toMatch(/production preview report: \S+\/production\.txt/);
        expect(shown.find((b) => b.includes('flags:'))).toContain(`started by: ${requestedBy}`);
        await shot(page, '2b-user-metadata');

        // 3. More Actions → Send a Signal → approve, {"by":"webui"}. The dropdown offers the workflow's own signals
        //    (the UI reads them from the SDK's __temporal_workflow_metadata query); Data is a CodeMirror editor.
        await page.getByRole('button', { name: 'More Actions' }).click();
        await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
        // The page keeps a hidden copy of the modal; only the visible one is live.
        const dialog = page.getByTestId('signal-confirmation-modal').filter({ visible: true });
        await dialog.getByRole('heading', { name: 'Send a Signal' }).waitFor();
        await dialog.getByRole('button', { name: 'Select a signal' }).click();
        await dialog.getByRole('option', { name: /^approve(\s|$)/ }).click(); // name, then its description if it has one
        const editor = dialog.locator('[contenteditable="true"][data-language="json"]');
        await editor.fill('{"by":"webui"}');
        expect(await editor.textContent()).toBe('{"by":"webui"}');
        await shot(page, '3-signal-form');
        await dialog.getByRole('button', { name: 'Submit' }).click();
        await dialog.waitFor({ state: 'hidden' });

        // 4. The run goes on to production and completes; the UI shows it.
        const result = await handle.result();
        expect(result.outcome).toBe('promoted');
        expect(result.decision).toMatchObject({ approved: true, by: 'webui', via: 'signal' });
        await page.goto(runPage); // the run's history tab again, freshly loaded
        await page.getByRole('heading', { name: workflowId }).waitFor();
        await page.getByText('Completed', { exact: true }).first().waitFor();
        await page.getByText('"promoted"').first().waitFor();
        await shot(page, '4-run-promoted');
      } catch (e) {
        if (page) {
          await shot(page, 'failure').catch(() => undefined);
          fs.writeFileSync(path.join(SHOTS, 'webui-failure.html'), await page.content().catch(() => ''));
        }
        throw e;
      } finally {
        await context?.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }

      // The history records the signal exactly as the form sent it, and the run's search attributes the approver.
      const history = await handle.fetchHistory();
      const signals = (history.events ?? []).flatMap((ev) => (ev.workflowExecutionSignaledEventAttributes ? [ev.workflowExecutionSignaledEventAttributes] : []));
      const approve = signals.find((s) => s.signalName === 'approve');
      expect(approve, 'an approve signal in the history').toBeDefined();
      expect(JSON.parse(Buffer.from(approve!.input!.payloads![0]!.data!).toString('utf8'))).toEqual({ by: 'webui' });
      const d = await handle.describe();
      expect(await d.staticSummary()).toBe(summary.replace(/[<>*]/g, (c) => `\\${c}`));
      expect(d.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
        expect.arrayContaining([['SigStage', 'promoted'], ['SigApprover', 'webui']]),
      );
    });
  }, WALK_TIMEOUT);
});
