// `sigrelease worker`: polls the control queue, the compose-host queue, or both, until SIGINT, SIGTERM or SIGHUP.
// A stop signal drains the workers as Temporal's shutdown does: no new tasks, running activities get the
// worker's grace time (then are cancelled, which kills their rsync and dnf), then the connections close.
import { Option, type Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { action, intFlag, loadConfig, temporalTarget, type GlobalOptions } from './common.js';
import { endDescendants } from './processes.js';
import { stopRequested } from './signals.js';
import { METRICS_ADDRESS_HELP, startWorkerMetrics, workerMetricsAddress } from './worker-metrics.js';

type Queue = 'control' | 'host';

export function parseQueues(value: string): Queue[] {
  const queues = value.split(',').map((q) => q.trim());
  for (const q of queues) if (q !== 'control' && q !== 'host') throw new CliError(`unknown queue "${q}"; use control, host or both`, EXIT.badInput);
  return [...new Set(queues)] as Queue[];
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('worker')
    .description('run the worker(s) that execute releases')
    .addOption(new Option('--queues <queues>', 'which queues to poll: control (workflows, light work), host (reposync, rsync; needs the mounts)').default('control,host'))
    .option('--max-host-activities <n>', 'heavy activities at once on this host')
    .option('--metrics-address <ip:port>', METRICS_ADDRESS_HELP)
    .action(
      action(async (o: { queues: string; maxHostActivities?: string; metricsAddress?: string }) => {
        const { site, catalogue } = loadConfig(globals());
        const queues = parseQueues(o.queues);
        const maxHostActivities = o.maxHostActivities === undefined ? undefined : intFlag('--max-host-activities', o.maxHostActivities, 1, 1000);
        temporalTarget(site); // the address and namespace checked before anything is loaded
        const metricsAddress = workerMetricsAddress(o.metricsAddress, site);
        const stop = stopRequested(); // listening before the SDK's runtime adds its own handlers
        const { createWorkers, workerAccess } = await import('../worker.js');
        // TLS files, token and webhook secrets checked before the first connection.
        const access = workerAccess(site, process.env);
        const address = access.address;
        // Before the first connection: that creates the runtime, which then can no longer get an exporter.
        if (metricsAddress) startWorkerMetrics(metricsAddress);
        const { workers, close } = await createWorkers({ ...access, site, catalogue, queues, ...(maxHostActivities ? { maxHostActivities } : {}) });
        const drain = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
        if (stop.aborted) drain();
        stop.addEventListener('abort', drain, { once: true });
        process.stderr.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')} at ${address}\n`);
        try {
          await Promise.all(workers.map((w) => w.run()));
        } finally {
          await close();
          const left = await endDescendants();
          if (left.length > 0) process.stderr.write(`sigrelease: ended leftover processes: ${left.map((p) => `${p.comm}(${p.pid})`).join(', ')}\n`);
        }
        if (stop.aborted) process.stderr.write('worker stopped\n');
      }),
    );
}
