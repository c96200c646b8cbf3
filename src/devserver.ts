// The embedded Temporal: the CLI's dev server (SQLite, Web UI) built from source by scripts/setup.sh.
// Used by `sigrelease worker --dev-server`, the demo and the tests, so all of them run against a real server.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';

export const TEMPORAL_CLI_VERSION = '1.5.1';

/** Where setup.sh installs the CLI; `SIGRELEASE_TEMPORAL_CLI` points elsewhere. */
export function temporalCliPath(): string {
  const fromEnv = process.env.SIGRELEASE_TEMPORAL_CLI;
  if (fromEnv) return fromEnv;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'sigrelease', `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface DevServerOptions {
  /**
   * SQLite file, kept across restarts so runs survive a server restart. Without it the server keeps its state in
   * memory (the test suite's shared server, which no test restarts: no fsync per write, less CPU).
   */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  /** Web UI on unless headless. */
  headless?: boolean;
  namespace?: string;
  /** More namespaces created at start, each with our search attributes (the test suite: one per test file). */
  extraNamespaces?: readonly string[];
  /** Where the server's own output goes. */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  port: number;
  uiUrl: string | null;
  namespace: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with our search attributes and waits until it answers gRPC. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const cli = temporalCliPath();
  if (!fs.existsSync(cli)) {
    throw new Error(`Temporal CLI not found at ${cli}; run scripts/setup.sh (or set SIGRELEASE_TEMPORAL_CLI)`);
  }
  const port = opts.port ?? (await freePort());
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort()));
  const namespace = opts.namespace ?? 'default';
  if (opts.dbFile) fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    // The CLI registers the search attributes in every namespace it creates at start, not only the first.
    ...[namespace, ...(opts.extraNamespaces ?? [])].flatMap((ns) => ['--namespace', ns]),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    '--log-level', 'error',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    '--dynamic-config-value', 'frontend.enableExecuteMultiOperation=true',
    ...Object.values(SEARCH_ATTRIBUTES).flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
  ];
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', out, out], detached: false });
  if (typeof out === 'number') fs.closeSync(out);
  let exited: string | null = null;
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const address = `127.0.0.1:${port}`;
  await waitForServer(address, namespace, opts.readyTimeoutMs ?? 90_000, () => exited);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  return { address, port, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null, namespace, pid: child.pid!, stop };
}

/** Polls until the frontend answers and the namespace is registered (the dev server creates it at start). */
export async function waitForServer(
  /** An address, or the options of a connection that needs TLS or an API key (the deployment test's server). */
  server: string | ConnectionOptions,
  namespace: string,
  timeoutMs: number,
  died: () => string | null = () => null,
  what = 'temporal server start-dev',
): Promise<void> {
  const options = typeof server === 'string' ? { address: server } : server;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const why = died();
    if (why) throw new Error(`${what} ${why} before it was ready`);
    try {
      const conn = await Connection.connect({ ...options, connectTimeout: 2_000 });
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await conn.close();
      }
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} at ${options.address} not ready after ${timeoutMs} ms: ${last}`);
}
