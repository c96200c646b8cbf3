// `sigrelease`: the command line. This file only knows each command's name and one-line summary; a command's
// module is loaded when that command runs, and loads the Temporal SDK only after its input was found good.
// So `--help` and a refused bad input answer at once, and the same way whether a server is up or not.
//
// Adding a command: a module exporting `register(program, globals)`, and one line in COMMANDS below.
import { Command } from 'commander';
import { EXIT } from '../errors.js';
import type { GlobalOptions } from './common.js';
import { stopExitCode } from './signals.js';

type Register = (program: Command, globals: () => GlobalOptions) => void;
interface CommandEntry {
  /** Name and arguments as `--help` lists them, e.g. `approve <release> <sig>`. */
  usage: string;
  summary: string;
  load: () => Promise<{ register: Register }>;
}

const COMMANDS: CommandEntry[] = [
  { usage: 'start', summary: 'start the release pipeline of one SIG and release', load: () => import('./release.js') },
  { usage: 'approve <release> <sig>', summary: 'approve the release waiting at the gate', load: () => import('./release.js') },
  { usage: 'reject <release> <sig>', summary: 'reject the release waiting at the gate', load: () => import('./release.js') },
  { usage: 'status <release> <sig>', summary: 'stage, compose progress, the production preview and the decision', load: () => import('./release.js') },
  { usage: 'list', summary: 'list releases by stage, SIG and release (default: the running ones)', load: () => import('./runs-command.js').then((m) => ({ register: m.registerRunsCommands })) },
  { usage: 'cancel <release> <sig>', summary: 'cancel the running release of a SIG', load: () => import('./runs-command.js').then((m) => ({ register: m.registerRunsCommands })) },
  { usage: 'schedule', summary: 'nightly composes on Temporal Schedules: one schedule per SIG and release', load: () => import('./schedule.js').then((m) => ({ register: m.registerScheduleCommands })) },
  { usage: 'prune [release] [sig]', summary: 'remove compose folders beyond compose.keep (never those in use); --dry-run says what and how many bytes', load: () => import('./prune.js') },
  { usage: 'worker', summary: 'run the worker(s) that execute releases', load: () => import('./worker.js') },
  { usage: 'server', summary: 'run the embedded Temporal dev server (SQLite file, Web UI)', load: () => import('./server.js') },
  { usage: 'demo', summary: 'run a full SIG release (core 9) against the embedded dev server and local fixture repos', load: () => import('./demo.js') },
  { usage: 'init-roots', summary: "create the site's roots if needed and write each one's marker (once)", load: () => import('./initRoots.js').then((m) => ({ register: m.registerInitRootsCommand })) },
  { usage: 'doctor', summary: 'check this host: tools, site and catalogue, roots and markers, Temporal, search attributes, workers', load: () => import('./doctor.js').then((m) => ({ register: m.registerDoctorCommand })) },
  { usage: 'token', summary: 'signing keys and tokens for Temporal authorization (JWT)', load: () => import('./token.js').then((m) => ({ register: (p: Command) => m.registerTokenCommand(p) })) },
  { usage: 'composes <release> <sig>', summary: 'list the composes on disk and which one latest, staging and production came from', load: () => import('./lifecycle.js') },
  { usage: 'rollback <release> <sig>', summary: 'take an earlier compose (--to) through staging, approval and production again', load: () => import('./lifecycle.js') },
  { usage: 'vault <release>', summary: 'copy production sig/<release>/ into vault/sig/<x.y>/ after approval, then publish the root lists', load: () => import('./lifecycle.js') },
  { usage: 'lists', summary: 'republish the production file lists alone (`lists publish <release> <sig> [--level sig|root]`)', load: () => import('./lifecycle.js') },
  { usage: 'lock', summary: 'the production lock: status, and force-release for operators', load: () => import('./lock.js').then((m) => ({ register: m.registerLockCommands })) },
  { usage: 'filelist', summary: 'write a fullfiletimelist (and fullfilelist) for a tree, like create-filelist', load: () => import('./filelist.js').then((m) => ({ register: (p: Command) => m.registerFilelistCommand(p) })) },
];

/** Global options that take a value: the word after them is not the command name. */
const VALUE_OPTIONS = new Set(['--site', '--catalogue']);

/** The command the arguments name (`help <command>` too), or null for none. */
function chosenCommand(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return null;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a === 'help' ? (args[i + 1] ?? null) : a;
  }
  return null;
}

function buildProgram(): Command {
  return new Command('sigrelease')
    .description('Compose, stage, approve, promote and publish Rocky Linux SIG repositories, durably, on Temporal')
    .option('--site <file>', 'site config (default: $SIGRELEASE_SITE, then config/site.yaml)')
    .option('--catalogue <dir>', 'SIG catalogue folder (default: config/sigs)')
    .option('--json', 'machine-readable output')
    .option('--debug', 'show the stack of unexpected errors (also SIGRELEASE_DEBUG=1)')
    .showHelpAfterError()
    // Usage errors (missing option, unknown flag) are bad input for scripts: exit 2, like our own refusals.
    // Subcommands inherit this.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput))
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 failed, 2 bad input or refused, 3 not found, 4 already running, 5 finished without promotion (rejected, expired).` +
        `\nStop signals (SIGINT, SIGTERM, SIGHUP) end demo, server and worker cleanly; exit code 128 + the signal's number.`,
    );
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const globals = () => program.opts<GlobalOptions>();
  const name = chosenCommand(argv.slice(2));
  const entry = COMMANDS.find((c) => c.usage.split(' ')[0] === name);
  if (entry) {
    (await entry.load()).register(program, globals);
  } else {
    // No command or an unknown one: the summaries are enough for the help and for commander's suggestions.
    for (const c of COMMANDS) program.command(c.usage).description(c.summary);
  }
  await program.parseAsync(argv);
}

// Anything that escapes a command body is still one line for a person (the stack with --debug).
const fail = async (e: unknown) => {
  const { exitFor } = await import('./common.js');
  const { code, message } = exitFor(e);
  process.stderr.write(`${message}\n`);
  process.exit(code);
};
// After a stop signal, work the command abandoned may still fail, from a timer or a promise (the client's retry of
// a long poll whose channel was closed: "Channel has been shut down"); the stop is the outcome, not that failure.
const failUnlessStopping = (e: unknown) => {
  if (stopExitCode() === null) void fail(e);
};
process.on('uncaughtException', failUnlessStopping);
process.on('unhandledRejection', failUnlessStopping);
await main(process.argv).catch(fail);
// A command stopped by a signal may leave work in flight (a fixture build, a poll); nothing of it may outlive us.
if (stopExitCode() !== null) {
  const { endDescendants } = await import('./processes.js');
  await endDescendants();
  process.exit(stopExitCode()!);
}
