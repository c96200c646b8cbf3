// The pipeline metrics only the workflow can see: how long a release waited at the gate and for the production
// lock. Emitted through the workflow metric meter, whose sink is skipped during replay (so a replayed task
// never counts twice) and which adds no command to the history.
import { metricMeter } from '@temporalio/workflow';
// Histogram buckets are set where the exporter is installed (src/metrics/runtime.ts), by metric name.
import { METRIC_HELP, PIPELINE_METRICS, type ReleaseLabels } from '../src/metrics/names.js';

/** Seconds between two workflow-clock readings (deterministic: Date.now() is the task's start time). */
const secondsSince = (startedMs: number) => Math.max(0, Date.now() - startedMs) / 1000;

export function recordGateWait(labels: ReleaseLabels, openedMs: number, decision: 'approved' | 'rejected' | 'expired'): void {
  metricMeter
    .createHistogram(PIPELINE_METRICS.gateWait, 'float', 's', METRIC_HELP[PIPELINE_METRICS.gateWait])
    .record(secondsSince(openedMs), { ...labels, decision });
}

export function recordLockWait(labels: ReleaseLabels, askedMs: number): void {
  metricMeter.createHistogram(PIPELINE_METRICS.lockWait, 'float', 's', METRIC_HELP[PIPELINE_METRICS.lockWait]).record(secondsSince(askedMs), { ...labels });
}
