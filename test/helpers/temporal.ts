// One helper for "workers on a fresh task queue against the shared dev server" (dittofeed's test/temporal.ts):
// every integration test uses it, with activity overrides over the real activities when it needs them.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadCatalogue, parseSite, type Catalogue } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import type { SiteConfig } from '../../src/config/schema.js';
import { createWorkers, type WorkerSetup } from '../../src/worker.js';

// Workers log every state change at INFO; tests only want warnings. Once per process, before any worker.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* already installed in this process */
}

export function serverAddress() {
  return { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
}

let clientPromise: Promise<Client> | null = null;
export function testClient(): Promise<Client> {
  clientPromise ??= (async () => {
    const { address, namespace } = serverAddress();
    const connection = await Connection.connect({ address });
    return new Client({ connection, namespace });
  })();
  return clientPromise;
}

/** A site config whose roots live in a fresh temp folder, marked as `sigrelease init-roots` does; `overrides` is merged on top. */
export function testSite(opts: { repoBaseUrl: string; gitBaseUrl?: string; overrides?: Record<string, unknown> }): { site: SiteConfig; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-site-'));
  const site = parseSite(
    localSiteRaw(root, opts),
    'test site config',
  );
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
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
    }
  } finally {
    await close();
  }
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
