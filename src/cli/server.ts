// `sigrelease server`: the embedded dev server in the foreground (SQLite under .state/, Web UI on).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startDevServer } from '../devserver.js';
import { action, type GlobalOptions } from './common.js';

export const STATE_DIR = process.env.SIGRELEASE_STATE_DIR ?? fileURLToPath(new URL('../../.state/', import.meta.url));

export function registerServerCommands(program: Command, _globals: () => GlobalOptions) {
  program
    .command('server')
    .description('run the embedded Temporal dev server (SQLite file under .state/, Web UI)')
    .option('--port <port>', 'gRPC port', (v) => Number(v), 7233)
    .option('--ui-port <port>', 'Web UI port', (v) => Number(v), 8233)
    .option('--db <file>', 'SQLite file', path.join(STATE_DIR, 'temporal.db'))
    .action(
      action(async (o: { port: number; uiPort: number; db: string }) => {
        const server = await startDevServer({ dbFile: o.db, port: o.port, uiPort: o.uiPort, logFile: path.join(STATE_DIR, 'temporal-server.log') });
        process.stderr.write(`Temporal dev server at ${server.address}, Web UI ${server.uiUrl}, data in ${o.db}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => void server.stop().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
