// Starting the lifecycle runs from our CLI (the SDK is loaded only after the CLI checked its input): a vault run,
// and the wait until a run needs a person or has ended.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { CliError, EXIT, releaseStatus, releaseWorkflowId, signStart } from '../client.js';
import type { SiteConfig } from '../config/schema.js';
import { SEARCH_ATTRIBUTES, type ReleaseStatus } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/sigRelease.js';
import type { sigVault } from '../../workflows/vault.js';
import { vaultRevisionProblem } from './names.js';

/** One vault per release at a time; `status|approve|reject <release> vault` find it by this ID. */
export const vaultWorkflowId = (release: string) => releaseWorkflowId('vault', release);

export async function startVault(
  client: Client,
  site: SiteConfig,
  request: { release: string; revision: string; requestedBy?: string },
  opts: { taskQueue?: string; workflowId?: string; sign?: { by: string; keyFile?: string } } = {},
): Promise<WorkflowHandle<typeof sigVault>> {
  const problem = vaultRevisionProblem(request.revision, request.release);
  if (problem) throw new CliError(problem, EXIT.badInput);
  const workflowId = opts.workflowId ?? vaultWorkflowId(request.release);
  // Signed like a release's start: the worker verifies it and records who started the vault.
  const start = opts.sign ? await signStart(workflowId, request, opts.sign) : undefined;
  try {
    return await client.workflow.start<typeof sigVault>('sigVault', {
      workflowId,
      taskQueue: opts.taskQueue ?? site.temporal.taskQueue,
      args: [{ ...request, ...(start ? { start } : {}) }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.sig, value: 'vault' },
        { key: SEARCH_ATTRIBUTES.release, value: request.release },
        { key: SEARCH_ATTRIBUTES.stage, value: 'validating' },
      ],
      memo: { mode: 'vault', request },
      staticSummary: `vault ${request.release}: production sig/${request.release}/ into vault/sig/${request.revision}/`,
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(`a vault of ${request.release} is already running: workflow ${workflowId}; see \`sigrelease status ${request.release} vault\``, EXIT.conflict);
    }
    throw e;
  }
}

/** Waits until the run waits for a person (its status) or has ended (its result). */
export async function untilGateOrEnd(
  client: Client,
  handle: WorkflowHandle,
  release: string,
  sig: string,
): Promise<{ gate: ReleaseStatus } | { result: ReleaseResult }> {
  for (;;) {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') break;
    const st = await releaseStatus(client, release, sig).catch(() => null);
    if (st?.stage === 'awaiting-approval') return { gate: st };
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return { result: (await handle.result()) as ReleaseResult };
  } catch (e) {
    let err = e as { cause?: unknown; message?: string } | undefined;
    while (err?.cause) err = err.cause as typeof err;
    throw new CliError(`${handle.workflowId} failed: ${err?.message ?? String(e)}`, EXIT.failed);
  }
}
