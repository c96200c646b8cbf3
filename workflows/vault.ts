// `sigrelease vault <release> --revision <x.y>` (seed vault-sig.sh, issue 14 item 3): production `sig/<rel>/` is
// copied into `vault/sig/<x.y>/` only after a person approved the preview at the same gate a release has, by
// the holder of the production lock, while production still has the digest the preview took; then the root file
// lists (which cover the vault) are republished. The vault only grows: nothing there is ever deleted.
// Its own workflow type (no SIG, no compose), ID `sigrelease-vault-<rel>`: one vault of a release at a time, and
// `status|approve|reject <rel> vault` reach it like a release.
import { ApplicationFailure, CancellationScope, isCancellation, log, patched, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { composeStamp } from '../src/paths.js';
import { markdownText } from '../src/markdown.js';
import { hostActivities, quick } from './activityOptions.js';
import { awaitApproval, listenForDecisions } from './approval.js';
import { fingerprintAtGate } from './approvedStaging.js';
import { innermostMessage, isUnexpected } from './failures.js';
import { SEARCH_ATTRIBUTES, statusQuery } from './messages.js';
import { lockWorkflowId } from './productionLock.js';
import { ProductionLockTurn } from './promotion.js';
import { fileListsWaitBound, publishThroughWriters } from './releaseFileLists.js';
import { ReleaseRun, type ReleaseResult } from './releaseRun.js';
import { checkRuntimeOptions, type RuntimeOptions } from './runtimeOptions.js';
import type { SignedStart } from '../activities/release.js';

export interface SigVaultInput {
  release: string;
  /** `<release>.<minor>`: the folder under vault/sig/. */
  revision: string;
  requestedBy?: string;
  runtime?: RuntimeOptions;
  /** A start signed with `sigrelease vault --key` (workflows/signedMessages.ts `startMessage` over the request). */
  start?: SignedStart;
}

/** The pseudo-SIG a vault run is listed, shown and decided under. */
export const VAULT_SIG = 'vault';

export async function sigVault(input: SigVaultInput): Promise<ReleaseResult> {
  const stamp = composeStamp(Date.now());
  const run = new ReleaseRun({ release: input.release, sig: VAULT_SIG }, stamp, workflowInfo().workflowId, 'vault');
  const lock = new ProductionLockTurn();
  listenForDecisions(run);
  lock.listen();
  setHandler(statusQuery, () => run.view(), { description: 'Stage, the vault preview, the decision' });
  patched('vault');
  try {
    upsertMemo({ mode: 'vault', revision: input.revision });
    run.setStage('validating');
    const runtime = checkRuntimeOptions(input.runtime);
    // Checked by the worker against its own site config; the revision becomes a path only after this.
    const request = { release: input.release, revision: input.revision, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) };
    // Who started the vault, checked by the worker as for a release: signed, or unsigned (no self-approval then).
    const info = workflowInfo();
    const recorded = patched('vault-start-recorded') ? { run: { workflowId: info.workflowId, startedAt: info.runStartTime.toISOString(), ...(input.start ? { start: input.start } : {}) } } : {};
    const r = await quick.resolveVault({ ...request, ...recorded });
    if (r.starter) run.note({ startedBy: r.starter });
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.sig, value: VAULT_SIG },
      { key: SEARCH_ATTRIBUTES.release, value: r.plan.release },
    ]);
    const host = hostActivities(runtime.timeouts, runtime.hostTaskQueue ?? r.hostTaskQueue);
    run.setStage('staging', `**${run.title}**: previewing the copy of production sig/${r.plan.release}/ into vault/sig/${r.revision}/`);
    const preview = await host.long.previewVault({ release: r.plan.release, revision: r.revision, stamp });
    run.note({ productionPreview: preview });
    run.result.productionPreview = preview;
    const label = `vault-${r.revision}`;
    run.result.composeId = label;
    run.fingerprint = fingerprintAtGate(label, preview);
    run.composeAtGate = label;
    const decision = await awaitApproval(run, r, runtime, { composeId: label, manifest: null, preview, reports: { production: preview.reportFile } });
    if (!decision || !decision.approved) {
      const why = decision ? `rejected by ${markdownText(decision.by)}` : `nobody approved before ${run.gate.deadline}`;
      run.setStage(decision ? 'rejected' : 'expired', `**${run.title}**: ${why}; the vault was not touched`);
      run.notify(decision ? 'rejected' : 'expired', `**${run.title}**: ${why}; the vault was not touched`);
      return await run.close(decision ? 'rejected' : 'expired');
    }
    run.notify('approved', `**${run.title}**: approved by ${markdownText(decision.by)}; copying production into vault/sig/${r.revision}/`);
    run.setStage('waiting-for-production-lock');
    await lock.acquire(lockWorkflowId(r.roots.productionRoot), r.plan.release, VAULT_SIG);
    // Once the copy starts it finishes, and the lists that cover it follow.
    await CancellationScope.nonCancellable(async () => {
      run.setStage('promoting');
      const copied = await host.long.copyToVault({ release: r.plan.release, revision: r.revision, stamp, expectedDigest: preview.stagingDigest ?? '', ...lock.fence() });
      run.warn(...(copied.transferredFiles === 0 ? [`vault/sig/${r.revision}/ already held everything production has`] : []));
      run.setStage('publishing-lists');
      if (patched('vault-lists-through-writer')) {
        // Through the root level's one writer, like a release's and a lists publish's: never a walk of the
        // production root beside another, and a request during a walk coalesces into its next one. The request
        // carries this turn's fencing token; the lists written are the root level's (fullfiletimelist alias too).
        await publishThroughWriters(run, { roots: r.roots, plan: { release: r.plan.release } }, ['root'], lock, fileListsWaitBound(runtime.timeouts));
      } else {
        run.result.fileLists.push(await host.long.publishFileLists({ dir: r.roots.productionRoot, module: 'rocky', owner: r.owner, ...lock.fence() }));
      }
      await lock.release();
    });
    run.setStage('vaulted', `**${run.title}**: production sig/${r.plan.release}/ is in vault/sig/${r.revision}/; root file lists published`);
    run.notify('promoted', `**${run.title}**: production sig/${r.plan.release}/ is in vault/sig/${r.revision}/; root file lists published`);
    return await run.close('vaulted');
  } catch (e) {
    if (isUnexpected(e)) {
      log.error('unexpected error: failing the workflow task until a fixed worker is deployed', { error: String(e) });
      throw e;
    }
    await CancellationScope.nonCancellable(() => lock.release());
    if (isCancellation(e)) {
      run.setStage('cancelled');
      throw e;
    }
    const error = innermostMessage(e);
    const failedAt = run.stage;
    run.note({ error });
    run.setStage('failed', `**${markdownText(run.title)}**: failed during ${failedAt}: ${markdownText(error)}`);
    run.notify('failed', `**${run.title}**: failed during ${failedAt}: ${error}`);
    await run.settled();
    if (e instanceof ApplicationFailure) throw e;
    throw ApplicationFailure.create({ type: 'VaultFailed', nonRetryable: true, message: `failed during ${failedAt}: ${error}`, cause: e as Error });
  }
}
