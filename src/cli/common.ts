// What every command shares: loading the site config and catalogue, printing, and exit codes.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG_DIR, loadCatalogue, loadSite, type Catalogue } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { CliError, EXIT } from '../client.js';

export interface GlobalOptions {
  site?: string;
  catalogue?: string;
  json?: boolean;
}

/** `--site`, then `$SIGRELEASE_SITE`, then the checkout's `config/site.yaml`. */
export function siteFile(opts: GlobalOptions): string {
  return opts.site ?? process.env.SIGRELEASE_SITE ?? path.join(DEFAULT_CONFIG_DIR, 'site.yaml');
}

export function loadConfig(opts: GlobalOptions): { site: SiteConfig; catalogue: Catalogue } {
  const file = siteFile(opts);
  if (!fs.existsSync(file)) throw new CliError(`site config ${file} does not exist; pass --site FILE or set SIGRELEASE_SITE`, EXIT.badInput);
  return { site: loadSite(file), catalogue: loadCatalogue(opts.catalogue ?? process.env.SIGRELEASE_CATALOGUE) };
}

export function print(opts: GlobalOptions, data: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

/** Runs a command body and turns known errors into a message and an exit code scripts can rely on. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (e) {
      if (e instanceof CliError) {
        process.stderr.write(`sigrelease: ${e.message}\n`);
        process.exitCode = e.exitCode;
      } else if (e instanceof ConfigError) {
        process.stderr.write(`sigrelease: ${e.message}\n`);
        process.exitCode = EXIT.badInput;
      } else {
        process.stderr.write(`sigrelease: ${(e as Error).stack ?? String(e)}\n`);
        process.exitCode = EXIT.failed;
      }
    }
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
