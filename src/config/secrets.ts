// Secrets the worker and the CLI read from files: a TLS private key, a Temporal token, the webhook URL. Each is
// refused unless only its owner can read it, and the owner is root or the user reading it: a file someone else
// owns could be opened up again behind our back. The webhook URL never comes from the site file (schema.ts).
import fs from 'node:fs';
import { ConfigError } from './load.js';
import type { SiteConfig } from './schema.js';

/** Reads a secret file after checking who can read it; `what` names the setting in every message. */
export function readPrivateFile(file: string, what: string, uid = process.getuid?.() ?? 0): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new ConfigError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new ConfigError(`${what}: ${file} is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`${what}: ${file} can be read or written by group or others (mode ${mode.toString(8).padStart(4, '0')}); run \`chmod 600 ${file}\``);
  }
  if (st.uid !== 0 && st.uid !== uid) {
    throw new ConfigError(`${what}: ${file} belongs to uid ${st.uid}, neither root nor this process (uid ${uid}); \`chown\` it to one of them`);
  }
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A webhook URL is sent its secret in the clear unless it is https:// or stays on this host. Messages show the
 * scheme and host only: the path and query carry the hook's secret.
 */
export function checkWebhookUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new ConfigError(`${where}: the webhook URL is not a valid URL`);
  }
  const shown = `${parsed.protocol}//${parsed.host}/…`;
  if (parsed.protocol === 'https:') return parsed.href;
  if (parsed.protocol === 'http:') {
    if (LOOPBACK_HOSTS.test(parsed.hostname)) return parsed.href;
    throw new ConfigError(`${where}: the webhook URL ${shown} is plain http:// to another host, which would send the hook's secret in the clear; use https://`);
  }
  throw new ConfigError(`${where}: the webhook URL ${shown} must be https:// (or http:// to a loopback address)`);
}

/** The worker's webhook: SIGRELEASE_WEBHOOK_URL, else the private file the site config names, else none. */
export function resolveWebhookUrl(site: SiteConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.SIGRELEASE_WEBHOOK_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return checkWebhookUrl(fromEnv, 'SIGRELEASE_WEBHOOK_URL');
  const file = site.notifications.webhookUrlFile;
  if (file === undefined) return undefined;
  const text = readPrivateFile(file, 'notifications.webhookUrlFile').trim();
  if (text === '') throw new ConfigError(`notifications.webhookUrlFile: ${file} is empty`);
  return checkWebhookUrl(text, `notifications.webhookUrlFile (${file})`);
}
