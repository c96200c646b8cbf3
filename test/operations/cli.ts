// Runs the real `bin/sigrelease` as a subprocess against the shared dev server, with a site YAML of its own
// whose task queue is the test worker's and whose namespace is the test file's, as an operator's shell would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
import type { SiteConfig } from '../../src/config/schema.js';
import { serverAddress } from '../helpers/temporal.js';

/** `SIGRELEASE_BIN` runs the tests against another build of the CLI. */
export const BIN = process.env.SIGRELEASE_BIN ?? fileURLToPath(new URL('../../bin/sigrelease', import.meta.url));

export interface Cli {
  siteFile: string;
  run(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Runs with --json and parses stdout (which must then be JSON). */
  json<T = unknown>(args: string[]): Promise<{ exitCode: number; data: T; stderr: string }>;
}

export function cliFor(site: SiteConfig, taskQueue: string): Cli {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-cli-'));
  const siteFile = path.join(dir, 'site.yaml');
  const { address, namespace } = serverAddress();
  fs.writeFileSync(siteFile, YAML.stringify({ ...site, temporal: { ...site.temporal, address, namespace, taskQueue } }));
  // Server and namespace come from the site file alone (test/setup/clean-env.ts removed any TEMPORAL_* variable),
  // so these tests also show that the CLI honours `temporal.namespace`.
  const env = { ...process.env, SIGRELEASE_SITE: siteFile };
  const run = async (args: string[]) => {
    const r = await execa(BIN, args, { env, reject: false, timeout: 90_000 });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  return {
    siteFile,
    run,
    async json<T>(args: string[]) {
      const r = await run(['--json', ...args]);
      let data: T;
      try {
        data = (r.stdout.trim() ? JSON.parse(r.stdout) : null) as T;
      } catch {
        throw new Error(`sigrelease ${args.join(' ')} (exit ${r.exitCode}) did not print JSON:\n${r.stdout}\n${r.stderr}`);
      }
      return { exitCode: r.exitCode, data, stderr: r.stderr };
    },
  };
}
