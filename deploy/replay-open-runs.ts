// Pre-deploy check: replays the history of every open run (typically releases waiting days at the
// approval gate) against the workflow code you are about to deploy. A run the new code cannot replay
// would fail with a nondeterminism error as soon as a new worker picks it up; this finds it first.
//
//   node --import tsx deploy/replay-open-runs.ts [--bundle FILE] [--query VISIBILITY_QUERY]
//
// Without --bundle it bundles workflows/index.ts from this checkout (the code being deployed); with
// --bundle it uses a prebuilt bundle (deploy/bundle-workflows.ts, /app/dist/workflow-bundle.js in the
// image). The server comes from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (default 127.0.0.1:7233,
// sigrelease). Exit code 0: every open run replays; 1: at least one does not (listed on stderr).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/bundleOptions.js';
import { WORKFLOWS_ENTRY } from './bundle-workflows.js';

export const OPEN_RUNS_QUERY = `ExecutionStatus = "Running"`;

export interface ReplayReport {
  replayed: number;
  failures: Array<{ workflowId: string; runId: string; error: string }>;
}

/** Replays every run matching `query` (default: all open runs of the namespace) against the given code. */
export async function replayOpenRuns(
  client: Client,
  code: { bundlePath: string } | { workflowsPath: string } = { workflowsPath: WORKFLOWS_ENTRY },
  query = OPEN_RUNS_QUERY,
): Promise<ReplayReport> {
  // From sources: with the workflow interceptors a deployed bundle carries (src/bundleOptions.ts).
  const options: ReplayWorkerOptions =
    'bundlePath' in code
      ? { workflowBundle: { codePath: code.bundlePath } }
      : { workflowsPath: code.workflowsPath, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } };
  const report: ReplayReport = { replayed: 0, failures: [] };
  const histories = client.workflow.list({ query }).intoHistories();
  for await (const result of Worker.runReplayHistories(options, histories)) {
    report.replayed++;
    if (result.error) report.failures.push({ workflowId: result.workflowId, runId: result.runId, error: result.error.message });
  }
  return report;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'sigrelease';
  const bundle = flag('--bundle');
  Runtime.install({ logger: new DefaultLogger('WARN') }); // the replay workers' lifecycle is noise here
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const report = await replayOpenRuns(client, bundle ? { bundlePath: path.resolve(bundle) } : undefined, flag('--query') ?? OPEN_RUNS_QUERY);
    for (const f of report.failures) process.stderr.write(`cannot replay ${f.workflowId} (run ${f.runId}): ${f.error}\n`);
    process.stderr.write(`replayed ${report.replayed} open run(s) in ${namespace} at ${address}: ${report.failures.length} failed\n`);
    process.exitCode = report.failures.length ? 1 : 0;
  } finally {
    await connection.close();
  }
}
