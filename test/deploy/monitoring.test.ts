// The monitoring side of the deployment, checked without a container engine: Prometheus scrapes what the compose
// file really exposes (the workers' --metrics-address, the server's PROMETHEUS_ENDPOINT), and the alert rules and
// the Grafana dashboard use only metrics and labels the pipeline exports (src/metrics/names.ts), and all of them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HISTOGRAM_BUCKETS, PIPELINE_METRICS } from '../../src/metrics/names.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const read = (...p: string[]) => fs.readFileSync(path.join(repo, ...p), 'utf8');

type Service = { command?: string[]; environment?: Record<string, string>; volumes?: string[] };
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const prometheus = parseYaml(read('deploy', 'prometheus', 'prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>; static_configs?: Array<{ targets: string[] }> }>;
};
const alerts = parseYaml(read('deploy', 'prometheus', 'alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }> };
const dashboard = JSON.parse(read('deploy', 'grafana', 'sigrelease-pipeline.json')) as {
  uid: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string }> };
};

const job = (name: string) => {
  const j = prometheus.scrape_configs.find((c) => c.job_name === name);
  if (!j) throw new Error(`prometheus.yml has no job ${name}`);
  return j;
};
const metricsPortOf = (s: Service) => {
  const i = s.command?.indexOf('--metrics-address') ?? -1;
  return i >= 0 ? Number(s.command![i + 1]!.split(':').at(-1)) : null;
};

/** Metric names in a PromQL expression: words followed by `{`, `[` or `)` that look like metric names. */
const metricsIn = (expr: string) => [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)].map((m) => m[1]!).filter((n) => !['by', 'without', 'rate', 'increase', 'sum', 'max'].includes(n));
const histograms = new Set(Object.keys(HISTOGRAM_BUCKETS));
const ours = new Set<string>(Object.values(PIPELINE_METRICS));
/** A pipeline metric as Prometheus shows it: histograms as _bucket/_sum/_count series. */
const known = (name: string) => {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return ours.has(name) ? !histograms.has(name) : base !== name && histograms.has(base);
};

describe('Prometheus (deploy/prometheus/)', () => {
  it('scrapes every worker service on the port its --metrics-address names', () => {
    const workers = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'worker');
    expect(workers.map(([n]) => n).sort()).toEqual(['worker', 'worker-control']);
    const sd = job('sigrelease-worker').dns_sd_configs![0]!;
    expect([...sd.names].sort()).toEqual(workers.map(([n]) => n).sort());
    for (const [name, s] of workers) expect(metricsPortOf(s), name).toBe(sd.port);
    // Bound on every interface of the container, or Prometheus in another container cannot reach it.
    for (const [, s] of workers) expect(s.command![s.command!.indexOf('--metrics-address') + 1]).toMatch(/^0\.0\.0\.0:/);
  });

  it('scrapes the Temporal server where PROMETHEUS_ENDPOINT makes it listen', () => {
    const endpoint = compose.services.temporal!.environment!.PROMETHEUS_ENDPOINT!;
    expect(job('temporal').static_configs![0]!.targets).toEqual([`temporal:${endpoint.split(':').at(-1)}`]);
  });

  it('loads the alert rules from the file the compose file mounts', () => {
    const mounts = compose.services.prometheus!.volumes!.map((v) => v.split(':'));
    for (const rules of prometheus.rule_files) {
      const m = mounts.find(([, target]) => target === rules);
      expect(m?.[0], rules).toBe('./deploy/prometheus/alerts.yml');
    }
    expect(mounts.find(([, t]) => t === '/etc/prometheus/prometheus.yml')?.[0]).toBe('./deploy/prometheus/prometheus.yml');
  });

  it('alerts only on metrics that exist, and says what to do', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      for (const m of metricsIn(r.expr)) expect(m === 'up' || known(m), `${r.alert}: ${m}`).toBe(true);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
    }
    const used = new Set(rules.flatMap((r) => metricsIn(r.expr)));
    for (const m of [PIPELINE_METRICS.guardTrips, PIPELINE_METRICS.verificationFailures, PIPELINE_METRICS.activityFailures]) expect(used.has(m), m).toBe(true);
  });
});

describe('the Grafana dashboard (deploy/grafana/sigrelease-pipeline.json)', () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('graphs every pipeline metric', () => {
    const used = new Set(exprs.flatMap((e) => metricsIn(e.expr)).map((m) => m.replace(/_(bucket|sum|count)$/, '')));
    for (const m of ours) expect(used.has(m), m).toBe(true);
  });

  it('uses only metrics the workers export, histograms through their buckets', () => {
    for (const { panel, expr } of exprs) {
      for (const m of metricsIn(expr)) expect(m === 'up' || m.startsWith('temporal_') || known(m), `${panel}: ${m}`).toBe(true);
    }
  });

  it('filters the pipeline metrics by the sig and release variables', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['sig', 'release']));
    for (const { panel, expr } of exprs) {
      if (!metricsIn(expr).some((m) => m.startsWith('sigrelease_'))) continue;
      expect(expr, panel).toContain('sig=~"$sig", release=~"$release"');
    }
    expect(dashboard.uid).toBe('sigrelease-pipeline');
  });
});
