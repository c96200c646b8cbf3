// Bad input for every sigrelease command, as an operator types it: each must be refused with exit code 2 and one
// line naming the value, before anything connects, so the answer is the same whether a server is up or not.
// Used by bad-input.int.test.ts, which runs them with nothing listening and with the dev server up.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { localSiteRaw } from '../../src/config/local.js';

export const BIN = process.env.SIGRELEASE_BIN ?? fileURLToPath(new URL('../../bin/sigrelease', import.meta.url));

export interface BadInputCase {
  name: string;
  args: string[];
  /** Extra environment, given the case folder (for files a case writes). */
  env?: (dir: string) => Record<string, string>;
  /** Each must appear in stderr. */
  says: string[];
}

const START = ['start', '--no-wait', '--release', '9', '--sig', 'core'];

function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

export const CASES: BadInputCase[] = [
  { name: 'start: unknown SIG', args: ['start', '--release', '9', '--sig', 'cor'], says: ['unknown SIG "cor"'] },
  { name: 'start: release that is a word', args: ['start', '--release', 'nine', '--sig', 'core'], says: ['release', 'nine'] },
  { name: 'start: --full-run with --dry-run', args: [...START, '--full-run', '--dry-run'], says: ['--full-run', '--dry-run'] },
  { name: 'start: an arch core 9 does not build', args: [...START, '--arch', 'i686'], says: ['i686'] },
  { name: 'start: a missing --sig', args: ['start', '--release', '9'], says: ['--sig'] },
  { name: 'start: an unknown flag', args: [...START, '--fast'], says: ['--fast'] },
  { name: 'start: site YAML that is not YAML', args: START, env: (d) => ({ SIGRELEASE_SITE: write(d, 'broken.yaml', 'composeRoot: [unclosed\n') }), says: ['broken.yaml', 'not valid YAML'] },
  { name: 'start: site file that does not exist', args: START, env: (d) => ({ SIGRELEASE_SITE: path.join(d, 'nope.yaml') }), says: ['nope.yaml', 'does not exist'] },
  { name: 'start: a catalogue folder that does not exist', args: ['--catalogue', '/nonexistent/sigs', ...START], says: ['/nonexistent/sigs'] },
  { name: 'start: TEMPORAL_ADDRESS that is not host:port', args: START, env: () => ({ TEMPORAL_ADDRESS: 'localhost' }), says: ['"localhost"', 'TEMPORAL_ADDRESS'] },
  { name: 'approve: SIG with path traversal', args: ['approve', '9', '../etc', '--by', 'tester'], says: ['../etc'] },
  { name: 'approve: release that is a word', args: ['approve', 'nine', 'core', '--by', 'tester'], says: ['nine'] },
  { name: 'approve: nobody named by --by', args: ['approve', '9', 'core', '--by', ''], says: ['--by'] },
  { name: 'reject: SIG with a space', args: ['reject', '9', 'co re', '--by', 'tester'], says: ['co re'] },
  { name: 'status: release with a slash', args: ['status', '9/../8', 'core'], says: ['9/../8'] },
  { name: 'status: site YAML with a relative root', args: ['status', '9', 'core'], env: (d) => ({ SIGRELEASE_SITE: write(d, 'relative.yaml', 'composeRoot: mnt/compose\n') }), says: ['relative.yaml', 'composeRoot'] },
  { name: 'list: unknown stage', args: ['list', '--stage', 'shipping'], says: ['"shipping"'] },
  { name: 'list: --limit 0', args: ['list', '--limit', '0'], says: ['--limit', '"0"'] },
  { name: 'cancel: SIG with backticks', args: ['cancel', '9', '`id`'], says: ['`id`'] },
  { name: 'schedule create: --at 25:00', args: ['schedule', 'create', '--release', '9', '--sig', 'core', '--at', '25:00'], says: ['--at', '25:00'] },
  { name: 'schedule create: unknown SIG', args: ['schedule', 'create', '--release', '9', '--sig', 'cor'], says: ['unknown SIG "cor"'] },
  { name: 'schedule list: SIG with path traversal', args: ['schedule', 'list', '--sig', '../etc'], says: ['../etc'] },
  { name: 'schedule describe: release that is a word', args: ['schedule', 'describe', 'nine', 'core'], says: ['nine'] },
  { name: 'schedule pause: SIG with a semicolon', args: ['schedule', 'pause', '9', 'core;reboot'], says: ['core;reboot'] },
  { name: 'schedule unpause: release that is a word', args: ['schedule', 'unpause', 'ten', 'core'], says: ['ten'] },
  { name: 'schedule trigger: SIG with $()', args: ['schedule', 'trigger', '9', '$(id)'], says: ['$(id)'] },
  { name: 'schedule delete: SIG with path traversal', args: ['schedule', 'delete', '9', '../core'], says: ['../core'] },
  { name: 'worker: unknown queue', args: ['worker', '--queues', 'control,gpu'], says: ['unknown queue "gpu"'] },
  { name: 'worker: --max-host-activities that is a word', args: ['worker', '--max-host-activities', 'many'], says: ['--max-host-activities', '"many"'] },
  { name: 'worker: site YAML that is not YAML', args: ['worker'], env: (d) => ({ SIGRELEASE_SITE: write(d, 'broken-w.yaml', 'temporal: {\n') }), says: ['broken-w.yaml', 'not valid YAML'] },
  { name: 'server: --port out of range', args: ['server', '--port', '70000'], says: ['--port', '"70000"'] },
  { name: 'server: --ui-port that is a word', args: ['server', '--ui-port', 'web'], says: ['--ui-port', '"web"'] },
  { name: 'server: --db that is a folder', args: ['server', '--db', '/tmp'], says: ['--db', '/tmp', 'not a file'] },
  { name: 'server: --db under a file', args: ['server', '--db', '/etc/hostname/temporal.db'], says: ['--db', '/etc/hostname'] },
  { name: 'demo: --dir under a file', args: ['demo', '--dir', '/etc/hostname/demo'], says: ['--dir', '/etc/hostname/demo'] },
  { name: 'demo: an unknown flag', args: ['demo', '--fast'], says: ['--fast'] },
  { name: 'filelist: --threads 0', args: ['filelist', '--threads', '0'], says: ['--threads', '"0"'] },
  { name: 'start: --from a stage the pipeline lacks', args: [...START, '--from', 'production'], says: ['from must be one of', 'production'] },
  { name: 'start: --from staging with --full-run', args: [...START, '--from', 'staging', '--full-run'], says: ['fullRun', 'staging'] },
  { name: 'composes: SIG with path traversal', args: ['composes', '9', '../core'], says: ['../core'] },
  { name: 'rollback: --to a path', args: ['rollback', '9', 'core', '--to', '../../etc'], says: ['--to', '../../etc'] },
  { name: 'rollback: --to with a slash', args: ['rollback', '9', 'core', '--to', 'SIG-core-9.7-20261130.101500/compose'], says: ['SIG-core-9.7-20261130.101500/compose'] },
  { name: 'rollback: a missing --to', args: ['rollback', '9', 'core'], says: ['--to'] },
  { name: 'vault: --revision that is not x.y', args: ['vault', '9', '--revision', '9'], says: ['--revision', '"9"'] },
  { name: 'vault: --revision of another release', args: ['vault', '9', '--revision', '8.10'], says: ['--revision', '8.10'] },
  { name: 'vault: release that is a word', args: ['vault', 'nine', '--revision', '9.5'], says: ['nine'] },
  { name: 'lists publish: --level that is no level', args: ['lists', 'publish', '9', 'core', '--level', 'all'], says: ['--level', '"all"'] },
];

export interface Outcome {
  exitCode: number;
  stderr: string;
  stdout: string;
}

export function runCli(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(BIN, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}

/** A port nothing listens on: bound, noted, released. */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A folder with a valid site config whose roots are inside it, and its environment for the CLI. */
export function caseFolder(address: string, namespace = 'default'): { dir: string; env: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bad-input-'));
  const site = localSiteRaw(dir, { repoBaseUrl: 'http://127.0.0.1:9/v1/projects', overrides: { temporal: { address, namespace, taskQueue: 'bad-input-nothing-runs' } } });
  const siteFile = write(dir, 'site.yaml', YAML.stringify(site));
  return { dir, env: { SIGRELEASE_SITE: siteFile, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, SIGRELEASE_DEBUG: '' } };
}

/** Runs every case, two at a time (each is a Node start on a shared 2-core machine). */
export async function runCases(address: string, namespace?: string): Promise<Map<string, Outcome>> {
  const { dir, env } = caseFolder(address, namespace);
  const out = new Map<string, Outcome>();
  try {
    for (let i = 0; i < CASES.length; i += 2) {
      const batch = CASES.slice(i, i + 2);
      const results = await Promise.all(batch.map((c) => runCli(c.args, { ...env, ...(c.env?.(dir) ?? {}) })));
      batch.forEach((c, j) => out.set(c.name, results[j]!));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
