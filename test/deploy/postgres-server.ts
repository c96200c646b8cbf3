// A production-shaped Temporal for tests: a private PostgreSQL cluster (Debian's postgresql package) on
// a free loopback port, the schema applied by deploy/temporal/setup-schema.sh with temporal-sql-tool,
// the real `temporal-server` 1.29.1 (scripts/build-temporal-server.sh) with PostgreSQL for both the
// default and the visibility store, and the namespace + search attributes created by
// deploy/temporal/create-namespace.sh with the Temporal CLI. The same two scripts run as the one-shot
// jobs of docker-compose.yml, so this exercises them for real. Not a test itself.
//
// Runs as root (the PostgreSQL processes then run as the `postgres` user through runuser) or as any
// other user. Everything lives in one temp folder that stop() removes (SIGRELEASE_KEEP_PG=1 keeps it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, type TLSConfig } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { freePort, temporalCliPath, waitForServer } from '../../src/devserver.js';
import { prepareSecureAccess, serverSecurityConfig, type SecureAccess } from './secure-access.js';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
const repo = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY_DIR = path.join(repo, 'deploy');

/** Where scripts/build-temporal-server.sh puts temporal-server, temporal-sql-tool and the schema. */
export function temporalServerDir(): string {
  const fromEnv = process.env.SIGRELEASE_TEMPORAL_SERVER_DIR;
  if (fromEnv) return fromEnv;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'sigrelease', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** PostgreSQL's server binaries: $SIGRELEASE_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function postgresBinDir(): string | null {
  const fromEnv = process.env.SIGRELEASE_PG_BIN;
  if (fromEnv) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return null;
  const majors = fs
    .readdirSync(base)
    .filter((d) => /^\d+$/.test(d) && fs.existsSync(path.join(base, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? path.join(base, majors[0], 'bin') : null;
}

/** What is missing for startPostgresTemporal, with how to get it; empty when everything is there. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const dir = temporalServerDir();
  for (const bin of ['temporal-server', 'temporal-sql-tool']) {
    if (!fs.existsSync(path.join(dir, bin))) missing.push(`${path.join(dir, bin)} (run scripts/build-temporal-server.sh)`);
  }
  if (!postgresBinDir()) missing.push('PostgreSQL server binaries (apt-get install postgresql)');
  if (!fs.existsSync(temporalCliPath())) missing.push(`${temporalCliPath()} (run scripts/setup.sh)`);
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) missing.push('the postgres user (apt-get install postgresql)');
  return missing;
}

const isRoot = () => process.getuid?.() === 0;

export interface PostgresTemporalOptions {
  namespace?: string;
  retention?: string;
  numHistoryShards?: number;
  /** Extra dynamic config on top of deploy/temporal/dynamicconfig/sigrelease.yaml. */
  dynamicConfig?: Record<string, unknown>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readyTimeoutMs?: number;
  /**
   * The closed deployment: mutual TLS on the frontend and internode (deploy/tls/make-certs.sh), JWT authorization
   * (default claim mapper and authorizer, key set on a loopback URL) and the internal-frontend that the server's
   * own worker then needs. `operators` get client certificates of their own.
   */
  secure?: { operators?: string[] };
}

export interface PostgresTemporal {
  address: string;
  namespace: string;
  pgPort: number;
  dir: string;
  serverLog: string;
  /** Timings of the start, in ms, for the report. */
  timings: Record<string, number>;
  /** With `secure`: the credentials, and the internal-frontend's address (never published in a deployment). */
  access: SecureAccess | null;
  internalFrontendAddress: string | null;
  /** Connection options for the harness itself: with `secure`, the admin certificate and a cluster-admin token. */
  harness: { address: string; tls: TLSConfig | false; apiKey?: string };
  /** Runs a `temporal` CLI command against this server as the harness (or with `env`); returns stdout. */
  cli(args: string[], env?: Record<string, string>): string;
  /** Runs the compose file's two one-shot job scripts again (as every `docker compose up` does); returns their output. */
  rerunSetupJobs(): { schema: string; namespace: string };
  stop(): Promise<void>;
}

const DB_USER = 'temporal';
const DB_PASSWORD = 'sigrelease-test';

export async function startPostgresTemporal(opts: PostgresTemporalOptions = {}): Promise<PostgresTemporal> {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`cannot start the PostgreSQL-backed Temporal; missing:\n  ${missing.join('\n  ')}`);
  const serverDir = temporalServerDir();
  const namespace = opts.namespace ?? 'sigrelease';
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - t;
    t = Date.now();
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-pg-temporal-'));
  fs.chmodSync(dir, 0o755); // the postgres user must reach its data dir inside
  let pg: PrivatePostgres | null = null;
  let server: ChildProcess | null = null;
  let access: SecureAccess | null = null;
  // A crashed test run must not leave a postgres behind.
  const onExit = () => {
    server?.kill('SIGKILL');
    pg?.stop();
  };
  process.once('exit', onExit);

  try {
    // 1. PostgreSQL: password auth over TCP like production, no fsync (a throwaway test cluster).
    pg = await startPrivatePostgres(path.join(dir, 'pg'));
    lap('postgres start');

    // 2. Schema: the compose job's script, with the binaries and schema from the server build.
    const toolEnv = {
      ...process.env,
      PATH: `${serverDir}:${path.dirname(temporalCliPath())}:${process.env.PATH ?? ''}`,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(pg.port),
      POSTGRES_USER: DB_USER,
      POSTGRES_PWD: DB_PASSWORD,
      TEMPORAL_SCHEMA_ROOT: path.join(serverDir, 'schema', 'postgresql', 'v12'),
    };
    const setupSchema = () => spawnChecked('/bin/sh', [path.join(DEPLOY_DIR, 'temporal', 'setup-schema.sh')], { env: toolEnv, log: path.join(dir, 'setup-schema.log') });
    setupSchema();
    lap('schema');

    // 3. Credentials of the closed deployment, made by the operator's tools.
    if (opts.secure) {
      access = await prepareSecureAccess(dir, opts.secure.operators ?? []);
      lap('certificates and keys');
    }

    // 4. The server: one process with every service on free loopback ports.
    const layout = await serverLayout(!!access);
    writeServerConfig(dir, { ...opts, layout, pgPort: pg.port, security: access ? serverSecurityConfig(access) : null });
    const serverLog = path.join(dir, 'temporal-server.log');
    const out = fs.openSync(serverLog, 'a');
    // internal-frontend is not among the default services: name them all (reference: temporal-security §3.5).
    const services = access ? ['frontend', 'internal-frontend', 'history', 'matching', 'worker'].flatMap((s) => ['--service', s]) : [];
    server = spawn(path.join(serverDir, 'temporal-server'), ['--root', dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start', ...services], {
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    let exited: string | null = null;
    server.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    const address = `127.0.0.1:${layout.ports.frontend}`;
    const harness = access
      ? { address, tls: access.clientTls('admin'), apiKey: await access.token('harness', { permissions: ['temporal-system:admin'] }) }
      : { address, tls: false as const };
    // The system namespace is served once history and matching have joined the ring.
    await waitForServer(harness, 'temporal-system', opts.readyTimeoutMs ?? 90_000, () => (exited ? `${exited}; log:\n${tail(serverLog)}` : null), 'temporal-server');
    lap('server ready');

    // 5. Namespace and search attributes: the compose job's script, with our CLI build; when secure, as the
    //    namespace job runs in compose: the admin certificate and a namespace-admin token from a file.
    const jobEnv: NodeJS.ProcessEnv = { ...toolEnv, TEMPORAL_ADDRESS: address, SIGRELEASE_NAMESPACE: namespace, SIGRELEASE_RETENTION: opts.retention ?? '30d' };
    if (access) {
      const tokenFile = path.join(dir, 'admin.token');
      fs.writeFileSync(tokenFile, `${await access.token('temporal-namespace-job', { role: 'admin', namespace })}\n`, { mode: 0o600 });
      const { TEMPORAL_API_KEY: _inline, ...certs } = access.cliEnv('admin', '');
      Object.assign(jobEnv, certs, { SIGRELEASE_ADMIN_TOKEN_FILE: tokenFile });
    }
    const createNamespace = () => spawnChecked('/bin/sh', [path.join(DEPLOY_DIR, 'temporal', 'create-namespace.sh')], { env: jobEnv, log: path.join(dir, 'create-namespace.log') });
    createNamespace();
    await waitForSearchAttributes(harness, namespace, opts.readyTimeoutMs ?? 90_000);
    lap('namespace');

    const harnessCliEnv = access ? access.cliEnv('admin', harness.apiKey!) : {};
    const cli = (args: string[], env: Record<string, string> = harnessCliEnv) => {
      const r = spawnSync(temporalCliPath(), [...args, '--address', address], { encoding: 'utf8', env: { ...process.env, ...env } });
      if (r.status !== 0) throw new Error(`temporal ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    };

    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      const child = server!;
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(timer);
      }
      pg?.stop();
      await access?.close();
      process.removeListener('exit', onExit);
      if (!process.env.SIGRELEASE_KEEP_PG) fs.rmSync(dir, { recursive: true, force: true });
    };
    const rerunSetupJobs = () => ({ schema: setupSchema(), namespace: createNamespace() });
    const internalFrontendAddress = layout.ports.internalFrontend ? `127.0.0.1:${layout.ports.internalFrontend}` : null;
    return { address, namespace, pgPort: pg.port, dir, serverLog, timings, access, internalFrontendAddress, harness, cli, rerunSetupJobs, stop };
  } catch (e) {
    server?.kill('SIGKILL');
    pg?.stop();
    await access?.close();
    process.removeListener('exit', onExit);
    throw new Error(`${(e as Error).message}\n(files kept in ${dir})`);
  }
}

interface PrivatePostgres {
  port: number;
  stop(): void;
}

/** initdb + pg_ctl start in `pgDir` (as the postgres user when root), listening on a free loopback port. */
async function startPrivatePostgres(pgDir: string): Promise<PrivatePostgres> {
  const pgBin = postgresBinDir()!;
  const dataDir = path.join(pgDir, 'data');
  fs.mkdirSync(pgDir);
  const pwFile = path.join(pgDir, 'pwfile');
  fs.writeFileSync(pwFile, `${DB_PASSWORD}\n`, { mode: 0o600 });
  if (isRoot()) spawnChecked('chown', ['-R', 'postgres:postgres', pgDir]);
  const asPg = (cmd: string, args: string[]) => (isRoot() ? spawnChecked('runuser', ['-u', 'postgres', '--', cmd, ...args]) : spawnChecked(cmd, args));
  asPg(path.join(pgBin, 'initdb'), [
    '-D', dataDir, '-U', DB_USER, `--pwfile=${pwFile}`, '--auth-host=scram-sha-256', '--auth-local=trust',
    '-E', 'UTF8', '--locale=C', '--no-sync',
  ]);
  const port = await freePort();
  asPg(path.join(pgBin, 'pg_ctl'), [
    '-D', dataDir, '-l', path.join(pgDir, 'postgres.log'), '-w', '-t', '60',
    '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${pgDir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    'start',
  ]);
  let running = true;
  return {
    port,
    stop() {
      if (!running) return;
      running = false;
      const args = [path.join(pgBin, 'pg_ctl'), '-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'];
      spawnSync(isRoot() ? 'runuser' : args[0]!, isRoot() ? ['-u', 'postgres', '--', ...args] : args.slice(1), { stdio: 'ignore' });
    },
  };
}

interface ServerLayout {
  ports: { frontend: number; frontendHttp: number; history: number; matching: number; worker: number; internalFrontend?: number; internalFrontendHttp?: number };
  membership: { frontend: number; history: number; matching: number; worker: number; internalFrontend?: number };
}

/** Below 32768: the cluster_membership table stores the membership port as a smallint (ephemeral ports overflow it). */
async function serverLayout(withInternalFrontend: boolean): Promise<ServerLayout> {
  const ports: ServerLayout['ports'] = { frontend: await lowFreePort(), frontendHttp: await lowFreePort(), history: await lowFreePort(), matching: await lowFreePort(), worker: await lowFreePort() };
  const membership: ServerLayout['membership'] = { frontend: await lowFreePort(), history: await lowFreePort(), matching: await lowFreePort(), worker: await lowFreePort() };
  if (withInternalFrontend) {
    ports.internalFrontend = await lowFreePort();
    ports.internalFrontendHttp = await lowFreePort();
    membership.internalFrontend = await lowFreePort();
  }
  return { ports, membership };
}

/** config/development.yaml and the dynamic config (production's plus `opts.dynamicConfig`) in `dir`. */
function writeServerConfig(dir: string, o: PostgresTemporalOptions & { layout: ServerLayout; pgPort: number; security: Record<string, unknown> | null }): void {
  const { ports, membership } = o.layout;
  const dynamicConfigFile = path.join(dir, 'dynamicconfig.yaml');
  const prodDynamic = parseYaml(fs.readFileSync(path.join(DEPLOY_DIR, 'temporal', 'dynamicconfig', 'sigrelease.yaml'), 'utf8')) as Record<string, unknown>;
  const extra = Object.fromEntries(Object.entries(o.dynamicConfig ?? {}).map(([k, v]) => [k, [{ value: v }]]));
  fs.writeFileSync(dynamicConfigFile, stringifyYaml({ ...prodDynamic, ...extra }));
  const sqlStore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${o.pgPort}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password: DB_PASSWORD,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1', ...(httpPort ? { httpPort } : {}) },
  });
  const config = {
    log: { stdout: true, level: o.logLevel ?? 'warn' },
    persistence: {
      numHistoryShards: o.numHistoryShards ?? 4,
      defaultStore: 'default',
      visibilityStore: 'visibility',
      datastores: { default: sqlStore('temporal', 20), visibility: sqlStore('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' }, pprof: { port: 0 }, ...(o.security ?? {}) },
    services: {
      frontend: rpc(ports.frontend, membership.frontend, ports.frontendHttp),
      // The server's own worker calls the frontend without a token: with authorization on it goes through this
      // internal frontend, which trusts internode certificates only (reference: temporal-security §3.5).
      ...(ports.internalFrontend ? { 'internal-frontend': rpc(ports.internalFrontend, membership.internalFrontend!, ports.internalFrontendHttp) } : {}),
      history: rpc(ports.history, membership.history),
      matching: rpc(ports.matching, membership.matching),
      worker: rpc(ports.worker, membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
          httpAddress: `127.0.0.1:${ports.frontendHttp}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(path.join(dir, 'config', 'development.yaml'), stringifyYaml(config));
}

type HarnessConnection = PostgresTemporal['harness'];

/** A free loopback port in 20000-32767, never handed out twice by this process. */
const handedOut = new Set<number>();
async function lowFreePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port in 20000-32767');
}

function spawnChecked(cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; log?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: o.env ?? process.env, timeout: 300_000, cwd: os.tmpdir() });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (o.log) fs.writeFileSync(o.log, output);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}):\n${output.split('\n').slice(-30).join('\n')}`);
  }
  return r.stdout;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A visibility query naming our attributes succeeds once the frontend's namespace cache has the new aliases. */
async function waitForSearchAttributes(harness: HarnessConnection, namespace: string, timeoutMs: number): Promise<void> {
  const conn = await Connection.connect(harness);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        await conn.workflowService.countWorkflowExecutions({
          namespace,
          query: `SigName = "x" AND SigRelease = "x" AND SigStage = "x" AND SigApprover = "x"`,
        });
        return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await conn.close();
  }
  throw new Error(`search attributes not usable in ${namespace} after ${timeoutMs} ms: ${last}`);
}
