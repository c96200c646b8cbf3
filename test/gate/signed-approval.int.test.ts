// Signed decisions on the real pipeline, with deploy/site.yaml's semantics (signatures required, self-approval
// forbidden): every way around the gate is refused with its reason, and the one way through promotes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { signedDecision } from '../../src/cli/runs.js';
import { signMessage } from '../../src/approval/sshsig.js';
import { approveSignal, approveUpdate, lockGrantedSignal, rejectUpdate, SEARCH_ATTRIBUTES, statusQuery, type Decision } from '../../workflows/messages.js';
import { DECISION_NAMESPACE, decisionMessage } from '../../workflows/signedMessages.js';
import { serverAddress, testCatalogue, testSite, waitFor, withWorkers } from '../helpers/temporal.js';
import { cliFor } from '../operations/cli.js';
import { temporalCliPath } from '../../src/devserver.js';
import { cleanUp, composeWithoutDnf, fastRuntime, untilStage } from './support.js';

/** alice, bob and carol are approvers; mallory has a key but is not in allowed_signers. */
async function keys() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-signers-'));
  const key = (name: string) => path.join(dir, name);
  const lines: string[] = [];
  for (const name of ['alice', 'bob', 'carol', 'mallory']) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key(name)]);
    if (name !== 'mallory') lines.push(`${name} ${fs.readFileSync(`${key(name)}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`);
  }
  const allowedSigners = path.join(dir, 'allowed_signers');
  fs.writeFileSync(allowedSigners, lines.join('\n') + '\n');
  return { key, allowedSigners };
}

async function refusalOf(update: Promise<unknown>): Promise<string> {
  const e = await update.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'the update should have been refused').toBeInstanceOf(WorkflowUpdateFailedError);
  expect((e as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'DecisionRefused' });
  return String((e as WorkflowUpdateFailedError).cause?.message);
}

// No other test uses the altarch SIG, so `status 9 altarch` (which the signer reads) can only mean this run.
const request = { release: '9', sig: 'altarch', hashed: true, fullRun: true, ignoreDebug: true, ignoreSource: true, arches: ['aarch64'], requestedBy: 'carol' };

describe('signed decisions with signatures required and self-approval forbidden', () => {
  it('refuses unsigned, self-approved, replayed, foreign and hand-made lock messages; a signed approval by another approver promotes', async () => {
    const k = await keys();
    const { site } = testSite({
      repoBaseUrl: 'http://127.0.0.1:9/unused',
      overrides: { approval: { requireSignature: true, forbidSelfApproval: true, allowedSigners: k.allowedSigners } },
    });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = `sigrelease-altarch-9-signed-${process.pid}-${Date.now()}`;
      try {
        // carol starts the run with a signed start.
        const handle = await startRelease(client, site, testCatalogue(), request, { taskQueue, workflowId, runtime: fastRuntime(), sign: { by: 'carol', keyFile: k.key('carol') } });
        const atGate = await untilStage(handle, 'awaiting-approval');
        expect(atGate.startedBy).toMatchObject({ kind: 'signed', principal: 'carol' });
        const subject = atGate.signing!;
        expect(subject).toMatchObject({ workflowId, runId: (await handle.describe()).runId });
        const approve = (d: Decision) => handle.executeUpdate(approveUpdate, { args: [d] });

        // Unsigned: refused with a hint on how to sign.
        expect(await refusalOf(approve({ by: 'alice' }))).toMatch(/^altarch 9 takes only signed decisions \(approval.requireSignature\); sign it: `sigrelease approve 9 altarch --key/);
        // Self-approval: carol's own valid signature.
        expect(await refusalOf(approve(await signedDecision(client, '9', 'altarch', 'approve', { by: 'carol' }, k.key('carol'))))).toBe(
          'carol started altarch 9 and may not approve it too (approval.forbidSelfApproval); ask another approver',
        );
        // A key that is not in allowed_signers.
        // Every refusal of a badly signed decision says how to sign, in the update's error and in status.
        const hint = 'sign it: `sigrelease approve 9 altarch --key ~/.ssh/id_ed25519 --comment "..."` (add --print-signed for the Web UI or `temporal workflow signal --input`)';
        expect(await refusalOf(approve(await signedDecision(client, '9', 'altarch', 'approve', { by: 'mallory' }, k.key('mallory'))))).toBe(
          `no key of mallory in approval.allowedSigners made this signature for this message; ${hint}`,
        );
        // alice's valid signature of an approval for an earlier run of this workflow ID and its compose.
        const signedAt = new Date().toISOString();
        const earlier = decisionMessage({ ...subject, runId: 'an-earlier-run', composeId: 'altarch-9-20261101.020000' }, 'approve', { by: 'alice', signedAt });
        const replayed = { by: 'alice', signedAt, signature: await signMessage(earlier, DECISION_NAMESPACE, k.key('alice')) };
        expect(await refusalOf(approve(replayed))).toBe(`the signature does not verify: Signature verification failed: incorrect signature; ${hint}`);
        // A signed reject sent as an approval (another verdict).
        const rejectSigned = await signedDecision(client, '9', 'altarch', 'reject', { by: 'alice' }, k.key('alice'));
        expect(await refusalOf(approve(rejectSigned))).toMatch(/^the signature does not verify/);
        // The same refusals by signal only show as warnings in status.
        await handle.signal(approveSignal, replayed);
        const warning = await waitFor('the refused signal in status', async () => (await handle.query(statusQuery)).warnings.find((w) => w.startsWith('ignored approve signal from alice: the signature does not verify')));
        expect(warning.endsWith(`; ${hint}`)).toBe(true);
        // A lock grant typed by hand is ignored (the run is not waiting for the lock yet, and it names no request).
        await handle.signal(lockGrantedSignal, { lockWorkflowId: 'sigrelease-production-lock@/mnt/repos-production' });

        // The one way through: bob's signed approval of this run, this compose and this preview, printed by our
        // CLI (--print-signed) and sent with the temporal CLI, as the README shows.
        const cli = cliFor(site, taskQueue);
        const printed = await cli.run(['approve', '9', 'altarch', '--by', 'bob', '--key', k.key('bob'), '--comment', 'checked <staging> **twice**', '--print-signed']);
        expect(printed.exitCode, printed.stderr).toBe(0);
        expect(JSON.parse(printed.stdout)).toMatchObject({ by: 'bob', comment: 'checked <staging> **twice**', signature: expect.stringContaining('BEGIN SSH SIGNATURE') });
        const { address, namespace } = serverAddress();
        const sent = await execa(temporalCliPath(), ['workflow', 'signal', '--address', address, '--namespace', namespace, '--workflow-id', workflowId, '--name', 'approve', '--input', printed.stdout.trim()], { reject: false });
        expect(sent.exitCode, sent.stderr).toBe(0);
        const fingerprint = (await execa('ssh-keygen', ['-l', '-f', `${k.key('bob')}.pub`])).stdout.split(' ')[1];
        const decided = await waitFor('the signed approval in status', async () => (await handle.query(statusQuery)).decision ?? undefined, 120_000);
        expect(decided).toMatchObject({ by: 'bob', approved: true, via: 'signal', signed: { principal: 'bob', keyFingerprint: fingerprint } });
        // After a decision, even a valid signed one is refused.
        const late = await signedDecision(client, '9', 'altarch', 'reject', { by: 'alice' }, k.key('alice')).catch(() => ({ by: 'alice' }));
        expect(await refusalOf(handle.executeUpdate(rejectUpdate, { args: [late] }))).toMatch(/already approved by bob|not waiting for approval/);

        const result = await handle.result();
        expect(result.outcome).toBe('promoted');
        expect(result.decision).toMatchObject({ by: 'bob', signed: { principal: 'bob', keyFingerprint: fingerprint } });
        const desc = await handle.describe();
        expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBe('bob');
        expect(desc.memo?.decision).toMatchObject({ signed: { principal: 'bob', keyFingerprint: fingerprint } });
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  }, 300_000);

  it('lets nobody approve a run started unsigned, saying why; a rejection still works', async () => {
    const k = await keys();
    const { site } = testSite({
      repoBaseUrl: 'http://127.0.0.1:9/unused',
      overrides: { approval: { requireSignature: true, forbidSelfApproval: true, allowedSigners: k.allowedSigners } },
    });
    await withWorkers({ site, activityOverrides: composeWithoutDnf() }, async ({ client, taskQueue }) => {
      const workflowId = `sigrelease-altarch-9-unsigned-${process.pid}-${Date.now()}`;
      try {
        const handle = await startRelease(client, site, testCatalogue(), { ...request, release: '10' }, { taskQueue, workflowId, runtime: fastRuntime() });
        const atGate = await untilStage(handle, 'awaiting-approval');
        expect(atGate.startedBy).toEqual({ kind: 'unsigned', claimed: 'carol' });
        const d = await signedDecision(client, '10', 'altarch', 'approve', { by: 'alice' }, k.key('alice'));
        expect(await refusalOf(handle.executeUpdate(approveUpdate, { args: [d] }))).toBe(
          'altarch 10 was started without a signature, so nobody can approve it while self-approval is forbidden (approval.forbidSelfApproval); reject it and start a new run with `sigrelease start --key ...`',
        );
        const r = await signedDecision(client, '10', 'altarch', 'reject', { by: 'alice', comment: 'unsigned start' }, k.key('alice'));
        expect((await handle.executeUpdate(rejectUpdate, { args: [r] })).decision).toMatchObject({ by: 'alice', approved: false, signed: { principal: 'alice' } });
        expect((await handle.result()).outcome).toBe('rejected');
      } finally {
        await cleanUp(client, site, [workflowId]);
      }
    });
  }, 300_000);
});
