// `sigrelease server`: the embedded dev server in the foreground (SQLite file, Web UI on) until SIGINT, SIGTERM
// or SIGHUP. `--db` may point anywhere: its folder is created, and the server's log goes beside it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../root.js';
import { CliError, EXIT } from '../errors.js';
import { action, intFlag, type GlobalOptions } from './common.js';
import { endDescendants } from './processes.js';
import { stopRequested, whenStopRequested } from './signals.js';

export const STATE_DIR = process.env.SIGRELEASE_STATE_DIR ?? path.join(PROJECT_ROOT, '.state');

export interface ServerPlan {
  dbFile: string;
  logFile: string;
  port: number;
  uiPort: number;
}

/** Checks the flags and creates the database's folder; nothing is started yet. */
export function planServer(o: { port: string; uiPort: string; db: string }): ServerPlan {
  const port = intFlag('--port', o.port, 1, 65535);
  const uiPort = intFlag('--ui-port', o.uiPort, 1, 65535);
  if (port === uiPort) throw new CliError(`--port and --ui-port are both ${port}; give them different ports`, EXIT.badInput);
  if (o.db.trim() === '') throw new CliError('--db "": name the SQLite file', EXIT.badInput);
  const dbFile = path.resolve(o.db);
  if (fs.existsSync(dbFile) && !fs.statSync(dbFile).isFile()) throw new CliError(`--db ${dbFile} exists and is not a file`, EXIT.badInput);
  const dir = path.dirname(dbFile);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new CliError(`--db ${dbFile}: cannot create or write its folder ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, EXIT.badInput);
  }
  return { dbFile, logFile: path.join(dir, 'temporal-server.log'), port, uiPort };
}

/** Refuses a port something else listens on, before the dev server fails on it less clearly. */
async function checkPortFree(flag: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(new CliError(`${flag} ${port}: ${e.code === 'EADDRINUSE' ? 'already in use (another server running?)' : e.message}`, EXIT.badInput)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** The last non-empty line the dev server logged: why it did not start. */
function lastLogLine(logFile: string): string | null {
  try {
    const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim());
    return lines.at(-1)?.slice(0, 300) ?? null;
  } catch {
    return null;
  }
}

export function register(program: Command, _globals: () => GlobalOptions): void {
  program
    .command('server')
    .description('run the embedded Temporal dev server (SQLite file, Web UI) until interrupted')
    .option('--port <port>', 'gRPC port', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--db <file>', 'SQLite file; its folder is created, the server log goes beside it', path.join(STATE_DIR, 'temporal.db'))
    .action(
      action(async (o: { port: string; uiPort: string; db: string }) => {
        const plan = planServer(o);
        await checkPortFree('--port', plan.port);
        await checkPortFree('--ui-port', plan.uiPort);
        stopRequested();
        const { startDevServer } = await import('../devserver.js');
        const starting = startDevServer({ dbFile: plan.dbFile, port: plan.port, uiPort: plan.uiPort, logFile: plan.logFile });
        const first = await Promise.race([starting.then((server) => ({ server })), whenStopRequested().then(() => null)]).catch(async (e: Error) => {
          await endDescendants();
          const why = lastLogLine(plan.logFile);
          throw new CliError(`the Temporal dev server did not start: ${e.message}${why ? `; its log ${plan.logFile} ends with: ${why}` : ''}`, EXIT.failed, { cause: e });
        });
        if (first) {
          process.stderr.write(`Temporal dev server at ${first.server.address}, Web UI ${first.server.uiUrl}, data in ${plan.dbFile}, log ${plan.logFile}\n`);
          await whenStopRequested();
          await first.server.stop();
        } else {
          await endDescendants(); // stopped while starting: the half-started server goes
          starting.catch(() => undefined); // and its readiness wait ends with it
        }
        const left = await endDescendants();
        if (left.length > 0) process.stderr.write(`sigrelease: ended leftover processes: ${left.map((p) => `${p.comm}(${p.pid})`).join(', ')}\n`);
        process.stderr.write('Temporal dev server stopped\n');
      }),
    );
}
