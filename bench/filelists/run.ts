// File-list benchmark (reference/mirror-file-lists.md §4.3). Not a test: run by hand.
//   npx tsx bench/filelists/run.ts [--sizes 100000,1000000] [--with-5m] [--activity-walk] [--dir DIR] [--runs 3]
// Builds (or reuses) a synthetic EL mirror tree per size, then times on the same tree, warm cache, one
// after another in rounds: our generator as the CLI runs it (a child process running the file-list modules
// compiled to JavaScript, as the built CLI does: no TypeScript loader in the process or its threads, chdir
// walk), `find -printf` with one lstat per entry (the lower bound of a single-threaded walk), and plain
// `find .` (Rocky's fullfilelist). `--activity-walk` adds our walk with absolute-path lstat, as the Temporal
// activity runs it. Prints a table, then `rss_mb_1m=` and `rss_mb_5m=` (peak RSS of our whole process; the
// 5M-entry tree only with --with-5m: building it took 129–156 s on a quiet 2-core VM, about 8 min on a loaded one) and, as the last
// line, `timelist_vs_find_printf=<ratio>` of median wall times at 1M entries (else the largest size).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { execa } from 'execa';
import ts from 'typescript';
import { sameContent } from '../../src/filelists/publish.js';
import { buildMirrorTree } from './tree.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const TIME_BIN = '/usr/bin/time';
/** Where the JavaScript build of the file-list modules goes (git-ignored, inside the repo so `commander` resolves). */
const JS_BUILD = path.join(repoRoot, '.cache', 'bench-filelists');
const childJs = path.join(JS_BUILD, 'bench', 'filelists', 'child.js');

/**
 * Compiles the modules the CLI's file-list command runs to plain JavaScript (one file per module, same
 * layout, so the walker's worker threads find walk-worker.js beside parallel.js).
 */
function buildJs(): void {
  const files = [
    ...fs.readdirSync(path.join(repoRoot, 'src', 'filelists')).filter((f) => f.endsWith('.ts')).map((f) => `src/filelists/${f}`),
    'src/cli/filelist.ts',
    'bench/filelists/child.ts',
  ];
  fs.rmSync(JS_BUILD, { recursive: true, force: true });
  for (const file of files) {
    const source = fs.readFileSync(path.join(repoRoot, file), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: file }).outputText;
    const dest = path.join(JS_BUILD, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, js);
  }
  fs.writeFileSync(path.join(JS_BUILD, 'package.json'), '{ "type": "module" }\n');
}

interface Measurement {
  wallS: number;
  maxRssMb: number;
}

interface Tool {
  id: 'ours' | 'ours-abs' | 'find-printf' | 'find';
  name: string;
  file: string;
  args: (tree: string, out: string) => string[];
  /** Where stdout goes (null: the tool writes its own files). */
  stdoutFile: ((out: string) => string) | null;
  /** Working directory; default the tree (find lists `.`). */
  cwd?: string;
}

const OURS: Tool = {
  id: 'ours',
  name: 'sigrelease filelist (timelist + fullfilelist, -c)',
  file: process.execPath,
  args: (tree, out) => [childJs, tree, path.join(out, 'fullfiletimelist'), path.join(out, 'fullfilelist')],
  stdoutFile: (out) => path.join(out, 'child.json'),
  cwd: repoRoot,
};
const OURS_ABS: Tool = {
  id: 'ours-abs',
  name: 'same, absolute-path lstat (as the activity)',
  file: process.execPath,
  args: (tree, out) => [childJs, tree, path.join(out, 'fullfiletimelist-abs'), path.join(out, 'fullfilelist-abs'), '--no-chdir'],
  stdoutFile: (out) => path.join(out, 'child-abs.json'),
  cwd: repoRoot,
};
const FIND_PRINTF: Tool = {
  id: 'find-printf',
  name: "find . -printf '%C@\\t%T@\\t%y\\t%s\\t%P\\n'",
  file: 'find',
  args: () => ['.', '-printf', '%C@\t%T@\t%y\t%s\t%P\n'],
  stdoutFile: (out) => path.join(out, 'find-printf.txt'),
};
const FIND_DOT: Tool = {
  id: 'find',
  name: 'find .',
  file: 'find',
  args: () => ['.'],
  stdoutFile: (out) => path.join(out, 'find.txt'),
};

/** Runs a command to completion; stdout is a descriptor the child inherits (execa's types only take 3–9). */
function run(file: string, args: string[], cwd: string, stdout: number | 'ignore'): { pid: number | undefined; done: Promise<void> } {
  const child = spawn(file, args, { cwd, stdio: ['ignore', stdout, 'inherit'] });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} failed (exit ${code ?? signal}) in ${cwd}`)),
    );
  });
  return { pid: child.pid, done };
}

/** Runs one tool; wall time and peak RSS from GNU time, else from our clock and /proc polling. */
async function measure(tool: Tool, tree: string, out: string): Promise<Measurement> {
  // The child writes straight to the file through an inherited descriptor, not through a pipe to us.
  const stdout = tool.stdoutFile ? fs.openSync(tool.stdoutFile(out), 'w') : 'ignore';
  const args = tool.args(tree, out);
  const cwd = tool.cwd ?? tree;
  try {
    if (fs.existsSync(TIME_BIN)) {
      const report = path.join(out, 'time.txt');
      await run(TIME_BIN, ['-o', report, '-f', '%e %M', tool.file, ...args], cwd, stdout).done;
      const [wall, rssKb] = fs.readFileSync(report, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      return { wallS: wall!, maxRssMb: rssKb! / 1024 };
    }
    const started = process.hrtime.bigint();
    const child = run(tool.file, args, cwd, stdout);
    let hwmKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        // exited between ticks
      }
    }, 5);
    try {
      await child.done;
    } finally {
      clearInterval(poll);
    }
    return { wallS: Number(process.hrtime.bigint() - started) / 1e9, maxRssMb: hwmKb / 1024 };
  } finally {
    if (typeof stdout === 'number') fs.closeSync(stdout);
  }
}

/** Other load skews every figure here; Linux reports it as CPU pressure. */
function cpuPressure(): string {
  try {
    const some = fs.readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    return `CPU pressure at the end: ${some.replace(/^some /, '').split(' ').slice(0, 2).join(' ')}`;
  } catch {
    return 'CPU pressure unknown';
  }
}

/** The 1-minute load average against the CPU count: above 1 per CPU, every wall time here is stretched. */
function loadAverage(): string {
  return `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} CPUs`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function lineCount(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  try {
    for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      const chunk = buf.subarray(0, got);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

function ensureTree(base: string, size: number): string {
  const tree = path.join(base, `tree-${size}`);
  const marker = path.join(base, `tree-${size}.done`);
  if (fs.existsSync(marker)) return tree;
  fs.rmSync(tree, { recursive: true, force: true });
  const t0 = Date.now();
  process.stderr.write(`building ${size}-package tree in ${tree} ...\n`);
  buildMirrorTree(tree, size);
  fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
  process.stderr.write(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return tree;
}

/** Each package costs about one inode (hard links none); keep 10 % and 100k spare. */
function checkInodes(base: string, sizes: number[]): string | null {
  const needed = sizes.filter((s) => !fs.existsSync(path.join(base, `tree-${s}.done`))).reduce((a, s) => a + s * 1.1, 0);
  const free = Number(fs.statfsSync(base).ffree);
  if (needed + 100_000 <= free) return null;
  return (
    `Not enough free inodes in ${base}: the trees need about ${Math.ceil(needed)} and ${free} are free (df -i). ` +
    'Pick smaller --sizes or another --dir.'
  );
}

interface SizeResult {
  rows: string[];
  ratio: number;
  /** Peak RSS of our process over the rounds. */
  oursRssMb: number;
}

/** Times every tool on one tree size, rounds interleaved so background load hits them alike. */
async function benchSize(base: string, size: number, tools: Tool[], runs: number): Promise<SizeResult> {
  const tree = ensureTree(base, size);
  const out = path.join(base, `out-${size}`);
  fs.mkdirSync(out, { recursive: true });
  await execa('find', ['.'], { cwd: tree, stdout: 'ignore' }); // warm the inode and dentry caches
  const results = tools.map(() => [] as Measurement[]);
  for (let round = 0; round < runs; round++) {
    for (const [i, tool] of tools.entries()) results[i]!.push(await measure(tool, tree, out));
  }
  const entries = lineCount(path.join(out, 'find.txt')) - 1;
  const listed = lineCount(path.join(out, 'fullfilelist')) - 1;
  if (listed !== entries) process.stderr.write(`WARNING: fullfilelist has ${listed} entries, find . has ${entries}\n`);
  if (tools.includes(OURS_ABS)) {
    for (const name of ['fullfiletimelist', 'fullfilelist']) {
      if (!sameContent(path.join(out, name), path.join(out, `${name}-abs`))) {
        process.stderr.write(`WARNING: ${name} differs between the chdir and absolute-path walks\n`);
      }
    }
  }
  const child = JSON.parse(fs.readFileSync(path.join(out, 'child.json'), 'utf8')) as { walkMs: number };
  const walls = results.map((r) => median(r.map((m) => m.wallS)));
  const rss = results.map((r) => Math.max(...r.map((m) => m.maxRssMb)));
  const rows = tools.map((tool, i) =>
    [String(entries).padStart(9), tool.name.padEnd(52), walls[i]!.toFixed(2).padStart(7), rss[i]!.toFixed(1).padStart(10)].join('  '),
  );
  rows.push(`${String(entries).padStart(9)}  (our in-process time, last run: ${(child.walkMs / 1000).toFixed(2)} s)`);
  const at = (id: Tool['id']) => tools.findIndex((t) => t.id === id);
  return { rows, ratio: walls[at('ours')]! / walls[at('find-printf')]!, oursRssMb: rss[at('ours')]! };
}

const ONE_MILLION = 1_000_000;
const FIVE_MILLION = 5_000_000;

async function main(): Promise<void> {
  const opts = new Command()
    .option('--sizes <list>', 'package counts, comma-separated', '100000,1000000')
    .option('--with-5m', 'add the 5M-package tree (building it takes 2.5 min on a quiet 2-core VM, 8 on a loaded one, and 5.5M inodes, once)')
    .option('--activity-walk', 'also time the absolute-path walk the Temporal activity uses')
    .option('--dir <dir>', 'where trees and outputs go', '/tmp/sigrelease-filelists-bench')
    .option('--runs <n>', 'measured rounds per size (after one warming walk)', '3')
    .parse()
    .opts<{ sizes: string; with5m?: boolean; activityWalk?: boolean; dir: string; runs: string }>();
  const sizes = opts.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s < 100)) {
    throw new Error(`--sizes must be whole numbers of at least 100, comma-separated; got ${JSON.stringify(opts.sizes)}`);
  }
  if (opts.with5m && !sizes.includes(FIVE_MILLION)) sizes.push(FIVE_MILLION);
  const runs = Math.max(1, Number(opts.runs) || 3);
  const base = path.resolve(opts.dir);
  fs.mkdirSync(base, { recursive: true });
  const inodeProblem = checkInodes(base, sizes);
  if (inodeProblem) {
    process.stderr.write(`${inodeProblem}\n`);
    process.exitCode = 1;
    return;
  }
  buildJs();
  const tools = [OURS, ...(opts.activityWalk ? [OURS_ABS] : []), FIND_PRINTF, FIND_DOT];

  const rows: string[] = [];
  const bySize = new Map<number, SizeResult>();
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const result = await benchSize(base, size, tools, runs);
    rows.push(...result.rows);
    bySize.set(size, result);
  }
  const ratioSize = bySize.has(ONE_MILLION) ? ONE_MILLION : Math.max(...bySize.keys());
  const rssAt = (size: number) => bySize.get(size)?.oursRssMb.toFixed(1) ?? 'not-measured';
  const header = ['  entries', 'tool'.padEnd(52), ' wall s', 'max RSS MB'].join('  ');
  const machine = `# node ${process.version}, ${os.availableParallelism()} CPUs, median of ${runs} warm runs; ${cpuPressure()}; ${loadAverage()}`;
  process.stdout.write(
    `${machine}\n${header}\n${rows.join('\n')}\n` +
      `rss_mb_1m=${rssAt(ONE_MILLION)}\nrss_mb_5m=${rssAt(FIVE_MILLION)}\n` +
      `timelist_vs_find_printf=${bySize.get(ratioSize)!.ratio.toFixed(2)}\n`,
  );
}

await main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
