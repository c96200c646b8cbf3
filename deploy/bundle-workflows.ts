// Writes the workflow bundle (webpack output for workflows/index.ts) to a file, so that a deployed worker
// loads it with `workflowBundle: { codePath }` instead of running webpack at every start.
//
//   node --import tsx deploy/bundle-workflows.ts [OUT]      (default dist/workflow-bundle.js)
//
// The bundle is built with the same options as src/worker.ts's bundleWorkflowCode call: the entry and the
// workflow interceptor modules both come from src/bundleOptions.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../src/bundleOptions.js';

export const WORKFLOWS_ENTRY = WORKFLOWS_PATH;
const DEFAULT_OUT = fileURLToPath(new URL('../dist/workflow-bundle.js', import.meta.url));

const silent = () => {};

/** Bundles the workflows and writes the code atomically (temp file + rename); returns the size in bytes. */
export async function writeWorkflowBundle(out: string): Promise<number> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_ENTRY,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: {
      log: silent,
      trace: silent,
      debug: silent,
      info: silent,
      warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
      error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
    },
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, out);
  return Buffer.byteLength(code);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
  const started = Date.now();
  const bytes = await writeWorkflowBundle(out);
  process.stderr.write(`workflow bundle: ${out} (${(bytes / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)\n`);
}
