// The approval gate on the real pipeline: real dnf reposync from fixture repos, real rsync previews and
// syncs, the real dev server. Signals and updates named `approve`/`reject` reach the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { startRelease } from '../../src/client.js';
import { temporalCliPath } from '../../src/devserver.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { approveSignal, approveUpdate, rejectUpdate, SEARCH_ATTRIBUTES, statusQuery, type ApprovalAck, type Decision } from '../../workflows/messages.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { serverAddress, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { cleanUp, fastRuntime, smallRelease, testWorkflowId, untilStage } from './support.js';

let yum: YumrepofsServer;
beforeAll(async () => {
  const fixture = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-gate-yum-')), defaultCoreFixture());
  yum = await startYumrepofs({ root: fixture.root });
});
afterAll(async () => {
  await yum?.close();
});

const approvers = ['alice', 'bob'];
const siteWithApprovers = () => testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { approval: { approvers } } }).site;

/** The validator's reason for refusing an update (the update must be refused). */
async function refusalOf(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (e as WorkflowUpdateFailedError).cause;
    expect(cause).toMatchObject({ type: 'DecisionRefused', nonRetryable: true });
    return String(cause?.message);
  }
  throw new Error('the update was accepted, but should have been refused');
}

const approve = (h: WorkflowHandle, d: Decision) => h.executeUpdate(approveUpdate, { args: [d] });
const reject = (h: WorkflowHandle, d: Decision) => h.executeUpdate(rejectUpdate, { args: [d] });

describe('the approval gate, on the real compose and syncs', () => {
  it('refuses an approval before the gate, from someone outside the allowlist or from nobody, each with the reason; then records who approved, when and why', async () => {
    const site = siteWithApprovers();
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'gate-update');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });

        // Too early: the run is still validating or composing. The early signal is not kept for later.
        expect(await refusalOf(approve(handle, { by: 'alice' }))).toMatch(/^core 9 is not waiting for approval \(stage: (validating|composing)\)$/);
        await handle.signal(approveSignal, { by: 'alice', comment: 'too early' });

        const gate = await untilStage(handle, 'awaiting-approval', 180_000);
        expect(gate.decision).toBeNull();
        expect(gate.warnings.join('\n')).toMatch(/ignored approve signal from alice: core 9 is not waiting for approval \(stage: (validating|composing)\)/);

        // The preview of what production would get, in the status query and in the run's current details.
        const preview = gate.productionPreview!;
        expect(preview.guard).toEqual({ ok: true });
        expect(preview.targetExists).toBe(false);
        expect(preview.added.files).toBeGreaterThan(0);
        expect(preview.deleted.files).toBe(0);
        expect(Object.keys(preview.repos)).toEqual(expect.arrayContaining(['x86_64/core-common', 'x86_64/core-infra']));
        const meta = await handle.query(workflowMetadataQuery);
        expect(meta.currentDetails).toContain(`**core 9** waits for approval until ${gate.approvalDeadline}`);
        expect(meta.currentDetails).toContain('| repo | added | changed | deleted | bytes |');
        expect(meta.currentDetails).toMatch(/\| x86_64\/core-common \| [1-9]\d* \| 0 \| 0 \| [1-9]\d* \|/);
        // The files a reviewer opens next: the compose's manifest and the full reports of both previews.
        const shown = [...(meta.currentDetails ?? '').matchAll(/^- (compose manifest|staging sync report|production preview report): `([^`]+)`$/gm)];
        expect(shown.map((m) => m[1])).toEqual(['compose manifest', 'staging sync report', 'production preview report']);
        for (const [, what, file] of shown) expect(fs.existsSync(file!), `${what} ${file}`).toBe(true);
        expect(shown[2]![2]).toBe(preview.reportFile);
        expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('awaiting-approval');

        // A signal and an update of the same name live side by side on one run.
        const names = (defs: Array<{ name?: string | null }> | null | undefined) => (defs ?? []).map((d) => d.name);
        expect(names(meta.definition?.signalDefinitions)).toEqual(expect.arrayContaining(['approve', 'reject']));
        expect(names(meta.definition?.updateDefinitions)).toEqual(expect.arrayContaining(['approve', 'reject']));

        expect(await refusalOf(approve(handle, { by: 'mallory', comment: 'looks fine to me' }))).toBe(
          '"mallory" may not approve or reject core 9; allowed approvers: alice, bob',
        );
        expect(await refusalOf(approve(handle, { by: '  ' }))).toBe('say who decides: {"by": "<name>", "comment": "..."}');
        await handle.signal(approveSignal, { by: 'mallory' });
        const afterSignal = await waitFor('the refused signal to show in status', async () => {
          const st = await handle.query(statusQuery);
          return st.warnings.some((w) => w.startsWith('ignored approve signal from mallory')) ? st : undefined;
        });
        expect(afterSignal.warnings).toContain('ignored approve signal from mallory: "mallory" may not approve or reject core 9; allowed approvers: alice, bob');
        expect(afterSignal.decision).toBeNull();
        expect(afterSignal.stage).toBe('awaiting-approval');

        const ack = await approve(handle, { by: 'alice', comment: 'staging checked' });
        expect(ack).toMatchObject({ accepted: true, stage: 'awaiting-approval', decision: { by: 'alice', comment: 'staging checked', approved: true, via: 'update' } });
        expect(Date.parse(ack.decision.at)).toBeGreaterThanOrEqual(Date.parse(gate.stageSince));
        expect(await refusalOf(reject(handle, { by: 'bob', comment: 'wait' }))).toBe(`core 9 was already approved by alice at ${ack.decision.at}`);

        const result = await handle.result();
        expect(result.outcome).toBe('promoted');
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));

        // Who, when and why: the result, the status query, the memo and the SigApprover search attribute.
        expect(result.decision).toEqual(ack.decision);
        expect((await handle.query(statusQuery)).decision).toEqual(ack.decision);
        const desc = await handle.describe();
        expect(desc.memo?.decision).toEqual(ack.decision);
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBe('alice');
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('promoted');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });

  it('rejects through the reject update sent with the temporal CLI: nothing reaches production, and the rejection is recorded like an approval', async () => {
    const site = siteWithApprovers();
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'gate-reject');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        await untilStage(handle, 'awaiting-approval', 180_000);
        // From the temporal CLI: the refusal is the command's error, the acknowledgement its output.
        const { address, namespace } = serverAddress();
        const updateWithCli = (d: Decision) =>
          execa(temporalCliPath(), ['workflow', 'update', 'execute', '--address', address, '--namespace', namespace, '--workflow-id', workflowId, '--name', 'reject', '--input', JSON.stringify(d), '-o', 'json'], { reject: false });
        const refused = await updateWithCli({ by: 'mallory', comment: 'I do not like it' });
        expect(refused.exitCode).not.toBe(0);
        // (the CLI's log line escapes the quotes around the name)
        expect(refused.stderr).toContain('mallory\\" may not approve or reject core 9; allowed approvers: alice, bob (type: DecisionRefused, retryable: false)');
        const accepted = await updateWithCli({ by: 'bob', comment: 'wrong kernel in core-infra' });
        expect(accepted.exitCode).toBe(0);
        const ack = (JSON.parse(accepted.stdout) as { name: string; result: ApprovalAck }).result;
        expect(ack.decision).toMatchObject({ by: 'bob', approved: false, comment: 'wrong kernel in core-infra', via: 'update' });

        const result = await handle.result();
        expect(result.outcome).toBe('rejected');
        expect(result.decision).toEqual(ack.decision);
        expect(result.production).toBeNull();
        expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);
        const desc = await handle.describe();
        expect(desc.memo?.decision).toEqual(ack.decision);
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBe('bob');
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('rejected');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });

  it('refuses an approval while the production preview trips the deletion guard, until the approver allows the deletions', async () => {
    const site = siteWithApprovers();
    // Production holds a retired repo that staging no longer has: promoting deletes all of it.
    const retired = path.join(productionSigDir(site, '9', 'core'), 'x86_64', 'core-retired', 'Packages', 'r');
    fs.mkdirSync(retired, { recursive: true });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(retired, `retired-${i}-1.0-1.el9.x86_64.rpm`), `retired ${i}\n`);

    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const workflowId = testWorkflowId('core', 'gate-guard');
      try {
        const handle = await startRelease(client, site, testCatalogue(), smallRelease('core'), { taskQueue, workflowId, runtime: fastRuntime() });
        const gate = await untilStage(handle, 'awaiting-approval', 180_000);
        expect(gate.productionPreview?.deleted.files).toBe(30);
        expect(gate.productionPreview?.guard.ok).toBe(false);
        expect(gate.productionPreview?.guard.reason).toMatch(/^Deletion guard tripped: .* would delete 30 of the 30 files in the target/);
        expect((await handle.query(workflowMetadataQuery)).currentDetails).toContain('Deletion guard: Deletion guard tripped');

        expect(await refusalOf(approve(handle, { by: 'alice' }))).toMatch(
          /^the production preview tripped the deletion guard; approve with allowLargeDeletion: true if these deletions are intended\. Deletion guard tripped: /,
        );
        await handle.signal(approveSignal, { by: 'alice', comment: 'without the override' });
        await waitFor('the refused signal to show in status', async () =>
          (await handle.query(statusQuery)).warnings.find((w) => w.startsWith('ignored approve signal from alice: the production preview tripped the deletion guard')),
        );

        await handle.signal(approveSignal, { by: 'alice', comment: 'core-retired is gone for good', allowLargeDeletion: true });
        const result = await handle.result();
        expect(result.outcome).toBe('promoted');
        expect(result.decision).toMatchObject({ by: 'alice', approved: true, allowLargeDeletion: true, via: 'signal', comment: 'core-retired is gone for good' });
        expect(fs.existsSync(path.dirname(path.dirname(retired)))).toBe(false);
        expect(treeDigest(productionSigDir(site, '9', 'core'))).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  });
});
