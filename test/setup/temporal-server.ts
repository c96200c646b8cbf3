// One real Temporal dev server for the whole integration run (temporal-notes §1.3 mode B): the SDK's
// createLocal has a hard-coded 5 s start limit that flakes on 2 cores. Killed by pid at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/devserver.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalDbFile: string;
    temporalPort: number;
    temporalUiUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-temporal-'));
  const dbFile = path.join(dir, 'temporal.db');
  const server = await startDevServer({ dbFile, headless: false, logFile: path.join(dir, 'server.log') });
  process.on('exit', () => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('temporalDbFile', dbFile);
  project.provide('temporalPort', server.port);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  return async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
