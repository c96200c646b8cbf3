// How the CLI and the workers reach Temporal: address, namespace, mutual TLS and the JWT they present. One
// place turns the site config and the environment into connection options, and refuses what cannot work
// (a missing certificate, a key others can read, an expired token) before any server is contacted.
// The environment uses the names the `temporal` CLI reads, so one set of variables serves both CLIs.
import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError } from './load.js';
import type { SiteConfig } from './schema.js';
import { readPrivateFile } from './secrets.js';

export interface TemporalAccess {
  address: string;
  namespace: string;
  /** `false` on a plaintext frontend: the SDK turns TLS on by itself whenever an API key is set. */
  tls: TLSConfig | false;
  apiKey?: string;
  /** Where the token came from, for messages and for re-reading it: never the token itself. */
  apiKeySource?: { env: string } | { file: string };
}

/** Variables also read by the `temporal` CLI (its envconfig), plus our token-file variable for containers. */
export const ACCESS_ENV = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  tls: 'TEMPORAL_TLS',
  ca: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  cert: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  key: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'TEMPORAL_API_KEY',
  apiKeyFile: 'SIGRELEASE_TEMPORAL_API_KEY_FILE',
} as const;

const set = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);

function readPublicFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new ConfigError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function resolveTls(site: SiteConfig, env: NodeJS.ProcessEnv): TLSConfig | false {
  const t = site.temporal.tls;
  const ca = set(env[ACCESS_ENV.ca]) ?? t?.ca;
  const cert = set(env[ACCESS_ENV.cert]) ?? t?.cert;
  const key = set(env[ACCESS_ENV.key]) ?? t?.key;
  const serverName = set(env[ACCESS_ENV.serverName]) ?? t?.serverName;
  const forced = set(env[ACCESS_ENV.tls]);
  if (forced !== undefined && !/^(true|false)$/.test(forced)) throw new ConfigError(`${ACCESS_ENV.tls} must be true or false (got ${JSON.stringify(forced)})`);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(`a client certificate needs both its certificate and its key: set ${ACCESS_ENV.cert} and ${ACCESS_ENV.key} (or temporal.tls.cert and .key) together`);
  }
  if (forced === 'false') {
    if (ca || cert) throw new ConfigError(`${ACCESS_ENV.tls}=false contradicts the TLS files that are configured`);
    return false;
  }
  if (!ca && !cert && !serverName && forced !== 'true') return false;
  const tls: TLSConfig = {};
  if (ca) tls.serverRootCACertificate = readPublicFile(ca, `the Temporal CA certificate (${env[ACCESS_ENV.ca] ? ACCESS_ENV.ca : 'temporal.tls.ca'})`);
  if (cert && key) {
    tls.clientCertPair = {
      crt: readPublicFile(cert, `the client certificate (${env[ACCESS_ENV.cert] ? ACCESS_ENV.cert : 'temporal.tls.cert'})`),
      key: Buffer.from(readPrivateFile(key, `the client key (${env[ACCESS_ENV.key] ? ACCESS_ENV.key : 'temporal.tls.key'})`)),
    };
  }
  if (serverName) tls.serverNameOverride = serverName;
  return tls;
}

/**
 * Checks that a token is a JWT that has not expired, without verifying its signature (the server does that):
 * an expired token fails even the connection, with a message that does not say why.
 */
export function checkToken(token: string, source: string, now = Date.now()): string {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new ConfigError(`${source}: not a JWT (three base64url parts separated by dots); issue one with \`sigrelease token issue\``);
  }
  let claims: { exp?: unknown; permissions?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new ConfigError(`${source}: the JWT's payload is not JSON`);
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) {
    throw new ConfigError(`${source}: the token expired at ${new Date(claims.exp * 1000).toISOString()}; issue a new one with \`sigrelease token issue\``);
  }
  if (!Array.isArray(claims.permissions)) throw new ConfigError(`${source}: the token has no "permissions" claim, so the server would grant it nothing`);
  return token;
}

function resolveApiKey(site: SiteConfig, env: NodeJS.ProcessEnv): Pick<TemporalAccess, 'apiKey' | 'apiKeySource'> {
  const inline = set(env[ACCESS_ENV.apiKey]);
  if (inline) return { apiKey: checkToken(inline, ACCESS_ENV.apiKey), apiKeySource: { env: ACCESS_ENV.apiKey } };
  const fromEnvFile = set(env[ACCESS_ENV.apiKeyFile]);
  const file = fromEnvFile ?? site.temporal.apiKeyFile;
  if (!file) return {};
  const what = fromEnvFile ? ACCESS_ENV.apiKeyFile : 'temporal.apiKeyFile';
  return { apiKey: checkToken(readPrivateFile(file, what).trim(), `${what} (${file})`), apiKeySource: { file } };
}

/** Address, namespace, TLS and token for this process: the environment first, then the site config. */
export function resolveTemporalAccess(site: SiteConfig, env: NodeJS.ProcessEnv = process.env): TemporalAccess {
  return {
    address: set(env[ACCESS_ENV.address]) ?? site.temporal.address,
    namespace: set(env[ACCESS_ENV.namespace]) ?? site.temporal.namespace,
    tls: resolveTls(site, env),
    ...resolveApiKey(site, env),
  };
}

/** Options for `Connection.connect` and `NativeConnection.connect` (both take address, tls, apiKey). */
export function connectionOptions(access: Pick<TemporalAccess, 'address' | 'tls' | 'apiKey'>): { address: string; tls: TLSConfig | false; apiKey?: string } {
  return { address: access.address, tls: access.tls, ...(access.apiKey !== undefined ? { apiKey: access.apiKey } : {}) };
}

/**
 * Re-reads a token file for a long-running process (a worker lives longer than its token): `refresh()` hands a
 * changed, valid token to `apply` and says why it kept the old one otherwise. The file is read the same way as at
 * start, so a token others can read is refused here too.
 */
export function tokenFileRefresher(file: string, current: string, apply: (token: string) => Promise<void> | void) {
  let inUse = current;
  return async function refresh(): Promise<{ changed: boolean; problem?: string }> {
    let next: string;
    try {
      next = checkToken(readPrivateFile(file, 'the token file').trim(), `the token file ${file}`);
    } catch (e) {
      return { changed: false, problem: `${(e as Error).message}; keeping the token in use` };
    }
    if (next === inUse) return { changed: false };
    await apply(next);
    inUse = next;
    return { changed: true };
  };
}
