// The closed deployment's credentials for a test server, made by the same tools an operator uses:
// deploy/tls/make-certs.sh (two CAs, server, worker, UI, admin and operator certificates) and the token module
// behind `sigrelease token` (a signing key, its public set, tokens per role). The key set is served over http
// on a loopback port, as the server only fetches key sets over http(s). Not a test itself.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TLSConfig } from '@temporalio/client';
import { addSigningKey, issueToken, keyFolder, permissionsFor, type KeyFolder, type Role } from '../../src/auth/tokens.js';

const MAKE_CERTS = fileURLToPath(new URL('../../deploy/tls/make-certs.sh', import.meta.url));

/** A folder of make-certs.sh's output that a client uses: cert.pem, key.pem, ca.pem. */
export type ClientFolder = 'worker' | 'ui' | 'admin' | `operators/${string}`;

export interface SecureAccess {
  tlsDir: string;
  keys: KeyFolder;
  jwksUrl: string;
  /** The name every client checks against the frontend certificate (as the compose services dial it). */
  serverName: string;
  /** SDK TLS options with this folder's client certificate; `null`: TLS without a client certificate. */
  clientTls(folder: ClientFolder | null): TLSConfig;
  /** A token for `subject` with the role's permissions in `namespace`, or with raw permissions. */
  token(subject: string, grant: { role: Role; namespace: string } | { permissions: string[] }): Promise<string>;
  /** The `temporal` CLI environment for this folder's certificate and a token (the variables its envconfig reads). */
  cliEnv(folder: ClientFolder, token: string): Record<string, string>;
  close(): Promise<void>;
}

export function makeCerts(out: string, args: string[]): void {
  // Keys go to this process's user rather than the container users (1000, 10004) that a deployment needs.
  const uid = String(process.getuid?.() ?? 0);
  const env = { ...process.env, TEMPORAL_UID: uid, UI_UID: uid, ADMIN_UID: uid, SIGRELEASE_UID: uid };
  const r = spawnSync('/bin/sh', [MAKE_CERTS, '--out', out, ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`make-certs.sh ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

export async function prepareSecureAccess(dir: string, operators: string[]): Promise<SecureAccess> {
  const tlsDir = path.join(dir, 'tls');
  makeCerts(tlsDir, ['all']);
  for (const name of operators) makeCerts(tlsDir, ['operator', name]);
  const keys = keyFolder(path.join(dir, 'auth'));
  await addSigningKey(keys);

  // Only the public set is served: the private keys live beside it, outside the served folder.
  const jwksServer = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(fs.readFileSync(keys.jwksFile));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

  const serverName = 'temporal';
  const file = (folder: string, name: string) => path.join(tlsDir, folder, name);
  return {
    tlsDir,
    keys,
    jwksUrl,
    serverName,
    clientTls(folder) {
      const tls: TLSConfig = { serverNameOverride: serverName, serverRootCACertificate: fs.readFileSync(file('server', 'ca.pem')) };
      if (folder) tls.clientCertPair = { crt: fs.readFileSync(file(folder, 'cert.pem')), key: fs.readFileSync(file(folder, 'key.pem')) };
      return tls;
    },
    async token(subject, grant) {
      const permissions = 'role' in grant ? permissionsFor(grant.role, grant.namespace) : grant.permissions;
      return (await issueToken(keys, { subject, permissions, ttl: '2h' })).token;
    },
    cliEnv(folder, token) {
      return {
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: file(folder, 'ca.pem'),
        TEMPORAL_TLS_CLIENT_CERT_PATH: file(folder, 'cert.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: file(folder, 'key.pem'),
        TEMPORAL_TLS_SERVER_NAME: serverName,
        TEMPORAL_API_KEY: token,
      };
    },
    close: () => new Promise<void>((r) => jwksServer.close(() => r())),
  };
}

/** The server's `global.tls` and `global.authorization` for these credentials (reference: temporal-security §2.1, §3.1). */
export function serverSecurityConfig(access: SecureAccess): Record<string, unknown> {
  const server = (name: string) => path.join(access.tlsDir, 'server', name);
  return {
    tls: {
      // Internode (history, matching, the internal-frontend) trusts only the internode CA.
      internode: {
        server: { certFile: server('internode.pem'), keyFile: server('internode.key'), requireClientAuth: true, clientCaFiles: [server('internode-ca.pem')] },
        client: { serverName: 'internode.temporal', rootCaFiles: [server('internode-ca.pem')] },
      },
      frontend: {
        server: { certFile: server('frontend.pem'), keyFile: server('frontend.key'), requireClientAuth: true, clientCaFiles: [server('ca.pem')] },
        client: { serverName: access.serverName, rootCaFiles: [server('ca.pem')] },
      },
    },
    authorization: {
      jwtKeyProvider: { keySourceURIs: [access.jwksUrl], refreshInterval: '1m' },
      permissionsClaimName: 'permissions',
      authorizer: 'default',
      claimMapper: 'default',
    },
  };
}
