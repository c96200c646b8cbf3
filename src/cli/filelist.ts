// `sigrelease filelist`: a drop-in for Fedora's `create-filelist` that operators can call from cron
// (options as in reference/mirror-file-lists.md §1.7). Differences: `--filelist` writes Rocky's `find .`-style
// list, names with TAB/newline/invalid UTF-8 fail the run, and output files are replaced atomically.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_CHECKSUM_ALGORITHMS, SHA1_ONLY } from '../filelists/format.js';
import { FdSink } from '../filelists/sink.js';
import { generateFileLists } from '../filelists/walk.js';

export interface FilelistCommandOptions {
  /** Directory to scan; default `.`. */
  dir: string;
  /** Where the timelist goes; absent or `-` means stdout. */
  timelist?: string;
  /** Also write the plain `find .`-style list here. */
  filelist?: string;
  /** Checksum every `repomd.xml`. */
  checksum?: boolean;
  /** More basenames to checksum. */
  checksumFile?: string[];
  /** Skip the basenames of the output files at top level. */
  skip?: boolean;
  /** More names to skip at top level. */
  skipFile?: string[];
  /** Write only the `[Checksums SHA1]` section (upstream quick-fedora-mirror). */
  sha1Only?: boolean;
  /** Threads walking a large tree (default min(2, CPUs)); 1 keeps the walk on one core. */
  threads?: number;
}

export interface FilelistCommandIo {
  /** File descriptor for a timelist without `--timelist`; default 1. */
  stdoutFd?: number;
  /** Warnings; default stderr. */
  warn?: (message: string) => void;
  /** Walk by chdir + bare-name lstat (faster; see GenerateFileListsOptions.chdir). Default true: the CLI owns its process. */
  chdir?: boolean;
}

/** An output file written under a temp name next to it and renamed at the end, so readers never see half a list. */
interface PendingOutput {
  fd: number;
  tmp: string;
  final: string;
}

function openPending(file: string): PendingOutput {
  const final = path.resolve(file);
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}`);
  return { fd: fs.openSync(tmp, 'w', 0o644), tmp, final };
}

/** Runs one generation; resolves with the number of `[Files]` rows. Throws on bad names or unreadable trees. */
export async function runFilelistCommand(opts: FilelistCommandOptions, io: FilelistCommandIo = {}): Promise<{ entries: number }> {
  const toStdout = opts.timelist === undefined || opts.timelist === '-';
  if (!toStdout && opts.filelist !== undefined && path.resolve(opts.timelist!) === path.resolve(opts.filelist)) {
    throw new Error(`--timelist and --filelist both name ${path.resolve(opts.filelist)}; give them different files.`);
  }
  const outputs: PendingOutput[] = [];
  try {
    const timelistOut = toStdout ? null : openPending(opts.timelist!);
    if (timelistOut) outputs.push(timelistOut);
    const filelistOut = opts.filelist === undefined ? null : openPending(opts.filelist);
    if (filelistOut) outputs.push(filelistOut);

    const skip = new Set(opts.skipFile ?? []);
    if (opts.skip) {
      for (const out of outputs) {
        skip.add(path.basename(out.final));
        skip.add(path.basename(out.tmp));
      }
    }
    const checksumNames = [...(opts.checksum ? ['repomd.xml'] : []), ...(opts.checksumFile ?? [])];

    const result = await generateFileLists({
      root: opts.dir,
      timelist: new FdSink(timelistOut?.fd ?? io.stdoutFd ?? 1),
      filelist: filelistOut ? new FdSink(filelistOut.fd) : null,
      skipTopLevel: (name) => skip.has(name),
      checksumNames,
      checksumAlgorithms: opts.sha1Only ? SHA1_ONLY : DEFAULT_CHECKSUM_ALGORITHMS,
      onWarning: io.warn,
      chdir: io.chdir ?? true,
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    });
    for (const out of outputs) {
      fs.closeSync(out.fd);
      out.fd = -1;
      fs.renameSync(out.tmp, out.final);
    }
    return { entries: result.entries };
  } finally {
    for (const out of outputs) {
      if (out.fd >= 0) fs.closeSync(out.fd);
      fs.rmSync(out.tmp, { force: true });
    }
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

function threadCount(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError(`--threads must be a whole number from 1 to 64, got ${JSON.stringify(value)}`);
  return n;
}

export function registerFilelistCommand(program: Command): void {
  program
    .command('filelist')
    .description(
      'Write a quick-fedora-mirror fullfiletimelist (version 2) for a tree, and optionally its find-style fullfilelist, ' +
        'in one walk (a drop-in for create-filelist).',
    )
    .option('-d, --dir <DIR>', 'directory to scan', '.')
    .option('-t, --timelist <FILE>', 'write the timelist here instead of stdout')
    .option('-f, --filelist <FILE>', "also write the plain list, as `find .` run inside DIR prints it")
    .option('-c, --checksum', 'checksum every repomd.xml')
    .option('-C, --checksum-file <NAME>', 'also checksum files with this basename (repeatable)', collect, [])
    .option('-s, --skip', 'skip the output files (basenames of --timelist/--filelist) at the top level')
    .option('-S, --skip-file <NAME>', 'skip this name at the top level (repeatable)', collect, [])
    .option('--sha1-only', 'write only the SHA1 checksum section instead of SHA1, MD5, SHA256 and SHA512')
    .option('--threads <N>', 'threads walking a large tree (default 2 on a multi-core host; 1 keeps it on one core)', threadCount)
    .action(async (opts: FilelistCommandOptions) => {
      try {
        await runFilelistCommand(opts);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        // Messages are written for operators (what was wrong, what to do); a stack trace adds nothing for cron mail.
        process.stderr.write(`filelist: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
