// The pipeline metrics without a server: which records each activity outcome gives, the labels and the header
// that carries them, the exporter address, the site-config key, and the activity interceptor around real
// activities (MockActivityEnvironment) writing to a meter that keeps what it is given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, defaultPayloadConverter, type MetricMeter, type MetricTags } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createComposeActivities } from '../../activities/compose.js';
import { publishFileLists, type PublishFileListsResult } from '../../activities/filelists.js';
import { planCompose } from '../../src/compose/plan.js';
import { parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import { composeDir } from '../../src/paths.js';
import { checkRequest } from '../../src/config/request.js';
import { SAFE_NAME } from '../../src/config/schema.js';
import { metricsAddressProblem } from '../../src/metrics/address.js';
import { activityMetricsInterceptor } from '../../src/metrics/activity-interceptor.js';
import { activityMetricRecords, failureTypeOf } from '../../src/metrics/activity-records.js';
import { checkedLabels, LABEL_SIG, RELEASE_LABELS_HEADER, releaseLabelsOf } from '../../src/metrics/labels.js';
import { HISTOGRAM_BUCKETS, METRIC_HELP, PIPELINE_METRICS as M } from '../../src/metrics/names.js';
import { testCatalogue } from '../helpers/temporal.js';

describe('activityMetricRecords', () => {
  it('counts the packages and bytes a reposync task downloaded, by repo kind', () => {
    const result = { name: 't', repo: 'core-common', kind: 'debug', arch: 'x86_64', downloaded: 3, skipped: 5, deleted: 0, bytes: 4096, packages: 8, durationMs: 10, attempt: 1 };
    expect(activityMetricRecords('runReposyncTask', { ok: true, result, seconds: 2 })).toEqual([
      { kind: 'counter', name: M.packagesDownloaded, value: 3, tags: { kind: 'debug' } },
      { kind: 'counter', name: M.downloadedBytes, value: 4096, tags: { kind: 'debug' } },
    ]);
  });

  it.each([
    ['syncToStaging', 'staging'],
    ['syncToProduction', 'production'],
  ])('times %s on its own clock and counts what it transferred', (activity, stage) => {
    const result = { durationMs: 2500, transferredBytes: 1000, transferredFiles: 7, preview: {}, guard: { ok: true } };
    expect(activityMetricRecords(activity, { ok: true, result, seconds: 99 })).toEqual([
      { kind: 'histogram', name: M.syncDuration, value: 2.5, tags: { stage } },
      { kind: 'counter', name: M.syncBytes, value: 1000, tags: { stage } },
      { kind: 'counter', name: M.syncFiles, value: 7, tags: { stage } },
    ]);
  });

  it('counts a guard trip when a sync refuses, and when the production preview shows a tripped guard at the gate', () => {
    expect(activityMetricRecords('syncToStaging', { ok: false, failureType: 'DeletionGuardTripped', seconds: 1 })).toEqual([
      { kind: 'counter', name: M.activityFailures, value: 1, tags: { failure: 'DeletionGuardTripped' } },
      { kind: 'counter', name: M.guardTrips, value: 1, tags: { stage: 'staging' } },
    ]);
    expect(activityMetricRecords('syncToProduction', { ok: false, failureType: 'DeletionGuardTripped', seconds: 1 })).toContainEqual({
      kind: 'counter',
      name: M.guardTrips,
      value: 1,
      tags: { stage: 'production' },
    });
    expect(activityMetricRecords('previewProduction', { ok: true, result: { guard: { ok: false, reason: 'too many' } }, seconds: 1 })).toEqual([
      { kind: 'counter', name: M.guardTrips, value: 1, tags: { stage: 'gate' } },
    ]);
    expect(activityMetricRecords('previewProduction', { ok: true, result: { guard: { ok: true } }, seconds: 1 })).toEqual([]);
    // Another failure of a sync is not a guard trip.
    expect(activityMetricRecords('syncToStaging', { ok: false, failureType: 'DiskFull', seconds: 1 }).map((r) => r.name)).toEqual([M.activityFailures]);
  });

  it('counts a compose that failed verification', () => {
    expect(activityMetricRecords('verifyCompose', { ok: false, failureType: 'ComposeVerificationFailed', seconds: 1 })).toContainEqual({
      kind: 'counter',
      name: M.verificationFailures,
      value: 1,
      tags: {},
    });
    expect(activityMetricRecords('verifyCompose', { ok: true, result: { ok: true, repos: [], problems: [] }, seconds: 1 })).toEqual([]);
  });

  it('times the file-list walk and keeps the entry count of the last list, by module', () => {
    expect(activityMetricRecords('publishFileLists', { ok: true, result: { dir: '/x', module: 'sig', entries: 1234, changed: [], unchanged: [] }, seconds: 0.75 })).toEqual([
      { kind: 'histogram', name: M.fileListWalk, value: 0.75, tags: { module: 'sig' } },
      { kind: 'gauge', name: M.fileListEntries, value: 1234, tags: { module: 'sig' } },
    ]);
  });

  it('records nothing for activities without pipeline figures, and never a missing or negative figure', () => {
    expect(activityMetricRecords('notify', { ok: true, result: true, seconds: 1 })).toEqual([]);
    expect(activityMetricRecords('runReposyncTask', { ok: true, result: { kind: 'binary', downloaded: -1 }, seconds: 1 })).toEqual([]);
  });

  it('names a failure by its stable type, else by its class', () => {
    expect(failureTypeOf(ApplicationFailure.create({ type: 'DiskFull', message: 'full' }))).toBe('DiskFull');
    expect(failureTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(failureTypeOf('just a string')).toBe('unknown');
  });
});

describe('release labels', () => {
  it('come from a release request or the compose child plan; other workflows have none', () => {
    expect(releaseLabelsOf({ release: '9', sig: 'core', hashed: true })).toEqual({ sig: 'core', release: '9' });
    expect(releaseLabelsOf({ plan: { sig: 'cloud', release: '10', batches: [] }, roots: {} })).toEqual({ sig: 'cloud', release: '10' });
    expect(releaseLabelsOf({ release: '9', queue: [] })).toBeNull(); // the production lock
    expect(releaseLabelsOf(undefined)).toBeNull();
  });

  it('refuse values that are not a SIG name and a major release (they would become unbounded series)', () => {
    expect(checkedLabels({ sig: 'core', release: 9 })).toEqual({ sig: 'core', release: '9' });
    for (const bad of [{ sig: '../etc', release: '9' }, { sig: 'core', release: '9.7' }, { sig: 'x'.repeat(101), release: '9' }, { sig: 'core' }, 'core-9']) {
      expect(checkedLabels(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('use the same SIG-name rule as the site schema', () => {
    expect(LABEL_SIG.source).toBe(SAFE_NAME.source);
  });
});

describe('metrics address', () => {
  it('takes an IP literal and a port', () => {
    for (const ok of ['0.0.0.0:9464', '127.0.0.1:1', '[::]:9464', '[::1]:65535']) expect(metricsAddressProblem(ok), ok).toBeNull();
  });

  it('refuses anything the exporter cannot bind, naming the value', () => {
    for (const bad of ['9464', 'localhost:9464', '0.0.0.0', '0.0.0.0:0', '0.0.0.0:70000', '256.1.1.1:9464', ':9464', '[zz]:9464', '0.0.0.0:9464/metrics']) {
      expect(metricsAddressProblem(bad), bad).toContain(JSON.stringify(bad));
    }
  });

  it('is an optional site-config key: absent by default, checked when present', () => {
    const raw = localSiteRaw('/tmp/x', { repoBaseUrl: 'http://127.0.0.1:1/v1/projects' });
    expect(parseSite(raw).metrics.address).toBeUndefined();
    expect(parseSite({ ...raw, metrics: { address: '0.0.0.0:9464' } }).metrics.address).toBe('0.0.0.0:9464');
    expect(() => parseSite({ ...raw, metrics: { address: 'metrics.example.org:9464' } })).toThrow(/metrics\.address: metrics address "metrics\.example\.org:9464" must be IP:PORT/);
  });
});

describe('metric definitions', () => {
  it('describe every metric, and give every histogram buckets in seconds', () => {
    for (const name of Object.values(M)) expect(METRIC_HELP[name], name).toBeTruthy();
    for (const name of [M.syncDuration, M.gateWait, M.lockWait, M.fileListWalk]) {
      const b = HISTOGRAM_BUCKETS[name]!;
      expect(b.length, name).toBeGreaterThan(3);
      expect([...b].sort((x, y) => x - y), name).toEqual(b);
    }
    for (const name of Object.values(M)) expect(name).toMatch(/^sigrelease_[a-z_]+$/);
  });
});

// ---- the interceptor around real activities

interface Recorded {
  kind: string;
  name: string;
  value: number;
  tags: MetricTags;
}
function recordingMeter(into: Recorded[], base: MetricTags = {}): MetricMeter {
  const metric = (kind: string, name: string) => ({
    add: (value: number, extra: MetricTags = {}) => into.push({ kind, name, value, tags: { ...base, ...extra } }),
    record: (value: number, extra: MetricTags = {}) => into.push({ kind, name, value, tags: { ...base, ...extra } }),
    set: (value: number, extra: MetricTags = {}) => into.push({ kind, name, value, tags: { ...base, ...extra } }),
  });
  return {
    createCounter: (name: string) => metric('counter', name),
    createHistogram: (name: string) => metric('histogram', name),
    createGauge: (name: string) => metric('gauge', name),
    createUpDownCounter: (name: string) => metric('upDownCounter', name),
    withTags: (tags: MetricTags) => recordingMeter(into, { ...base, ...tags }),
  } as unknown as MetricMeter;
}

/** Stands in for the workflow side: puts the sig/release header on the activity, as workflows/releaseLabels.ts does. */
const fromWorkflow =
  (labels: unknown): ActivityInterceptorsFactory =>
  () => ({
    inbound: { execute: (input, next) => next({ ...input, headers: { ...input.headers, [RELEASE_LABELS_HEADER]: defaultPayloadConverter.toPayload(labels) } }) },
  });

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('the activity metrics interceptor', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-metrics-'));

  it('counts a real verifyCompose that fails, labelled with the header sig/release, and lets the failure through', async () => {
    const root = tmp();
    const site = parseSite(localSiteRaw(root, { repoBaseUrl: 'http://127.0.0.1:1/v1/projects' }));
    const { request, resolved } = checkRequest({ release: '9', sig: 'core', arches: ['x86_64'], ignoreDebug: true }, testCatalogue(), site);
    const plan = planCompose(request, resolved, site, '20260101.000000');
    const recorded: Recorded[] = [];
    const env = new MockActivityEnvironment(
      { activityType: 'verifyCompose' },
      { logger: quiet, metricMeter: recordingMeter(recorded), interceptors: [fromWorkflow({ sig: 'core', release: '9' }), activityMetricsInterceptor] },
    );
    // An empty compose folder (the one the worker derives from its own site config): every planned repo is
    // missing, so verification fails.
    const { verifyCompose } = createComposeActivities({ site, catalogue: testCatalogue() });
    initRoots(site);
    fs.mkdirSync(composeDir(site, plan.release, plan.sig, plan.revision, plan.stamp), { recursive: true });
    const failure = await env.run(verifyCompose, { plan }).then(
      () => null,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(failure?.type).toBe('ComposeVerificationFailed');
    expect(recorded.filter((r) => r.name === M.verificationFailures)).toEqual([
      { kind: 'counter', name: M.verificationFailures, value: 1, tags: expect.objectContaining({ sig: 'core', release: '9' }) },
    ]);
    expect(recorded.find((r) => r.name === M.activityFailures)?.tags).toMatchObject({ sig: 'core', release: '9', failure: 'ComposeVerificationFailed' });
  });

  it('times a real file-list publication and records its entries; without a usable header the series has no sig/release', async () => {
    const dir = tmp();
    for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, f), f);
    const recorded: Recorded[] = [];
    const env = new MockActivityEnvironment(
      { activityType: 'publishFileLists' },
      { logger: quiet, metricMeter: recordingMeter(recorded), interceptors: [fromWorkflow({ sig: '$(rm -rf /)', release: '9' }), activityMetricsInterceptor] },
    );
    const result = (await env.run(publishFileLists, { dir, module: 'sig' })) as PublishFileListsResult;
    expect(result.entries).toBeGreaterThanOrEqual(3);
    const walk = recorded.find((r) => r.name === M.fileListWalk);
    expect(walk?.kind).toBe('histogram');
    expect(walk!.value).toBeGreaterThan(0);
    expect(recorded.find((r) => r.name === M.fileListEntries)).toMatchObject({ kind: 'gauge', value: result.entries, tags: { module: 'sig' } });
    for (const r of recorded) expect(r.tags).not.toHaveProperty('sig');
  });
});
