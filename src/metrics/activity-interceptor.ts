// Records the pipeline's metrics for every activity attempt, through the activity's own metric meter
// (Context.current().metricMeter: the SDK adds namespace, taskQueue and activityType). The labels sig and
// release come from the header the workflow interceptor (workflows/releaseLabels.ts) puts on each activity.
// Doing it here keeps the activities free of metric code, and covers every activity the same way.
import type { Context } from '@temporalio/activity';
import { defaultPayloadConverter, type MetricMeter, type Payload } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { activityMetricRecords, failureTypeOf, type AttemptOutcome, type MetricRecord } from './activity-records.js';
import { checkedLabels, RELEASE_LABELS_HEADER } from './labels.js';
import { METRIC_HELP } from './names.js';

export const activityMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      let outcome: AttemptOutcome;
      try {
        const result = await next(input);
        outcome = { ok: true, result, seconds: seconds() };
        recordAttempt(ctx, input.headers[RELEASE_LABELS_HEADER], outcome);
        return result;
      } catch (err) {
        outcome = { ok: false, failureType: failureTypeOf(err), seconds: seconds() };
        recordAttempt(ctx, input.headers[RELEASE_LABELS_HEADER], outcome);
        throw err;
      }
    },
  },
});

function recordAttempt(ctx: Context, header: Payload | undefined, outcome: AttemptOutcome): void {
  try {
    const records = activityMetricRecords(ctx.info.activityType, outcome);
    if (records.length === 0) return;
    const labels = header ? checkedLabels(defaultPayloadConverter.fromPayload(header)) : null;
    writeRecords(labels ? ctx.metricMeter.withTags({ ...labels }) : ctx.metricMeter, records);
  } catch (err) {
    // A metric must never fail the work it measures.
    ctx.log.warn('could not record activity metrics', { error: String(err) });
  }
}

export function writeRecords(meter: MetricMeter, records: MetricRecord[]): void {
  for (const r of records) {
    const help = METRIC_HELP[r.name];
    if (r.kind === 'counter') meter.createCounter(r.name, '1', help).add(r.value, r.tags);
    else if (r.kind === 'histogram') meter.createHistogram(r.name, 'float', 's', help).record(r.value, r.tags);
    else meter.createGauge(r.name, 'int', '1', help).set(r.value, r.tags);
  }
}
