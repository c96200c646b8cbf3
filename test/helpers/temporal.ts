// One helper for "workers on a fresh task queue against the shared dev server" (dittofeed's test/temporal.ts):
// every integration test uses it, with activity overrides over the real activities when it needs them.
// Each test file works in its own namespace on that server (testNamespace()), so files never see each other.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { expect, inject } from 'vitest';
import { loadCatalogue, parseSite, type Catalogue } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { createWorkers, type WorkerSetup } from '../../src/worker.js';
import { namespaceForTestFile } from './namespaces.js';

// Workers log every state change at INFO; tests only want warnings. Once per process, before any worker.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* already installed in this process */
}

/**
 * The namespace of the test file that is running (vitest's worker knows its path even while the file's module
 * is being evaluated), created by the global setup (test/setup/temporal-server.ts).
 */
export function testNamespace(): string {
  const file = expect.getState().testPath;
  if (!file) throw new Error('testNamespace() needs a running vitest test file');
  const namespace = namespaceForTestFile(file);
  const created = inject('temporalNamespaces');
  if (!created.includes(namespace)) {
    throw new Error(`the test server has no namespace ${namespace} for ${file}: the global setup creates one per test/**/*.int.test.ts it finds at start`);
  }
  return namespace;
}

/** Where this test file's clients, workers, CLI calls and `temporal` calls go: the shared server, its own namespace. */
export function serverAddress() {
  return { address: inject('temporalAddress'), namespace: testNamespace() };
}

const clients = new Map<string, Promise<Client>>();
export function testClient(): Promise<Client> {
  const { address, namespace } = serverAddress();
  let client = clients.get(namespace);
  if (!client) {
    client = Connection.connect({ address }).then((connection) => new Client({ connection, namespace }));
    clients.set(namespace, client);
  }
  return client;
}

/**
 * A site config whose roots live in a fresh temp folder, marked as `sigrelease init-roots` does, and whose
 * `temporal` section points at this file's namespace on the test server; `overrides` is merged on top.
 */
export function testSite(opts: { repoBaseUrl: string; gitBaseUrl?: string; overrides?: Record<string, unknown> }): { site: SiteConfig; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-site-'));
  const temporal = { ...serverAddress(), ...(opts.overrides?.temporal as Record<string, unknown> | undefined) };
  const site = parseSite(localSiteRaw(root, { ...opts, overrides: { ...opts.overrides, temporal } }), 'test site config');
  initRoots(site);
  return { site, root };
}

let catalogue: Catalogue | null = null;
export function testCatalogue(): Catalogue {
  catalogue ??= loadCatalogue();
  return catalogue;
}

export const uniqueQueue = (label = 'test') => `${label}-${randomUUID()}`;

/** Runs `fn` while workers poll a fresh task queue; the workers stop afterwards whatever happens. */
export async function withWorkers<T>(
  opts: Partial<Omit<WorkerSetup, 'site'>> & { site: SiteConfig },
  fn: (ctx: { client: Client; taskQueue: string; hostTaskQueue?: string }) => Promise<T>,
): Promise<T> {
  const { address, namespace } = serverAddress();
  const taskQueue = opts.taskQueue ?? uniqueQueue();
  const { workers, close } = await createWorkers({
    address,
    namespace,
    catalogue: opts.catalogue ?? testCatalogue(),
    queues: opts.queues ?? ['control', 'host'],
    ...opts,
    taskQueue,
  });
  const client = await testClient();
  try {
    const runs = workers.map((w) => w.run());
    try {
      return await fn({ client, taskQueue, ...(opts.hostTaskQueue ? { hostTaskQueue: opts.hostTaskQueue } : {}) });
    } finally {
      // A fresh queue per block: the site's singletons started on it would leave later blocks' runs waiting.
      if (!opts.taskQueue) await endSingletonsOn(client, taskQueue);
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
    }
  } finally {
    await close();
  }
}

/**
 * Ends the production lock, pipeline turns and file-list writers that run on `taskQueue`. They live on the queue
 * of the run that started them (one queue in a deployment); a test block's queue dies with its workers, and a
 * later block's run that asks one of them would wait on a queue nobody polls.
 */
async function endSingletonsOn(client: Client, taskQueue: string): Promise<void> {
  const types = ['productionLock', 'pipelineTurn', 'fileListWriter'].map((t) => `WorkflowType = "${t}"`).join(' OR ');
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}" AND (${types})`;
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate('test block finished').catch(() => undefined)));
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Every failure type and message along a Temporal failure's cause chain, one per line, for assertions. */
export function failureChain(e: unknown): string {
  const out: string[] = [];
  for (let err = e as { message?: string; type?: string; cause?: unknown } | undefined; err; err = err.cause as typeof err) {
    out.push(`${err.type ?? ''} ${err.message ?? ''}`.trim());
  }
  return out.join('\n');
}
