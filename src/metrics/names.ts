// The pipeline's own Prometheus metrics, named once: the recording code (activities' interceptor, workflows),
// the exporter's histogram buckets, the Grafana dashboard and the tests all read these names.
// Counters carry `_total` themselves because the exporter runs with countersTotalSuffix off (the SDK's own
// metric names stay as Temporal's dashboards expect them).

export const PIPELINE_METRICS = {
  packagesDownloaded: 'sigrelease_packages_downloaded_total',
  downloadedBytes: 'sigrelease_downloaded_bytes_total',
  syncDuration: 'sigrelease_sync_duration_seconds',
  syncBytes: 'sigrelease_sync_bytes_total',
  syncFiles: 'sigrelease_sync_files_total',
  gateWait: 'sigrelease_gate_wait_seconds',
  lockWait: 'sigrelease_production_lock_wait_seconds',
  guardTrips: 'sigrelease_guard_trips_total',
  verificationFailures: 'sigrelease_verification_failures_total',
  fileListWalk: 'sigrelease_filelist_walk_seconds',
  fileListEntries: 'sigrelease_filelist_entries',
  activityFailures: 'sigrelease_activity_failures_total',
} as const;

export type PipelineMetric = (typeof PIPELINE_METRICS)[keyof typeof PIPELINE_METRICS];

/** What each metric means, for the exporter's HELP line and the dashboard. */
export const METRIC_HELP: Record<PipelineMetric, string> = {
  [PIPELINE_METRICS.packagesDownloaded]: 'packages dnf reposync downloaded into composes',
  [PIPELINE_METRICS.downloadedBytes]: 'bytes of the packages dnf reposync downloaded into composes',
  [PIPELINE_METRICS.syncDuration]: 'wall time of one staging or production sync (all its passes)',
  [PIPELINE_METRICS.syncBytes]: 'bytes rsync transferred into staging or production',
  [PIPELINE_METRICS.syncFiles]: 'regular files rsync transferred into staging or production',
  [PIPELINE_METRICS.gateWait]: 'time a release waited at the approval gate, by how the wait ended',
  [PIPELINE_METRICS.lockWait]: 'time a release waited for its turn on the production lock',
  [PIPELINE_METRICS.guardTrips]: 'deletion-guard trips: a sync refused, or a production preview shown as tripped at the gate',
  [PIPELINE_METRICS.verificationFailures]: 'composes that failed verification (repomd checksums, package sizes and checksums, repoclosure)',
  [PIPELINE_METRICS.fileListWalk]: 'time to walk a tree and publish its mirror file lists',
  [PIPELINE_METRICS.fileListEntries]: 'entries in the last published file list of a tree',
  [PIPELINE_METRICS.activityFailures]: 'failed activity attempts, by failure type',
};

/**
 * Histogram buckets in seconds. The exporter's default buckets (50 … 10000) suit milliseconds and would put
 * every value in the first bucket (temporal-security-and-metrics.md §4 traps).
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [PIPELINE_METRICS.syncDuration]: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200],
  // Minutes for a person at a keyboard, up to the default expiry of two weeks.
  [PIPELINE_METRICS.gateWait]: [1, 10, 60, 300, 1800, 3600, 14400, 43200, 86400, 259200, 604800, 1209600],
  [PIPELINE_METRICS.lockWait]: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
  [PIPELINE_METRICS.fileListWalk]: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
};

/** The labels every pipeline metric carries. Values come from the release request, never from a path. */
export interface ReleaseLabels {
  sig: string;
  release: string;
}
