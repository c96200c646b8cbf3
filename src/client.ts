// Client-side operations shared by the CLI, the demo and tests: start a release, decide, read status.
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Catalogue } from './config/load.js';
import { checkRequest } from './config/request.js';
import { checkRuntime } from './config/runtime.js';
import { planCompose } from './compose/plan.js';
import { composeStamp } from './paths.js';
import { SAFE_NAME, type SiteConfig } from './config/schema.js';
import { connectionOptions, resolveTemporalAccess, type TemporalAccess } from './config/connection.js';
import { runDetails, runSummary } from './uiText.js';
import { SEARCH_ATTRIBUTES, approveUpdate, rejectUpdate, approveSignal, rejectSignal, statusQuery, type Decision, type ReleaseStatus } from '../workflows/messages.js';
import type { ReleaseResult, RuntimeOptions, SignedStart, sigRelease } from '../workflows/sigRelease.js';
import { PRINCIPAL, START_NAMESPACE, startMessage } from '../workflows/signedMessages.js';
import { signWithKeyOrAgent } from './approval/keys.js';
import { SigningError } from './approval/sshsig.js';

/** One pipeline per SIG and release: the workflow ID says which. */
export const releaseWorkflowId = (sig: string, release: string) => `sigrelease-${sig}-${release}`;

// Defined in a module of their own so the CLI can refuse bad input without loading the SDK; kept exported here.
import { CliError, EXIT } from './errors.js';
export { CliError, EXIT };

/** Connects with the site's (or the environment's) address, TLS and token; a bad certificate or token is refused first. */
export async function connectClient(site: SiteConfig, env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const access = resolveTemporalAccess(site, env);
  try {
    const connection = await Connection.connect({ ...connectionOptions(access), connectTimeout: 5_000 });
    return new Client({ connection, namespace: access.namespace });
  } catch (e) {
    throw new CliError(`cannot reach Temporal at ${access.address}: ${(e as Error).message}; ${unreachableHint(access)}`, EXIT.failed);
  }
}

/** The grpc client hides why a TLS or token check failed ("Failed to connect before the deadline"): say what to check. */
function unreachableHint(access: TemporalAccess): string {
  const hints = ['start one with `sigrelease server` or set TEMPORAL_ADDRESS'];
  if (access.tls) hints.push('check the CA, the client certificate and the server name (TEMPORAL_TLS_*) or try `temporal operator cluster health` with the same settings');
  if (access.apiKey) hints.push('check that the token is signed by a key the server knows and grants this namespace');
  return hints.join('; ');
}

export interface StartOptions {
  taskQueue?: string;
  runtime?: RuntimeOptions;
  workflowId?: string;
  /** Attach to a run of the same SIG and release that is already going instead of failing. */
  attach?: boolean;
  /** Sign the start (approval.forbidSelfApproval tells the starter from the approver by it): who, with which key. */
  sign?: { by: string; keyFile?: string };
}

/** Validates locally (nothing starts on bad input), then starts the pipeline. */
export async function startRelease(
  client: Client,
  site: SiteConfig,
  catalogue: Catalogue,
  rawRequest: Record<string, unknown>,
  opts: StartOptions = {},
): Promise<WorkflowHandle<typeof sigRelease>> {
  const { request, resolved } = checkRequest(rawRequest, catalogue, site);
  // What only the plan finds (an arch the SIG does not build, nothing left to sync): refused before anything starts.
  planCompose(request, resolved, site, composeStamp(Date.now()));
  if (opts.runtime !== undefined) checkRuntime(opts.runtime);
  const workflowId = opts.workflowId ?? releaseWorkflowId(request.sig, request.release);
  const flat = { ...rawRequest, release: request.release, sig: request.sig };
  const start = opts.sign ? await signStart(workflowId, flat, opts.sign) : undefined;
  try {
    return await client.workflow.start<typeof sigRelease>('sigRelease', {
      workflowId,
      taskQueue: opts.taskQueue ?? site.temporal.taskQueue,
      args: [{ ...flat, ...(opts.runtime ? { runtime: opts.runtime } : {}), ...(start ? { start } : {}) }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.sig, value: request.sig },
        { key: SEARCH_ATTRIBUTES.release, value: request.release },
        { key: SEARCH_ATTRIBUTES.stage, value: 'validating' },
      ],
      memo: { request, ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}) },
      // The Web UI's workflow list shows the summary: SIG, release, mode and who started it.
      staticSummary: runSummary(request),
      staticDetails: runDetails(request),
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      if (opts.attach) return client.workflow.getHandle(workflowId);
      const running = await client.workflow.getHandle(workflowId).describe().catch(() => null);
      throw new CliError(
        `a release of ${request.sig} ${request.release} is already running: workflow ${workflowId}` +
          (running ? ` (run ${running.runId}, started ${running.startTime.toISOString()})` : '') +
          `; watch it with \`sigrelease status ${request.release} ${request.sig}\`, cancel it, or pass --attach`,
        EXIT.conflict,
      );
    }
    throw e;
  }
}

/**
 * The workflow ID of the release people mean by "<release> <sig>": the hand-started ID when that run is going,
 * else a running scheduled run (its ID carries the schedule's timestamp), else the hand-started ID.
 */
export async function currentReleaseId(client: Client, release: string, sig: string): Promise<string> {
  // Names as `start` takes them: odd text is bad input (exit 2), never looked up (exit 3) nor put into a query.
  if (!SAFE_NAME.test(sig)) throw new CliError(`sig ${JSON.stringify(sig)} is not a SIG name (letters, digits and . _ + -)`, EXIT.badInput);
  if (!/^[0-9]+$/.test(release)) throw new CliError(`release ${JSON.stringify(release)} must be a major version such as "9"`, EXIT.badInput);
  const id = releaseWorkflowId(sig, release);
  const desc = await client.workflow.getHandle(id).describe().catch(() => null);
  if (desc?.status.name === 'RUNNING') return id;
  const query = `WorkflowType = "sigRelease" AND ${SEARCH_ATTRIBUTES.sig.name} = "${sig}" AND ${SEARCH_ATTRIBUTES.release.name} = "${release}" AND ExecutionStatus = "Running"`;
  for await (const wf of client.workflow.list({ query, pageSize: 10 })) return wf.workflowId;
  return id;
}

export async function releaseStatus(client: Client, release: string, sig: string): Promise<ReleaseStatus> {
  try {
    return await client.workflow.getHandle(await currentReleaseId(client, release, sig)).query(statusQuery);
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new CliError(`no release of ${sig} ${release} found (workflow ${releaseWorkflowId(sig, release)})`, EXIT.notFound);
    throw e;
  }
}

/** The signed start: the workflow ID and the request exactly as sent, by `by`, now. */
export async function signStart(workflowId: string, request: Record<string, unknown>, sign: { by: string; keyFile?: string }): Promise<SignedStart> {
  if (!PRINCIPAL.test(sign.by)) throw new CliError(`--requested-by ${JSON.stringify(sign.by)} must be a principal name (letters, digits and ._@-, at most 64 characters) to sign the start`, EXIT.badInput);
  const claims = { by: sign.by, signedAt: new Date().toISOString() };
  try {
    return { ...claims, signature: await signWithKeyOrAgent(startMessage(workflowId, request, claims), START_NAMESPACE, sign.keyFile) };
  } catch (e) {
    if (e instanceof SigningError) throw new CliError(e.message, EXIT.badInput);
    throw e;
  }
}

/** Approve or reject through the update (the validator's refusal comes back as an error) or the signal. */
export async function decide(client: Client, release: string, sig: string, approve: boolean, decision: Decision, via: 'update' | 'signal' = 'update') {
  const handle = client.workflow.getHandle(await currentReleaseId(client, release, sig));
  try {
    if (via === 'signal') {
      await handle.signal(approve ? approveSignal : rejectSignal, decision);
      return null;
    }
    return await handle.executeUpdate(approve ? approveUpdate : rejectUpdate, { args: [decision] });
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new CliError(`no running release of ${sig} ${release} (workflow ${releaseWorkflowId(sig, release)})`, EXIT.notFound);
    const msg = (e as Error).message;
    if ((e as Error).name === 'WorkflowUpdateFailedError' || /update/i.test((e as Error).name)) {
      const cause = (e as { cause?: Error }).cause;
      throw new CliError(`refused: ${cause?.message ?? msg}`, EXIT.badInput);
    }
    throw e;
  }
}

export type { ReleaseResult };
