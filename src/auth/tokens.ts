// Tokens for Temporal's default claim mapper and authorizer, signed with `jose` (never by hand).
//
// A key folder holds `private/<kid>.jwk.json` (signing keys, mode 0600) and `jwks/jwks.json` (the public key set
// the server fetches over http from a loopback address; only that subfolder is ever served). The newest key
// signs; older public keys stay in the set until retired, so tokens already handed out keep working while new
// ones are issued: that is the rotation.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ConfigError } from '../config/load.js';

/** What the claim mapper accepts: RS256 or ES256, with a `kid` that names a key of the set. */
export type TokenAlg = 'ES256' | 'RS256';
export const ROLES = ['reader', 'operator', 'worker', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The permissions each role carries. The default authorizer compares role bits (worker 1 < read 2 < write 4 <
 * admin 8) with what an API needs: polling and completing tasks need `write`, so `worker` alone grants nothing and
 * a worker token carries `write` (and `worker`, which says what the token is for).
 */
export function permissionsFor(role: Role, namespace: string): string[] {
  checkNamespace(namespace);
  switch (role) {
    case 'reader':
      return [`${namespace}:read`];
    case 'operator':
      return [`${namespace}:write`];
    case 'worker':
      return [`${namespace}:write`, `${namespace}:worker`];
    case 'admin':
      return [`${namespace}:admin`];
  }
}

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const PERMISSION = /^([A-Za-z0-9][A-Za-z0-9._-]{0,254}):(read|write|worker|admin)$/;
const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TTL = /^[1-9][0-9]{0,4}(m|h|d)$/;

function checkNamespace(ns: string): void {
  if (!NAMESPACE.test(ns)) throw new ConfigError(`namespace ${JSON.stringify(ns)} is not a Temporal namespace name`);
}

export function checkPermissions(perms: string[]): string[] {
  if (perms.length === 0) throw new ConfigError('a token needs at least one permission, such as sigrelease:read');
  for (const p of perms) {
    if (!PERMISSION.test(p)) throw new ConfigError(`permission ${JSON.stringify(p)} must look like <namespace>:<read|write|worker|admin>, e.g. sigrelease:read`);
  }
  if (perms.every((p) => p.endsWith(':worker'))) {
    throw new ConfigError(`permissions ${perms.join(', ')} grant nothing: the worker role needs write as well (use --role worker)`);
  }
  return perms;
}

export interface KeyFolder {
  dir: string;
  privateDir: string;
  jwksFile: string;
}
export const keyFolder = (dir: string): KeyFolder => ({ dir, privateDir: path.join(dir, 'private'), jwksFile: path.join(dir, 'jwks', 'jwks.json') });

interface PublicJwk extends JWK {
  kid: string;
  alg: TokenAlg;
}
export function readKeySet(folder: KeyFolder): PublicJwk[] {
  if (!fs.existsSync(folder.jwksFile)) return [];
  const set = JSON.parse(fs.readFileSync(folder.jwksFile, 'utf8')) as { keys?: PublicJwk[] };
  return set.keys ?? [];
}

function writeKeySet(folder: KeyFolder, keys: PublicJwk[]): void {
  fs.mkdirSync(path.dirname(folder.jwksFile), { recursive: true, mode: 0o755 });
  const tmp = `${folder.jwksFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, folder.jwksFile); // the server may fetch at any moment: never a half-written set
}

/** Adds a signing key: its private half to private/, its public half to the key set. Returns its `kid`. */
export async function addSigningKey(folder: KeyFolder, alg: TokenAlg = 'ES256', now = new Date()): Promise<string> {
  const kid = `sigrelease-${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  fs.mkdirSync(folder.privateDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(folder.privateDir, `${kid}.jwk.json`), `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg })}\n`, { mode: 0o600, flag: 'wx' });
  writeKeySet(folder, [...readKeySet(folder), { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }]);
  return kid;
}

/** Drops a key from the set (tokens it signed stop working at the server's next key refresh) and deletes its private half. */
export function retireSigningKey(folder: KeyFolder, kid: string): void {
  const keys = readKeySet(folder);
  if (!keys.some((k) => k.kid === kid)) throw new ConfigError(`no key ${JSON.stringify(kid)} in ${folder.jwksFile}; keys: ${keys.map((k) => k.kid).join(', ') || '(none)'}`);
  if (keys.length === 1) throw new ConfigError(`${kid} is the only key: add a new one (sigrelease token keys) and reissue tokens before retiring it`);
  writeKeySet(folder, keys.filter((k) => k.kid !== kid));
  fs.rmSync(path.join(folder.privateDir, `${kid}.jwk.json`), { force: true });
}

export interface TokenRequest {
  subject: string;
  permissions: string[];
  /** How long the token is valid: 30m, 12h, 90d. */
  ttl: string;
}

/** Signs a token with the newest key of the set. */
export async function issueToken(folder: KeyFolder, req: TokenRequest): Promise<{ token: string; kid: string; expiresAt: Date }> {
  if (!SUBJECT.test(req.subject)) throw new ConfigError(`subject ${JSON.stringify(req.subject)} must be a name (letters, digits, . _ @ -; at most 64)`);
  if (!TTL.test(req.ttl)) throw new ConfigError(`ttl ${JSON.stringify(req.ttl)} must be a number of minutes, hours or days, such as 12h or 90d`);
  checkPermissions(req.permissions);
  const newest = readKeySet(folder).at(-1);
  if (!newest) throw new ConfigError(`no signing key in ${folder.dir}; make one with \`sigrelease token keys --dir ${folder.dir}\``);
  const privateFile = path.join(folder.privateDir, `${newest.kid}.jwk.json`);
  if (!fs.existsSync(privateFile)) throw new ConfigError(`the newest key ${newest.kid} has no private half in ${folder.privateDir}`);
  const key = await importJWK(JSON.parse(fs.readFileSync(privateFile, 'utf8')) as JWK, newest.alg);
  const token = await new SignJWT({ permissions: req.permissions })
    .setProtectedHeader({ alg: newest.alg, kid: newest.kid, typ: 'JWT' })
    .setSubject(req.subject)
    .setIssuedAt()
    .setExpirationTime(req.ttl)
    .sign(key);
  const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
  return { token, kid: newest.kid, expiresAt: new Date(exp * 1000) };
}
