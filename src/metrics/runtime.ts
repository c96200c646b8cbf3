// The worker process's Temporal runtime with the Prometheus exporter: the SDK's own metrics (temporal_*) and the
// pipeline's (sigrelease_*, src/metrics/names.ts) on one /metrics endpoint. It must be installed before any
// connection or worker exists: those create the default runtime, after which no exporter can be added.
import { Runtime } from '@temporalio/worker';
import { metricsAddressProblem } from './address.js';
import { HISTOGRAM_BUCKETS } from './names.js';

export class MetricsSetupError extends Error {
  override name = 'MetricsSetupError';
}

/** Installs the runtime with a Prometheus exporter on `bindAddress` (IP:PORT) and makes it bind now. */
export function installMetricsRuntime(bindAddress: string): void {
  const problem = metricsAddressProblem(bindAddress);
  if (problem) throw new MetricsSetupError(problem);
  try {
    Runtime.install({
      telemetryOptions: {
        metrics: {
          prometheus: {
            bindAddress,
            // Our counters are named with `_total`; the SDK's keep the names Temporal's own dashboards use.
            countersTotalSuffix: false,
            unitSuffix: false,
            histogramBucketOverrides: HISTOGRAM_BUCKETS,
          },
        },
      },
    });
    // The native runtime (and its HTTP listener) starts on first use: start it here, so that a port in use
    // is reported now, in words, and not as a failure of the first connection.
    Runtime.instance();
  } catch (e) {
    const msg = (e as Error).message;
    if (/already been instantiated|already installed/i.test(msg)) {
      throw new MetricsSetupError(`cannot export metrics on ${bindAddress}: the Temporal runtime of this process was created before the exporter could be installed`);
    }
    throw new MetricsSetupError(`cannot export metrics on ${bindAddress}: ${msg}`);
  }
}
