// Which pipeline metrics one finished activity attempt produces: a pure function of the activity's type and
// its result or failure, so the whole mapping is unit-tested without a worker. The interceptor in
// src/metrics/activity-interceptor.ts measures the attempt and writes these records to the activity's meter.
import type { MetricTags } from '@temporalio/common';
import type { PublishFileListsResult } from '../filelists/publish.js';
import type { TaskResult } from '../compose/types.js';
import { PIPELINE_METRICS, type PipelineMetric } from './names.js';

export interface MetricRecord {
  kind: 'counter' | 'histogram' | 'gauge';
  name: PipelineMetric;
  value: number;
  tags: MetricTags;
}

export type AttemptOutcome = { ok: true; result: unknown; seconds: number } | { ok: false; failureType: string; seconds: number };

/** Only the fields the metrics read, so a new field in a result type never breaks this module. */
type SyncFigures = { transferredBytes?: unknown; transferredFiles?: unknown; durationMs?: unknown };

const SYNC_STAGE: Record<string, 'staging' | 'production'> = { syncToStaging: 'staging', syncToProduction: 'production' };

export function activityMetricRecords(activityType: string, outcome: AttemptOutcome): MetricRecord[] {
  if (!outcome.ok) return failureRecords(activityType, outcome.failureType);
  const out: MetricRecord[] = [];
  const r = outcome.result as Record<string, unknown> | null | undefined;
  const stage = SYNC_STAGE[activityType];
  if (activityType === 'runReposyncTask' && r) {
    const task = r as Partial<TaskResult>;
    const tags = { kind: String(task.kind ?? 'unknown') };
    out.push(counter(PIPELINE_METRICS.packagesDownloaded, task.downloaded, tags), counter(PIPELINE_METRICS.downloadedBytes, task.bytes, tags));
  } else if (stage && r) {
    const sync = r as SyncFigures;
    const tags = { stage };
    out.push(
      // The sync's own clock (preview, guard and every pass), not the attempt's queueing.
      { kind: 'histogram', name: PIPELINE_METRICS.syncDuration, value: count(sync.durationMs) / 1000, tags },
      counter(PIPELINE_METRICS.syncBytes, sync.transferredBytes, tags),
      counter(PIPELINE_METRICS.syncFiles, sync.transferredFiles, tags),
    );
  } else if (activityType === 'previewProduction' && r) {
    // The gate shows a tripped guard to the approver; production is refused unless they override it.
    const guard = r.guard as { ok?: unknown } | undefined;
    if (guard && guard.ok === false) out.push({ kind: 'counter', name: PIPELINE_METRICS.guardTrips, value: 1, tags: { stage: 'gate' } });
  } else if (activityType === 'publishFileLists' && r) {
    const lists = r as Partial<PublishFileListsResult>;
    const tags = { module: String(lists.module ?? 'unknown') };
    out.push(
      { kind: 'histogram', name: PIPELINE_METRICS.fileListWalk, value: outcome.seconds, tags },
      { kind: 'gauge', name: PIPELINE_METRICS.fileListEntries, value: count(lists.entries), tags },
    );
  }
  // A counter that adds 0 still creates the series, which is what a dashboard wants; but a negative or
  // missing figure is never recorded.
  return out.filter((m) => Number.isFinite(m.value) && m.value >= 0);
}

function failureRecords(activityType: string, failureType: string): MetricRecord[] {
  const out: MetricRecord[] = [{ kind: 'counter', name: PIPELINE_METRICS.activityFailures, value: 1, tags: { failure: failureType } }];
  const stage = SYNC_STAGE[activityType];
  if (stage && failureType === 'DeletionGuardTripped') out.push({ kind: 'counter', name: PIPELINE_METRICS.guardTrips, value: 1, tags: { stage } });
  if (activityType === 'verifyCompose' && failureType === 'ComposeVerificationFailed') {
    out.push({ kind: 'counter', name: PIPELINE_METRICS.verificationFailures, value: 1, tags: {} });
  }
  return out;
}

/** The failure's stable type (ApplicationFailure.type), else the error's class name. */
export function failureTypeOf(err: unknown): string {
  const e = err as { type?: unknown; name?: unknown } | null | undefined;
  if (e && typeof e.type === 'string' && e.type) return e.type;
  if (e && typeof e.name === 'string' && e.name) return e.name;
  return 'unknown';
}

const count = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const counter = (name: PipelineMetric, v: unknown, tags: MetricTags): MetricRecord => ({ kind: 'counter', name, value: count(v), tags });
