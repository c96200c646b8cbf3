// One real Temporal dev server for the whole integration run (temporal-notes §1.3 mode B): the SDK's
// createLocal has a hard-coded 5 s start limit that flakes on 2 cores. Killed by pid at the end.
// Every integration test file gets a namespace of its own on it (test/helpers/namespaces.ts), created at server
// start with our search attributes: no run, schedule, lock or visibility query of one file is seen by another.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/devserver.js';
import { writeWorkflowBundle } from '../../deploy/bundle-workflows.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { integrationTestFiles, namespacesForTestFiles } from '../helpers/namespaces.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** The namespaces the server was started with, one per integration test file (see testNamespace()). */
    temporalNamespaces: string[];
    temporalPort: number;
    temporalUiUrl: string;
    /** The workflow bundle this run built once from the current sources (see clean-env.ts). */
    workflowBundle: string;
  }
}

/** The namespace the dev server always creates; no test may use it (checked at the end of the run). */
const SERVER_DEFAULT_NAMESPACE = 'default';

export default async function setup(project: TestProject) {
  const namespaces = [...namespacesForTestFiles(integrationTestFiles()).values()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-temporal-'));
  // Every worker of the run, in a test's process or its own, loads this one bundle instead of running webpack
  // again (seconds of CPU each, in ~35 test processes and the worker processes some tests start). It is built
  // from the same entry and options as a worker's own bundle, the way a deployed worker gets its bundle.
  const bundleFile = path.join(dir, 'workflow-bundle.js');
  const [server] = await Promise.all([
    // In memory: no test restarts this server (server-restart.int starts its own), and a file costs an fsync per write.
    startDevServer({ headless: false, logFile: path.join(dir, 'server.log'), namespace: SERVER_DEFAULT_NAMESPACE, extraNamespaces: namespaces }),
    writeWorkflowBundle(bundleFile),
  ]);
  process.on('exit', () => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  const connection = await Connection.connect({ address: server.address });
  try {
    await checkSearchAttributes(connection, namespaces);
  } catch (e) {
    await connection.close();
    await server.stop();
    throw e;
  }
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespaces', namespaces);
  project.provide('temporalPort', server.port);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  project.provide('workflowBundle', bundleFile);
  return async () => {
    try {
      await checkNamespaceUnused(connection, SERVER_DEFAULT_NAMESPACE);
    } finally {
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * Waits until each namespace answers a visibility query that names every search attribute the workflows write.
 * The server creates them all at start, but its namespace registry may still miss one for a few seconds
 * (seen: NOT_FOUND for one of 18 right after start, gone after the next refresh).
 */
async function checkSearchAttributes(connection: Connection, namespaces: string[], timeoutMs = 60_000): Promise<void> {
  const query = Object.values(SEARCH_ATTRIBUTES)
    .map((k) => `${k.name} = "probe"`)
    .join(' AND ');
  const deadline = Date.now() + timeoutMs;
  let waiting = new Map(namespaces.map((ns) => [ns, 'not asked yet']));
  for (;;) {
    const answers = await Promise.all(
      [...waiting.keys()].map((namespace) =>
        connection.workflowService.countWorkflowExecutions({ namespace, query }).then(
          () => [namespace, null] as const,
          (e: unknown) => [namespace, (e as Error).message] as const,
        ),
      ),
    );
    waiting = new Map(answers.filter((a): a is readonly [string, string] => a[1] !== null));
    if (waiting.size === 0) return;
    if (Date.now() > deadline) {
      const why = [...waiting].map(([ns, err]) => `${ns}: ${err}`).join('; ');
      throw new Error(`namespaces of the test server not queryable by our search attributes (${query}) after ${timeoutMs} ms: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A tripwire for a client, worker, CLI call or `temporal` call that fell back to the server's default namespace:
 * that test would see (and be seen by) every other test that did the same. Throws naming what it found.
 */
export async function checkNamespaceUnused(connection: Connection, namespace: string): Promise<void> {
  const runs = await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 5 });
  const schedules = await connection.workflowService.listSchedules({ namespace, maximumPageSize: 5 });
  const used = [
    ...(runs.executions ?? []).map((e) => `workflow ${e.execution?.workflowId ?? '?'}`),
    ...(schedules.schedules ?? []).map((s) => `schedule ${s.scheduleId ?? '?'}`),
  ];
  if (used.length > 0) {
    throw new Error(
      `integration tests used the dev server's "${namespace}" namespace (${used.join(', ')}); ` +
        'every client, worker and CLI call must use testNamespace() from test/helpers/temporal.ts',
    );
  }
}
