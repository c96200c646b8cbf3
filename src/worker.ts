// Builds the worker(s): which queues to poll, which activities to serve, and the workflow bundle.
import path from 'node:path';
import { PROJECT_ROOT } from './root.js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Catalogue } from './config/load.js';
import type { SiteConfig } from './config/schema.js';

// The TypeScript sources, also when this module runs from the built dist/: the bundler compiles them itself.
export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

export type WorkflowBundle = { code: string } | { codePath: string };

/**
 * Bundle once per process and share it between workers (webpack costs seconds). A deployed worker uses the
 * bundle prebuilt by deploy/bundle-workflows.ts (SIGRELEASE_WORKFLOW_BUNDLE), so no webpack runs at start.
 */
let bundle: Promise<WorkflowBundle> | null = null;
export function workflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = process.env.SIGRELEASE_WORKFLOW_BUNDLE;
  bundle ??= prebuilt ? Promise.resolve({ codePath: prebuilt }) : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
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

export async function createWorkers(setup: WorkerSetup): Promise<{ workers: Worker[]; close(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: setup.address });
  const clientConnection = await Connection.connect({ address: setup.address });
  const client = new Client({ connection: clientConnection, namespace: setup.namespace });
  const activities = { ...createActivities({ site: setup.site, catalogue: setup.catalogue, client }), ...setup.activityOverrides };
  const taskQueue = setup.taskQueue ?? setup.site.temporal.taskQueue;
  const hostQueue = setup.hostTaskQueue ?? setup.site.temporal.hostTaskQueue;
  const workers: Worker[] = [];
  const common: Partial<WorkerOptions> = { connection, namespace: setup.namespace, shutdownGraceTime: '10s' };
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
      await clientConnection.close();
      await connection.close();
    },
  };
}
