// `sigrelease worker --metrics-address IP:PORT` (or the site's metrics.address): the Prometheus exporter of the
// worker process. Checked with the other input before anything connects; installed before the first connection.
import { CliError, EXIT } from '../client.js';
import type { SiteConfig } from '../config/schema.js';
import { metricsAddressProblem } from '../metrics/address.js';
import { installMetricsRuntime } from '../metrics/runtime.js';

export const METRICS_ADDRESS_HELP = 'serve Prometheus metrics at http://IP:PORT/metrics (default: metrics.address of the site config; none when unset)';

/** The address to export on (the flag wins over the site config), or null; bad input exits 2. */
export function workerMetricsAddress(flag: string | undefined, site: SiteConfig): string | null {
  const address = flag ?? site.metrics.address ?? null;
  const problem = address === null ? null : metricsAddressProblem(address);
  if (problem) throw new CliError(`--metrics-address: ${problem}`, EXIT.badInput);
  return address;
}

/** Starts the exporter; a port in use is a clear failure (exit 1), not a stack trace. */
export function startWorkerMetrics(address: string): void {
  try {
    installMetricsRuntime(address);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.failed);
  }
  process.stderr.write(`metrics at http://${address}/metrics\n`);
}
