// How the CLI and the workers find their Temporal credentials and the webhook secret (src/config/connection.ts,
// src/config/secrets.ts): the environment first, then the site config; every refusal names the setting and the
// file, and comes before any connection. No server needed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkToken, resolveTemporalAccess, tokenFileRefresher } from '../../src/config/connection.js';
import { ConfigError, parseSite } from '../../src/config/load.js';
import { checkWebhookUrl, readPrivateFile, resolveWebhookUrl } from '../../src/config/secrets.js';
import { workerAccess } from '../../src/worker.js';
import { makeCerts } from './secure-access.js';

let dir = '';
let tls = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-access-'));
  tls = path.join(dir, 'tls');
  makeCerts(tls, ['worker']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = { composeRoot: '/srv/c', stagingRoot: '/srv/s', productionRoot: '/srv/p', repoBaseUrl: 'https://example.org/v1', releases: { '9': { revision: '9.7' } } };
const siteWith = (extra: Record<string, unknown> = {}) => parseSite({ ...base, ...extra });
const jwt = (claims: Record<string, unknown>) =>
  ['{"alg":"ES256","kid":"k"}', JSON.stringify(claims), 'sig'].map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');
const validToken = jwt({ sub: 'w', permissions: ['sigrelease:write'], exp: Math.floor(Date.now() / 1000) + 3600 });
function writeSecret(name: string, text: string, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('Temporal access from the site config and the environment', () => {
  it('is plaintext without a token when nothing is configured, as for the dev server', () => {
    expect(resolveTemporalAccess(siteWith(), {})).toEqual({ address: '127.0.0.1:7233', namespace: 'default', tls: false });
  });

  it('reads CA, certificate, key and token file from the site config', () => {
    const tokenFile = writeSecret('site.token', `${validToken}\n`);
    const site = siteWith({
      temporal: { namespace: 'sigrelease', tls: { ca: `${tls}/worker/ca.pem`, cert: `${tls}/worker/cert.pem`, key: `${tls}/worker/key.pem`, serverName: 'temporal' }, apiKeyFile: tokenFile },
    });
    const access = resolveTemporalAccess(site, {});
    expect(access).toMatchObject({ namespace: 'sigrelease', apiKey: validToken, apiKeySource: { file: tokenFile } });
    expect(access.tls && access.tls.serverNameOverride).toBe('temporal');
    expect(access.tls && Buffer.from(access.tls.serverRootCACertificate!).toString()).toBe(fs.readFileSync(`${tls}/worker/ca.pem`, 'utf8'));
    expect(access.tls && Buffer.from(access.tls.clientCertPair!.key).toString()).toContain('PRIVATE KEY');
  });

  it('lets the variables the temporal CLI reads win over the site config', () => {
    const site = siteWith({ temporal: { address: 'site:7233', tls: { ca: '/nonexistent/ca.pem' } } });
    const access = resolveTemporalAccess(site, {
      TEMPORAL_ADDRESS: 'env:7233',
      TEMPORAL_NAMESPACE: 'sigrelease',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: `${tls}/worker/ca.pem`,
      TEMPORAL_TLS_CLIENT_CERT_PATH: `${tls}/worker/cert.pem`,
      TEMPORAL_TLS_CLIENT_KEY_PATH: `${tls}/worker/key.pem`,
      TEMPORAL_API_KEY: validToken,
    });
    expect(access).toMatchObject({ address: 'env:7233', namespace: 'sigrelease', apiKey: validToken, apiKeySource: { env: 'TEMPORAL_API_KEY' } });
    expect(access.tls && access.tls.clientCertPair).toBeTruthy();
  });

  it('keeps TLS off explicitly with a token on a plaintext frontend (the SDK would turn it on by itself)', () => {
    expect(resolveTemporalAccess(siteWith(), { TEMPORAL_API_KEY: validToken }).tls).toBe(false);
    expect(resolveTemporalAccess(siteWith(), { TEMPORAL_API_KEY: validToken, TEMPORAL_TLS: 'true' }).tls).toEqual({});
  });

  it('refuses a key others can read, half a certificate pair, a missing CA, and says which setting', () => {
    const openKey = path.join(dir, 'open.key');
    fs.copyFileSync(`${tls}/worker/key.pem`, openKey);
    fs.chmodSync(openKey, 0o644);
    const env = { TEMPORAL_TLS_CLIENT_CERT_PATH: `${tls}/worker/cert.pem`, TEMPORAL_TLS_CLIENT_KEY_PATH: openKey };
    expect(refusal(() => resolveTemporalAccess(siteWith(), env))).toBe(
      `the client key (TEMPORAL_TLS_CLIENT_KEY_PATH): ${openKey} can be read or written by group or others (mode 0644); run \`chmod 600 ${openKey}\``,
    );
    expect(refusal(() => resolveTemporalAccess(siteWith(), { TEMPORAL_TLS_CLIENT_CERT_PATH: `${tls}/worker/cert.pem` }))).toMatch(/needs both its certificate and its key/);
    expect(refusal(() => resolveTemporalAccess(siteWith({ temporal: { tls: { ca: '/nonexistent/ca.pem' } } }), {}))).toBe(
      'the Temporal CA certificate (temporal.tls.ca): cannot read /nonexistent/ca.pem: ENOENT',
    );
    expect(refusal(() => siteWith({ temporal: { tls: { ca: '/x/ca.pem', cert: '/x/c.pem' } } }))).toMatch(/tls: cert and key go together/);
    expect(refusal(() => resolveTemporalAccess(siteWith(), { TEMPORAL_TLS: 'yes' }))).toMatch(/TEMPORAL_TLS must be true or false \(got "yes"\)/);
  });

  it('refuses a token file others can read, an expired token, and a token without permissions, never showing the token', () => {
    const open = writeSecret('open.token', validToken, 0o640);
    expect(refusal(() => resolveTemporalAccess(siteWith({ temporal: { apiKeyFile: open } }), {}))).toMatch(/^temporal.apiKeyFile: .*open.token can be read or written by group or others \(mode 0640\)/);
    const expired = jwt({ sub: 'w', permissions: ['sigrelease:write'], exp: 1_700_000_000 });
    const msg = refusal(() => resolveTemporalAccess(siteWith(), { TEMPORAL_API_KEY: expired }));
    expect(msg).toBe('TEMPORAL_API_KEY: the token expired at 2023-11-14T22:13:20.000Z; issue a new one with `sigrelease token issue`');
    expect(msg).not.toContain(expired);
    expect(refusal(() => checkToken(jwt({ sub: 'w' }), 'T'))).toMatch(/no "permissions" claim/);
    expect(refusal(() => checkToken('Bearer abc', 'T'))).toMatch(/not a JWT/);
  });

  // Changing a file's owner needs root; the tests run as root here and in CI.
  it.runIf(process.getuid?.() === 0)('accepts a private file owned by root or by the reader, and nobody else', () => {
    const file = writeSecret('owned.token', validToken);
    expect(readPrivateFile(file, 'x', 4242)).toBe(validToken); // root's
    fs.chownSync(file, 4242, 0);
    expect(readPrivateFile(file, 'x', 4242)).toBe(validToken); // the reader's own
    expect(refusal(() => readPrivateFile(file, 'x', 0))).toBe(`x: ${file} belongs to uid 4242, neither root nor this process (uid 0); \`chown\` it to one of them`);
  });
});

describe('a long-running worker re-reading its token file', () => {
  it('switches to a reissued token, and keeps the one in use when the file is unchanged, expired or readable by others', async () => {
    const file = writeSecret('rotating.token', `${validToken}\n`);
    const applied: string[] = [];
    const refresh = tokenFileRefresher(file, validToken, (t) => void applied.push(t));
    expect(await refresh()).toEqual({ changed: false });

    const reissued = jwt({ sub: 'w', permissions: ['sigrelease:write'], exp: Math.floor(Date.now() / 1000) + 7200 });
    writeSecret('rotating.token', reissued);
    expect(await refresh()).toEqual({ changed: true });
    expect(applied).toEqual([reissued]);

    writeSecret('rotating.token', jwt({ sub: 'w', permissions: ['sigrelease:write'], exp: 1_700_000_000 }));
    expect(await refresh()).toEqual({ changed: false, problem: expect.stringMatching(/token expired at 2023-11-14T22:13:20.000Z.*; keeping the token in use$/) });
    writeSecret('rotating.token', validToken, 0o644);
    expect(await refresh()).toEqual({ changed: false, problem: expect.stringMatching(/mode 0644.*keeping the token in use$/) });
    expect(applied).toEqual([reissued]);
  });
});

describe('the webhook secret', () => {
  it('never comes from the site file, which every CLI user reads', () => {
    expect(refusal(() => siteWith({ notifications: { webhookUrl: 'https://chat.example.org/hooks/s3cr3t' } }))).toMatch(
      /notifications.webhookUrl: the webhook URL is a secret and must not be in the site file.*SIGRELEASE_WEBHOOK_URL.*webhookUrlFile/,
    );
  });

  it('comes from SIGRELEASE_WEBHOOK_URL first, then from a file only its owner can read', () => {
    const file = writeSecret('webhook-url', 'https://chat.example.org/hooks/from-file\n');
    const site = siteWith({ notifications: { webhookUrlFile: file } });
    expect(resolveWebhookUrl(site, {})).toBe('https://chat.example.org/hooks/from-file');
    expect(resolveWebhookUrl(site, { SIGRELEASE_WEBHOOK_URL: 'https://chat.example.org/hooks/from-env' })).toBe('https://chat.example.org/hooks/from-env');
    expect(resolveWebhookUrl(siteWith(), {})).toBeUndefined();
    fs.chmodSync(file, 0o644);
    expect(refusal(() => resolveWebhookUrl(site, {}))).toBe(`notifications.webhookUrlFile: ${file} can be read or written by group or others (mode 0644); run \`chmod 600 ${file}\``);
  });

  it('refuses plain http:// to another host, and anything but http(s), without showing the secret path', () => {
    for (const ok of ['https://chat.example.org/hooks/x', 'http://127.0.0.1:8065/hooks/x', 'http://localhost/hooks/x', 'http://[::1]:9/hooks/x']) expect(checkWebhookUrl(ok, 'W')).toBe(ok);
    const msg = refusal(() => checkWebhookUrl('http://chat.example.org/hooks/s3cr3t', 'SIGRELEASE_WEBHOOK_URL'));
    expect(msg).toBe("SIGRELEASE_WEBHOOK_URL: the webhook URL http://chat.example.org/… is plain http:// to another host, which would send the hook's secret in the clear; use https://");
    for (const bad of ['http://127.0.0.1.example.org/hooks/s3cr3t', 'ftp://chat.example.org/s3cr3t', 'not a url s3cr3t']) {
      expect(refusal(() => checkWebhookUrl(bad, 'W'))).not.toContain('s3cr3t');
    }
  });

  it('is resolved when the worker starts: a bad one stops it before it connects', () => {
    expect(refusal(() => workerAccess(siteWith(), { SIGRELEASE_WEBHOOK_URL: 'http://192.0.2.1/hooks/s3cr3t' }))).toMatch(/plain http:\/\/ to another host/);
    expect(workerAccess(siteWith(), { SIGRELEASE_WEBHOOK_URL: 'https://chat.example.org/hooks/x' })).toMatchObject({ webhookUrl: 'https://chat.example.org/hooks/x', tls: false });
  });
});

describe('the database password placeholder', () => {
  it('stops the schema job, and with it the stack, while TEMPORAL_DB_PASSWORD is the value of deploy/.env.example', async () => {
    const example = fs.readFileSync(new URL('../../deploy/.env.example', import.meta.url), 'utf8');
    const placeholder = /^TEMPORAL_DB_PASSWORD=(.*)$/m.exec(example)![1]!;
    const script = new URL('../../deploy/temporal/setup-schema.sh', import.meta.url).pathname;
    // No temporal-sql-tool on PATH: the job must stop before it would try to reach a database.
    const env = { PATH: '/usr/bin:/bin', POSTGRES_SEEDS: '192.0.2.1', POSTGRES_USER: 'temporal' };
    const refused = spawnSync('/bin/sh', [script], { encoding: 'utf8', env: { ...env, POSTGRES_PWD: placeholder } });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`setup-schema: TEMPORAL_DB_PASSWORD is still the placeholder "${placeholder}" from deploy/.env.example; set a real password in deploy/.env\n`);
    // Another password gets past the check to the first database call (which fails here for want of the tool;
    // the job would retry it for a minute, so its process group is ended once that is seen).
    const job = spawn('/bin/sh', [script], { env: { ...env, POSTGRES_PWD: 'a-real-password' }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      job.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/temporal-sql-tool: not found/.test(stderr)) resolve();
      });
      job.once('exit', () => reject(new Error(`setup-schema.sh ended before calling temporal-sql-tool: ${stderr}`)));
    }).finally(() => {
      try {
        process.kill(-job.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    expect(stderr).not.toMatch(/placeholder/);
  });
});
