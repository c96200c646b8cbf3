// Builds the worker(s): which queues to poll, which activities to serve, and the workflow bundle.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './bundleOptions.js';
import { activityMetricsInterceptor } from './metrics/activity-interceptor.js';
import type { Catalogue } from './config/load.js';
import type { SiteConfig } from './config/schema.js';
import { connectionOptions, resolveTemporalAccess, tokenFileRefresher, type TemporalAccess } from './config/connection.js';
import { resolveWebhookUrl } from './config/secrets.js';
import { sweepPrivateTmps } from './tools/private-tmp.js';

export { WORKFLOWS_PATH };

export type WorkflowBundle = { code: string } | { codePath: string };

/**
 * Bundle once per process and share it between workers (webpack costs seconds). A deployed worker uses the
 * bundle prebuilt by deploy/bundle-workflows.ts (SIGRELEASE_WORKFLOW_BUNDLE), so no webpack runs at start.
 */
let bundle: Promise<WorkflowBundle> | null = null;
export function workflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = process.env.SIGRELEASE_WORKFLOW_BUNDLE;
  bundle ??= prebuilt ? Promise.resolve({ codePath: prebuilt }) : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: quietBundlerLogger });
  return bundle;
}
const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: unknown) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: unknown) {
    console.error(message, meta ?? '');
  },
};

export interface WorkerSetup {
  address: string;
  namespace: string;
  /** TLS and token (src/config/connection.ts); none: plaintext without authorization, as the dev server. */
  tls?: TemporalAccess['tls'];
  apiKey?: string;
  /** Where `apiKey` came from: re-read every `apiKeyRefreshMs` (default 5 min), so a reissued token is used without a restart. */
  apiKeyFile?: string;
  apiKeyRefreshMs?: number;
  /** Already checked by resolveWebhookUrl or checkWebhookUrl; the site file never holds it. */
  webhookUrl?: string;
  site: SiteConfig;
  catalogue: Catalogue;
  /** `control` polls the workflow queue (workflows and quick activities); `host` polls the compose-host queue. */
  queues: Array<'control' | 'host'>;
  taskQueue?: string;
  hostTaskQueue?: string;
  /** Concurrency of heavy activities on the compose host. */
  maxHostActivities?: number;
  activityOverrides?: Partial<ReturnType<typeof createActivities>>;
}

/** What a deployed worker connects with, from the site config and the environment; refused before any network use. */
export function workerAccess(site: SiteConfig, env: NodeJS.ProcessEnv): Pick<WorkerSetup, 'address' | 'namespace' | 'tls' | 'apiKey' | 'apiKeyFile' | 'webhookUrl'> {
  const access = resolveTemporalAccess(site, env);
  const webhookUrl = resolveWebhookUrl(site, env);
  return {
    address: access.address,
    namespace: access.namespace,
    tls: access.tls,
    ...(access.apiKey !== undefined ? { apiKey: access.apiKey } : {}),
    ...(access.apiKeySource && 'file' in access.apiKeySource ? { apiKeyFile: access.apiKeySource.file } : {}),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
  };
}

export async function createWorkers(setup: WorkerSetup): Promise<{ workers: Worker[]; close(): Promise<void> }> {
  // What a worker killed before its clean-up left in its tool runs' private TMPDIRs (gpg-agents, GnuPG homes).
  await sweepPrivateTmps();
  const options = connectionOptions({ address: setup.address, tls: setup.tls ?? false, ...(setup.apiKey !== undefined ? { apiKey: setup.apiKey } : {}) });
  const connection = await NativeConnection.connect(options);
  const clientConnection = await Connection.connect(options).catch(async (e: unknown) => {
    await connection.close();
    throw e;
  });
  const client = new Client({ connection: clientConnection, namespace: setup.namespace });
  const refresher = setup.apiKeyFile && setup.apiKey !== undefined ? watchTokenFile(setup.apiKeyFile, setup.apiKey, setup.apiKeyRefreshMs, connection, clientConnection) : null;
  const deps = { site: setup.site, catalogue: setup.catalogue, client, ...(setup.webhookUrl !== undefined ? { webhookUrl: setup.webhookUrl } : {}) };
  const activities = { ...createActivities(deps), ...setup.activityOverrides };
  const taskQueue = setup.taskQueue ?? setup.site.temporal.taskQueue;
  const hostQueue = setup.hostTaskQueue ?? setup.site.temporal.hostTaskQueue;
  const workers: Worker[] = [];
  const common: Partial<WorkerOptions> = {
    connection,
    namespace: setup.namespace,
    shutdownGraceTime: '10s',
    // Pipeline metrics for every activity attempt (src/metrics/); exported when the runtime has an exporter.
    interceptors: { activity: [activityMetricsInterceptor] },
  };
  if (setup.queues.includes('control') || !hostQueue) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
        // Without a separate host queue this worker does the heavy work too.
        ...(hostQueue ? {} : { maxConcurrentActivityTaskExecutions: Math.max(4, setup.maxHostActivities ?? 9) }),
      }),
    );
  }
  if (hostQueue && setup.queues.includes('host')) {
    workers.push(
      await Worker.create({ ...common, taskQueue: hostQueue, activities, maxConcurrentActivityTaskExecutions: setup.maxHostActivities ?? 4 }),
    );
  }
  return {
    workers,
    async close() {
      if (refresher) clearInterval(refresher);
      await clientConnection.close();
      await connection.close();
    },
  };
}

/** Hands a reissued token to both connections; a bad or unreadable file keeps the old token and says why. */
function watchTokenFile(file: string, token: string, everyMs = 5 * 60_000, native: NativeConnection, clientConnection: Connection): NodeJS.Timeout {
  const refresh = tokenFileRefresher(file, token, async (next) => {
    await native.setApiKey(next);
    clientConnection.setApiKey(next);
  });
  const timer = setInterval(() => {
    refresh()
      .then((r) => {
        if (r.problem) console.warn(`sigrelease worker: ${r.problem}`);
        else if (r.changed) console.warn(`sigrelease worker: using the new token from ${file}`);
      })
      .catch((e: unknown) => console.warn(`sigrelease worker: could not switch to the token in ${file}: ${(e as Error).message}`));
  }, everyMs);
  timer.unref();
  return timer;
}
