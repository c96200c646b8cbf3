// Tokens for Temporal's default claim mapper, made with the module behind `sigrelease token`: what they carry,
// which keys verify them, and how rotation and retirement change that. Verified with jose against the public
// set exactly as the server fetches it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addSigningKey, checkPermissions, issueToken, keyFolder, permissionsFor, readKeySet, retireSigningKey, type KeyFolder } from '../../src/auth/tokens.js';

let dir = '';
let folder: KeyFolder;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-tokens-'));
  folder = keyFolder(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Verifies like the server: signature by a key of the served set, expiry checked. */
async function verifyWithServedSet(token: string) {
  const set = JSON.parse(fs.readFileSync(folder.jwksFile, 'utf8')) as { keys: [] };
  return jwtVerify(token, createLocalJWKSet(set));
}

describe('sigrelease tokens', () => {
  it('signs with ES256 and a kid the served set names, carrying subject, permissions and an expiry', async () => {
    const kid = await addSigningKey(folder);
    const { token, expiresAt } = await issueToken(folder, { subject: 'rita', permissions: permissionsFor('reader', 'sigrelease'), ttl: '12h' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid, typ: 'JWT' });
    const { payload } = await verifyWithServedSet(token);
    expect(payload).toMatchObject({ sub: 'rita', permissions: ['sigrelease:read'] });
    expect(payload.exp! - payload.iat!).toBe(12 * 3600);
    expect(expiresAt.getTime()).toBe(payload.exp! * 1000);
  });

  it('serves only public keys; private halves stay in private/ with mode 0600', async () => {
    const kid = await addSigningKey(folder, 'RS256');
    const [pub] = readKeySet(folder);
    expect(pub).toMatchObject({ kid, alg: 'RS256', use: 'sig', kty: 'RSA' });
    expect(pub).not.toHaveProperty('d');
    expect(fs.readdirSync(path.dirname(folder.jwksFile))).toEqual(['jwks.json']);
    const priv = path.join(folder.privateDir, `${kid}.jwk.json`);
    expect(fs.statSync(priv).mode & 0o777).toBe(0o600);
    expect(fs.statSync(folder.privateDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(priv, 'utf8'))).toHaveProperty('d');
  });

  it('gives workers write (the worker role alone grants nothing), operators write, readers read, the namespace job admin', () => {
    expect(permissionsFor('worker', 'sigrelease')).toEqual(['sigrelease:write', 'sigrelease:worker']);
    expect(permissionsFor('operator', 'sigrelease')).toEqual(['sigrelease:write']);
    expect(permissionsFor('reader', 'default')).toEqual(['default:read']);
    expect(permissionsFor('admin', 'sigrelease')).toEqual(['sigrelease:admin']);
    expect(() => checkPermissions(['sigrelease:worker'])).toThrow(/grant nothing: the worker role needs write/);
    expect(() => checkPermissions(['sigrelease:owner'])).toThrow(/"sigrelease:owner" must look like <namespace>:<read\|write\|worker\|admin>/);
    expect(() => checkPermissions([])).toThrow(/at least one permission/);
    expect(() => permissionsFor('reader', 'a b')).toThrow(/namespace "a b"/);
  });

  it('refuses a bad subject or ttl, and says how to make a key when there is none', async () => {
    await expect(issueToken(folder, { subject: 'rita', permissions: ['sigrelease:read'], ttl: '1h' })).rejects.toThrow(`no signing key in ${dir}; make one with \`sigrelease token keys --dir ${dir}\``);
    await addSigningKey(folder);
    await expect(issueToken(folder, { subject: 'r i t a', permissions: ['sigrelease:read'], ttl: '1h' })).rejects.toThrow(/subject "r i t a" must be a name/);
    await expect(issueToken(folder, { subject: 'rita', permissions: ['sigrelease:read'], ttl: 'forever' })).rejects.toThrow(/ttl "forever"/);
  });

  it('rotates: a new key signs from now on, tokens of the old one verify until it is retired', async () => {
    const oldKid = await addSigningKey(folder);
    const before = await issueToken(folder, { subject: 'worker-1', permissions: permissionsFor('worker', 'sigrelease'), ttl: '90d' });
    const newKid = await addSigningKey(folder);
    const after = await issueToken(folder, { subject: 'worker-1', permissions: permissionsFor('worker', 'sigrelease'), ttl: '90d' });
    expect([before.kid, after.kid]).toEqual([oldKid, newKid]);
    expect(readKeySet(folder).map((k) => k.kid)).toEqual([oldKid, newKid]);
    await verifyWithServedSet(before.token);
    await verifyWithServedSet(after.token);

    retireSigningKey(folder, oldKid);
    expect(readKeySet(folder).map((k) => k.kid)).toEqual([newKid]);
    expect(fs.existsSync(path.join(folder.privateDir, `${oldKid}.jwk.json`))).toBe(false);
    await expect(verifyWithServedSet(before.token)).rejects.toThrow(/no applicable key found/);
    await verifyWithServedSet(after.token);
    expect(() => retireSigningKey(folder, newKid)).toThrow(/the only key/);
    expect(() => retireSigningKey(folder, 'nope')).toThrow(`no key "nope" in ${folder.jwksFile}; keys: ${newKid}`);
  });

  it('works from the command line: `sigrelease token keys`, `issue --out` (mode 0600), and bad input is exit 2 before anything is written', () => {
    const bin = fileURLToPath(new URL('../../bin/sigrelease', import.meta.url));
    const run = (...args: string[]) => spawnSync(bin, ['token', ...args], { encoding: 'utf8' });
    const keys = run('keys', '--dir', dir);
    expect(keys.status).toBe(0);
    const out = path.join(dir, 'rita.token');
    const issued = run('issue', '--dir', dir, '--role', 'reader', '--subject', 'rita', '--ttl', '1h', '--out', out);
    expect(issued).toMatchObject({ status: 0, stdout: '' });
    expect(issued.stderr).toContain(`token for rita: sigrelease:read; key ${keys.stdout.trim()}`);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(decodeProtectedHeader(fs.readFileSync(out, 'utf8').trim()).kid).toBe(keys.stdout.trim());
    const bad = run('issue', '--dir', dir, '--permission', 'sigrelease:worker', '--subject', 'w', '--out', path.join(dir, 'w.token'));
    expect(bad).toMatchObject({ status: 2, stderr: expect.stringContaining('grant nothing') });
    expect(fs.existsSync(path.join(dir, 'w.token'))).toBe(false);
  }, 120_000);
});
