// What every command shares: loading the site config and catalogue, checking names and numbers before anything
// connects, printing, and turning errors into one line and an exit code. Light on purpose (no Temporal SDK):
// every command imports it before it has decided that its input is good.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG_DIR, loadCatalogue, loadSite, type Catalogue } from '../config/load.js';
import { SAFE_NAME, type SiteConfig } from '../config/schema.js';
import { CliError, EXIT } from '../errors.js';
import { isStopReason, stopExitCode } from './signals.js';

export interface GlobalOptions {
  site?: string;
  catalogue?: string;
  json?: boolean;
  debug?: boolean;
}

/** `--site`, then `$SIGRELEASE_SITE`, then the checkout's `config/site.yaml`. */
export function siteFile(opts: GlobalOptions): string {
  return opts.site ?? process.env.SIGRELEASE_SITE ?? path.join(DEFAULT_CONFIG_DIR, 'site.yaml');
}

/** The site config and the catalogue; with `sigs`, only those SIGs' catalogue files are read (see loadCatalogue). */
export function loadConfig(opts: GlobalOptions, sigs?: readonly string[]): { site: SiteConfig; catalogue: Catalogue } {
  const site = loadSiteConfig(opts);
  return { site, catalogue: loadCatalogue(opts.catalogue ?? process.env.SIGRELEASE_CATALOGUE, sigs) };
}

/** The site config alone, for the commands that name a run but read nothing from the catalogue (status, approve). */
export function loadSiteConfig(opts: GlobalOptions): SiteConfig {
  const file = siteFile(opts);
  if (!fs.existsSync(file)) throw new CliError(`site config ${file} does not exist; pass --site FILE or set SIGRELEASE_SITE`, EXIT.badInput);
  const site = loadSite(file);
  temporalTarget(site); // an unusable address is bad input too, found before anything connects
  return site;
}

/**
 * The catalogue files a command about one SIG needs: that SIG's alone when the name is well formed; otherwise all
 * of them, so that the request check that follows says what is wrong with the name.
 */
export function onlySig(sig: unknown): string[] | undefined {
  return typeof sig === 'string' && SAFE_NAME.test(sig) ? [sig] : undefined;
}

/** Where the client connects: `TEMPORAL_ADDRESS` / `TEMPORAL_NAMESPACE` over the site config, checked. */
export function temporalTarget(site: SiteConfig): { address: string; namespace: string } {
  const fromEnv = process.env.TEMPORAL_ADDRESS;
  const address = fromEnv ?? site.temporal.address;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? site.temporal.namespace;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new CliError(`Temporal address ${JSON.stringify(address)} (${fromEnv !== undefined ? 'TEMPORAL_ADDRESS' : 'temporal.address'}) is not host:port, e.g. 127.0.0.1:7233`, EXIT.badInput);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(namespace)) {
    throw new CliError(`Temporal namespace ${JSON.stringify(namespace)} is not a namespace name (letters, digits and . _ -)`, EXIT.badInput);
  }
  return { address, namespace };
}

/** A SIG as an argument: odd text is bad input (exit 2), never looked up or put into a query. */
export function checkSigArg(sig: string): string {
  if (!SAFE_NAME.test(sig)) throw new CliError(`sig ${JSON.stringify(sig)} is not a SIG name (letters, digits and . _ + -)`, EXIT.badInput);
  return sig;
}

export function checkReleaseArg(release: string): string {
  if (!/^[0-9]+$/.test(release)) throw new CliError(`release ${JSON.stringify(release)} must be a major version such as "9"`, EXIT.badInput);
  return release;
}

/** A whole number flag within bounds, e.g. `--port 7233`. */
export function intFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || n < min || n > max) {
    throw new CliError(`${flag} ${JSON.stringify(value)}: use a whole number from ${min} to ${max}`, EXIT.badInput);
  }
  return n;
}

export function print(opts: GlobalOptions, data: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

/** `--debug` anywhere before `--`, or `SIGRELEASE_DEBUG=1`: unexpected errors come with their stack. */
export function debugEnabled(argv: string[] = process.argv): boolean {
  if (process.env.SIGRELEASE_DEBUG === '1') return true;
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--debug');
}

/** One line for a person: the message of an error we did not expect, the stack only in debug mode. */
export function describeUnexpected(e: unknown): string {
  if (debugEnabled()) return `sigrelease: ${(e as Error)?.stack ?? String(e)}`;
  const message = e instanceof Error ? e.message : String(e);
  return `sigrelease: ${message.split('\n')[0]} (run with --debug or SIGRELEASE_DEBUG=1 for details)`;
}

/** The exit code and message for an error out of a command body. */
export function exitFor(e: unknown): { code: number; message: string } {
  if (e instanceof CliError) {
    const cause = debugEnabled() && e.cause instanceof Error ? `\n${e.cause.stack}` : '';
    return { code: e.exitCode, message: `sigrelease: ${e.message}${cause}` };
  }
  if (e instanceof ConfigError) return { code: EXIT.badInput, message: `sigrelease: ${e.message}` };
  return { code: EXIT.failed, message: describeUnexpected(e) };
}

/** Runs a command body and turns known errors into a message and an exit code scripts can rely on. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = stopExitCode() ?? code ?? EXIT.ok;
    } catch (e) {
      if (isStopReason(e)) {
        process.exitCode = stopExitCode()!;
        return;
      }
      const { code, message } = exitFor(e);
      process.stderr.write(`${message}\n`);
      process.exitCode = code;
    }
  };
}

