// The external programs the worker runs, found on PATH as the worker finds them, with their versions.
// The verdicts (which version is enough, what a missing tool means) are pure and unit-tested.
import fs from 'node:fs';
import path from 'node:path';
import { check, type Check } from './report.js';
import { runTool } from '../tools/run.js';

export interface ToolSpec {
  /** As shown, e.g. `dnf reposync`. */
  name: string;
  /** The program looked up on PATH. */
  program: string;
  /** Arguments whose output names the version (or proves the feature). */
  args: string[];
  /** Finds the version in the output; absent when presence of `expect` is the check. */
  version?: RegExp;
  /** Output that must appear (a subcommand's usage line). */
  expect?: RegExp;
  minimum?: string;
  /** Where to get it on Debian 12. */
  install: string;
  /** What needs it: said when it is missing. */
  usedFor: string;
  /** A missing optional tool is a warning: releases run without it. */
  optional?: boolean;
  /** Version from another program in the same folder (ssh-keygen has no --version; ssh -V tells the OpenSSH release). */
  versionFrom?: { program: string; args: string[] };
}

export const TOOLS: ToolSpec[] = [
  { name: 'dnf', program: 'dnf', args: ['--version'], version: /^(\d+\.\d+(?:\.\d+)?)/m, minimum: '4.0', install: 'apt-get install dnf', usedFor: 'composes (dnf reposync, dnf repoclosure)' },
  {
    name: 'dnf reposync',
    program: 'dnf',
    args: ['reposync', '--help'],
    expect: /usage: dnf reposync/,
    install: 'apt-get install dnf-plugins-core',
    usedFor: 'composes: every repo is synced by dnf reposync',
  },
  { name: 'rsync', program: 'rsync', args: ['--version'], version: /rsync\s+version\s+v?(\d+\.\d+(?:\.\d+)?)/, minimum: '3.1.0', install: 'apt-get install rsync', usedFor: 'staging and production syncs' },
  {
    name: 'hardlink',
    program: 'hardlink',
    args: ['--version'],
    version: /util-linux\s+(\d+\.\d+(?:\.\d+)?)/,
    minimum: '2.36',
    install: 'apt-get install util-linux',
    usedFor: 'the hardlink pass over each production release',
  },
  {
    name: 'ssh-keygen',
    program: 'ssh-keygen',
    args: ['-Y', 'sign'],
    // With -Y support it complains about the missing namespace; an old one prints its usage instead.
    expect: /namespace/,
    versionFrom: { program: 'ssh', args: ['-V'] },
    version: /OpenSSH_(\d+\.\d+)/,
    minimum: '8.2',
    install: 'apt-get install openssh-client',
    usedFor: 'signed approvals (ssh-keygen -Y verify)',
  },
  {
    name: 'createrepo_c',
    program: 'createrepo_c',
    args: ['--version'],
    version: /Version:\s*(\d+\.\d+(?:\.\d+)?)/,
    minimum: '0.15',
    install: 'apt-get install createrepo-c',
    usedFor: '`sigrelease demo` and the tests (fixture repositories); releases do not run it',
    optional: true,
  },
];

/** The first executable `program` in the PATH folders, as spawn would find it; null when none. */
export function findOnPath(program: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      if (fs.statSync(candidate).isFile()) {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      }
    } catch {
      /* not here */
    }
  }
  return null;
}

/** -1, 0, 1 as `a` is older than, the same as, or newer than `b` (dotted numbers; missing parts are 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface ToolRun {
  /** Where the program was found, or null. */
  at: string | null;
  /** stdout + stderr of the probe (and of the version program, if any). */
  output: string;
  /** Why it could not run (spawn error, timeout), if so. */
  error?: string;
}

/** The verdict on one tool from what running it printed. Pure. */
export function toolVerdict(spec: ToolSpec, run: ToolRun, pathVar: string | undefined): Check {
  const missingStatus = spec.optional ? 'warn' : 'fail';
  if (!run.at) {
    return check('tools', spec.name, missingStatus, `${spec.program} is not on PATH (${pathVar || 'PATH is empty'}); it is needed for ${spec.usedFor}. Install it: ${spec.install}`);
  }
  if (run.error) return check('tools', spec.name, missingStatus, `${run.at} did not run: ${run.error}`);
  if (spec.expect && !spec.expect.test(run.output)) {
    return check('tools', spec.name, missingStatus, `${run.at} ${spec.args.join(' ')} does not answer as expected (${firstLine(run.output)}); it is needed for ${spec.usedFor}. Install it: ${spec.install}`);
  }
  if (!spec.version) return check('tools', spec.name, 'ok', `works (${run.at})`);
  const version = spec.version.exec(run.output)?.[1];
  if (!version) return check('tools', spec.name, 'warn', `${run.at} works, but its version could not be read (${firstLine(run.output)})`);
  if (spec.minimum && compareVersions(version, spec.minimum) < 0) {
    return check('tools', spec.name, missingStatus, `${run.at} is version ${version}; ${spec.minimum} or later is needed for ${spec.usedFor}. Upgrade: ${spec.install}`);
  }
  return check('tools', spec.name, 'ok', `${version} (${run.at})`);
}

const firstLine = (s: string) => s.trim().split('\n')[0]?.slice(0, 120) || 'no output';

/** Runs every tool's probe at once with this PATH (dnf alone takes seconds to start); a probe never hangs the doctor. */
export async function checkTools(env: NodeJS.ProcessEnv = process.env, specs: readonly ToolSpec[] = TOOLS): Promise<Check[]> {
  const runs = await Promise.all(specs.map((spec) => runProbe(spec, env)));
  return specs.map((spec, i) => toolVerdict(spec, runs[i]!, env.PATH));
}

async function runProbe(spec: ToolSpec, env: NodeJS.ProcessEnv): Promise<ToolRun> {
  const at = findOnPath(spec.program, env.PATH);
  if (!at) return { at: null, output: '' };
  const probe = await runForOutput(at, spec.args, env);
  if (probe.error || !spec.versionFrom) return { at, ...probe };
  const sibling = path.join(path.dirname(at), spec.versionFrom.program);
  const version = fs.existsSync(sibling) ? await runForOutput(sibling, spec.versionFrom.args, env) : { output: '' };
  return { at, output: `${probe.output}\n${version.output}` };
}

/** stdout and stderr together (versions go to either), whatever the exit code; an error only when it did not run. */
async function runForOutput(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ output: string; error?: string }> {
  // The probed PATH and the rest of the environment as given (tests hand a PATH of their own).
  const given = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const r = await runTool(file, args, { env: given, timeoutMs: 30_000 });
  const error = r.timedOut ? 'no answer within 30 s' : r.spawnError?.message;
  return { output: `${r.stdout}${r.stderr}`, ...(error ? { error } : {}) };
}
