// docker-compose.yml, the worker Dockerfile and the deploy/ files, checked without a container engine:
// YAML parse + interpolation with deploy/.env.example, the compose-spec JSON schema (when a package
// that ships it and ajv are installed), our own structural rules (pinned images, health checks,
// depends_on conditions, mounts), and, when the binaries are on this machine, `docker-compose config`
// (Debian's docker-compose 1.29) and `temporal-server validate-dynamic-config`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseSite } from '../../src/config/load.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { temporalServerDir } from './postgres-server.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const at = (...p: string[]) => path.join(repo, ...p);
const read = (...p: string[]) => fs.readFileSync(at(...p), 'utf8');

// The Temporal line the tests run against: the dev server of Temporal CLI v1.5.1 (src/devserver.ts).
const SERVER_VERSION = '1.29.1';
const UI_VERSION = '2.42.1';

type Env = Record<string, string>;
type Service = {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string; retries?: number };
  volumes?: string[];
  ports?: string[];
  restart?: string;
  profiles?: string[];
  command?: string[];
  entrypoint?: string[];
  network_mode?: string;
};
type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> } & Record<string, unknown>;

/** KEY=VALUE lines, as compose reads an --env-file (no quotes or export in ours). */
function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: unknown, env: Env, seen: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name, op, arg, bare) => {
      if (m === '$$') return '$';
      const key = (name ?? bare) as string;
      seen.add(key);
      const v = env[key];
      const emptyIsUnset = typeof op === 'string' && op.startsWith(':');
      const unset = v === undefined || (emptyIsUnset && v === '');
      if (op?.endsWith('-')) return unset ? arg : v;
      if (op?.endsWith('?')) {
        if (unset) throw new Error(`required variable ${key} is not set: ${arg}`);
        return v;
      }
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, seen));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, seen)]));
  }
  return value;
}

const raw = read('docker-compose.yml');
/** The file as written (YAML 1.1 merge keys resolved, as compose does). */
const doc = parseYaml(raw, { merge: true }) as ComposeFile;
const exampleEnv = parseEnvFile(read('deploy', '.env.example'));
const referenced = new Set<string>();
/** The file as compose sees it with deploy/.env.example. */
const compose = interpolate(doc, exampleEnv, referenced) as ComposeFile;
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const envOf = (s: Service): Env =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]))
    : { ...(s.environment ?? {}) };
/** Short-syntax volume "source:target[:mode]" → { source, target, mode }. */
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':');
    return { source: source!, target: target!, mode: mode ?? 'rw' };
  });
const dependsOn = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition]));

describe('docker-compose.yml', () => {
  it('has the services of a real installation, and nothing that needs a compose v2-only key', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['postgresql', 'prometheus', 'temporal', 'temporal-jwks', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker', 'worker-control'].sort(),
    );
    // docker-compose 1.29 rejects a top-level `name`; extension fields are fine.
    for (const key of Object.keys(doc)) expect(['services', 'volumes', 'networks'].includes(key) || key.startsWith('x-'), key).toBe(true);
  });

  it('pins every image to an exact version (no latest, no bare major), and the Temporal images to the tested line', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, `${name} has an image`).toBeTruthy();
      const m = /^(?<repo>[a-z0-9./_-]+):(?<tag>[A-Za-z0-9._-]+)$/.exec(s.image!);
      expect(m, `${name}: ${s.image} has a tag`).not.toBeNull();
      const tag = m!.groups!.tag!;
      expect(tag, name).not.toMatch(/latest|^\d+$|^\d+-/);
      // Prometheus tags its releases with a leading v (v3.5.0).
      expect(tag, `${name}: ${s.image} names major.minor(.patch)`).toMatch(/^v?\d+\.\d+(\.\d+)?/);
      expect(s.image, name).not.toContain('$'); // fully interpolated
    }
    expect(svc('temporal').image).toBe(`temporalio/server:${SERVER_VERSION}`);
    expect(svc('temporal-schema').image).toMatch(new RegExp(`^temporalio/admin-tools:${SERVER_VERSION.replace(/\./g, '\\.')}-`));
    expect(svc('temporal-namespace').image).toBe(svc('temporal-schema').image);
    expect(svc('temporal-ui').image).toBe(`temporalio/ui:${UI_VERSION}`);
    expect(svc('postgresql').image).toMatch(/^postgres:1[2-9]\.\d+/); // visibility on PostgreSQL needs >= 12
    expect(svc('worker-control').image).toBe(svc('worker').image);
  });

  it('health-checks the long-running services and orders start-up with depends_on conditions', () => {
    expect(JSON.stringify(svc('postgresql').healthcheck?.test)).toContain('pg_isready');
    expect(svc('temporal').healthcheck?.test).toBeTruthy();
    expect(svc('temporal-ui').healthcheck?.test).toBeTruthy();
    expect(svc('prometheus').healthcheck?.test).toBeTruthy();
    expect(dependsOn(svc('temporal-schema'))).toEqual({ postgresql: 'service_healthy' });
    expect(dependsOn(svc('temporal'))).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn(svc('temporal-namespace'))).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(svc('temporal-ui'))).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(svc('worker'))).toEqual({ temporal: 'service_healthy', 'temporal-namespace': 'service_completed_successfully' });
    expect(dependsOn(svc('worker-control'))).toMatchObject({ temporal: 'service_healthy', 'temporal-namespace': 'service_completed_successfully' });
    // Every service a condition waits on exists and has what the condition needs.
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(compose.services[dep]!.healthcheck, `${dep} needs a healthcheck for ${name}`).toBeDefined();
      }
    }
  });

  it('runs the one-shot jobs to completion (never restarted once they succeed) and keeps the rest up', () => {
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      expect(svc(job).restart ?? 'no', job).toMatch(/^(no|on-failure(:\d+)?)$/);
      expect(svc(job).entrypoint?.[0]).toBe('/bin/sh');
    }
    for (const name of ['postgresql', 'temporal', 'temporal-jwks', 'temporal-ui', 'worker', 'worker-control', 'prometheus']) expect(svc(name).restart, name).toBe('unless-stopped');
  });

  it('mounts only files that exist in the repository or are made by the operator\'s tools (and ignored by git), read-only', () => {
    // Made by deploy/tls/make-certs.sh and `sigrelease token`, never committed (deploy/.gitignore).
    const generated = [exampleEnv.SIGRELEASE_TLS_DIR!, exampleEnv.SIGRELEASE_AUTH_DIR!];
    const ignored = read('deploy', '.gitignore').split('\n');
    for (const g of generated) expect(ignored, g).toContain(`${path.relative('deploy', g)}/`);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s)) {
        if (!m.source.startsWith('./')) continue;
        if (!generated.some((g) => m.source.startsWith(`${g}/`))) expect(fs.existsSync(at(m.source)), `${name}: ${m.source}`).toBe(true);
        expect(m.mode, `${name}: ${m.source}`).toBe('ro');
      }
    }
    const schemaJob = mounts(svc('temporal-schema')).find((m) => m.target === svc('temporal-schema').entrypoint?.[1]);
    expect(schemaJob?.source).toBe('./deploy/temporal/setup-schema.sh');
    const nsJob = mounts(svc('temporal-namespace')).find((m) => m.target === svc('temporal-namespace').entrypoint?.[1]);
    expect(nsJob?.source).toBe('./deploy/temporal/create-namespace.sh');
  });

  it('keeps PostgreSQL data in a named volume and gives Temporal the PostgreSQL persistence settings', () => {
    expect(mounts(svc('postgresql'))).toContainEqual({ source: 'postgresql-data', target: '/var/lib/postgresql/data', mode: 'rw' });
    expect(Object.keys(compose.volumes ?? {})).toContain('postgresql-data');
    const pg = envOf(svc('postgresql'));
    for (const name of ['temporal-schema', 'temporal']) {
      const env = envOf(svc(name));
      expect(env).toMatchObject({ DB: 'postgres12', DB_PORT: '5432', POSTGRES_SEEDS: 'postgresql' });
      expect(env.POSTGRES_USER).toBe(pg.POSTGRES_USER);
      expect(env.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    }
    const temporal = envOf(svc('temporal'));
    expect(temporal.BIND_ON_IP).toBe('0.0.0.0');
    expect(Number(temporal.NUM_HISTORY_SHARDS)).toBeGreaterThanOrEqual(4);
    // The dynamic config file the server is told to read is the one we mount.
    const dc = mounts(svc('temporal')).find((m) => m.target === '/etc/temporal/config/dynamicconfig');
    expect(dc?.source).toBe('./deploy/temporal/dynamicconfig');
    expect(temporal.DYNAMIC_CONFIG_FILE_PATH).toMatch(/^config\/dynamicconfig\/[^/]+\.yaml$/);
    expect(fs.existsSync(at('deploy/temporal/dynamicconfig', path.basename(temporal.DYNAMIC_CONFIG_FILE_PATH!)))).toBe(true);
  });

  it('fails fast without a database password, and documents every variable it reads in deploy/.env.example', () => {
    expect(() => interpolate(doc, { ...exampleEnv, TEMPORAL_DB_PASSWORD: '' }, new Set())).toThrow(/TEMPORAL_DB_PASSWORD/);
    const documented = new Set(Object.keys(exampleEnv));
    expect([...referenced].filter((v) => !documented.has(v)).sort()).toEqual([]);
    expect(exampleEnv.COMPOSE_PROJECT_NAME).toBe('sigrelease');
  });

  it('publishes the frontend and the UI on loopback by default, and PostgreSQL not at all', () => {
    const withDefaults = interpolate(doc, { TEMPORAL_DB_PASSWORD: 'x' }, new Set()) as ComposeFile;
    expect(withDefaults.services.temporal!.ports).toEqual(['127.0.0.1:7233:7233']);
    expect(withDefaults.services['temporal-ui']!.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(withDefaults.services.postgresql!.ports).toBeUndefined();
    expect(withDefaults.services['temporal-jwks']!.ports).toBeUndefined();
    expect(withDefaults.services.prometheus!.ports).toEqual(['127.0.0.1:9090:9090']);
  });

  it('closes Temporal: mutual TLS with a separate internode CA, JWT authorization, and the internal-frontend it needs', () => {
    const t = envOf(svc('temporal'));
    expect(t).toMatchObject({
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
      TEMPORAL_TLS_SERVER_CA_CERT: '/etc/temporal/tls/internode-ca.pem',
      TEMPORAL_TLS_CLIENT1_CA_CERT: '/etc/temporal/tls/ca.pem',
      TEMPORAL_TLS_CLIENT2_CA_CERT: '/etc/temporal/tls/ca.pem',
      TEMPORAL_AUTH_AUTHORIZER: 'default',
      TEMPORAL_AUTH_CLAIM_MAPPER: 'default',
      USE_INTERNAL_FRONTEND: 'true',
    });
    // The server stops at start without an internal-frontend once authorization is on, and it is not a default service.
    expect(t.SERVICES!.split(':').sort()).toEqual(['frontend', 'history', 'internal-frontend', 'matching', 'worker']);
    // Key sets are fetched over http only: from the sidecar on the temporal container's own loopback.
    const jwks = svc('temporal-jwks');
    expect(jwks.network_mode).toBe('service:temporal');
    expect(t.TEMPORAL_JWT_KEY_SOURCE1).toMatch(/^http:\/\/127\.0\.0\.1:(\d+)\/jwks\.json$/);
    expect(jwks.command).toContain(`127.0.0.1:${/:(\d+)\//.exec(t.TEMPORAL_JWT_KEY_SOURCE1!)![1]}`);
    expect(mounts(jwks)).toEqual([{ source: `${exampleEnv.SIGRELEASE_AUTH_DIR}/jwks`, target: '/srv/jwks', mode: 'ro' }]);
    // Every file the TLS variables name is in the one folder make-certs.sh writes for the server.
    const serverTls = mounts(svc('temporal')).find((m) => m.target === '/etc/temporal/tls');
    expect(serverTls).toEqual({ source: `${exampleEnv.SIGRELEASE_TLS_DIR}/server`, target: '/etc/temporal/tls', mode: 'ro' });
    const script = read('deploy', 'tls', 'make-certs.sh');
    for (const [k, v] of Object.entries(t).filter(([k]) => /^TEMPORAL_TLS_.*(CERT|KEY)$/.test(k))) {
      expect(v, k).toMatch(/^\/etc\/temporal\/tls\/[a-z-]+\.(pem|key)$/);
      expect(script, `make-certs.sh writes server/${path.basename(v)}`).toContain(`server/${path.basename(v)}`);
    }
  });

  it('gives each client its own certificate folder and token, and no service the CA keys or the signing keys', () => {
    const clients: Record<string, string> = { worker: 'worker', 'worker-control': 'worker', 'temporal-namespace': 'admin', 'temporal-ui': 'ui' };
    for (const [name, folder] of Object.entries(clients)) {
      const tlsMount = mounts(svc(name)).find((m) => m.source.startsWith(`${exampleEnv.SIGRELEASE_TLS_DIR}/`));
      expect(tlsMount, name).toMatchObject({ source: `${exampleEnv.SIGRELEASE_TLS_DIR}/${folder}`, mode: 'ro' });
      const env = envOf(svc(name));
      const paths = name === 'temporal-ui' ? [env.TEMPORAL_TLS_CA, env.TEMPORAL_TLS_CERT, env.TEMPORAL_TLS_KEY] : [env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, env.TEMPORAL_TLS_CLIENT_CERT_PATH, env.TEMPORAL_TLS_CLIENT_KEY_PATH];
      expect(paths.map((p) => path.basename(p ?? '')), name).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
      for (const p of paths) expect(path.dirname(p!), name).toBe(tlsMount!.target);
    }
    expect(envOf(svc('temporal-ui'))).toMatchObject({ TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true', TEMPORAL_TLS_SERVER_NAME: 'temporal' });
    for (const name of ['worker', 'worker-control']) {
      const env = envOf(svc(name));
      expect(mounts(svc(name))).toContainEqual({ source: `${exampleEnv.SIGRELEASE_AUTH_DIR}/tokens/worker.token`, target: env.SIGRELEASE_TEMPORAL_API_KEY_FILE, mode: 'ro' });
      expect(env.TEMPORAL_API_KEY).toBeUndefined(); // a token in the environment shows in `docker inspect`
    }
    const ns = envOf(svc('temporal-namespace'));
    expect(mounts(svc('temporal-namespace'))).toContainEqual({ source: `${exampleEnv.SIGRELEASE_AUTH_DIR}/tokens/admin.token`, target: ns.SIGRELEASE_ADMIN_TOKEN_FILE, mode: 'ro' });
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s)) {
        expect(m.source, name).not.toMatch(/\/ca(\/|$)|\/private(\/|$)/);
        if (m.source.startsWith(`${exampleEnv.SIGRELEASE_AUTH_DIR}`)) expect(m.source, name).toMatch(/\/(jwks|tokens\/[a-z]+\.token)$/);
      }
    }
  });

  it('passes the webhook secret from deploy/.env to the workers, never through the site config', () => {
    for (const name of ['worker', 'worker-control']) expect(envOf(svc(name))).toHaveProperty('SIGRELEASE_WEBHOOK_URL', '');
    expect(read('deploy', 'site.yaml')).not.toMatch(/^\s*webhookUrl:/m);
  });

  it('creates our namespace and registers exactly the Keyword search attributes the workflows write', () => {
    const script = read('deploy', 'temporal', 'create-namespace.sh');
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(registered.sort()).toEqual(Object.values(SEARCH_ATTRIBUTES).map((k) => `${k.name}=Keyword`).sort());
    expect(Object.values(SEARCH_ATTRIBUTES).every((k) => k.type === 'KEYWORD')).toBe(true);
    expect(script).toMatch(/--retention "\$retention"/);
    const ns = envOf(svc('temporal-namespace'));
    expect(ns.SIGRELEASE_NAMESPACE).toBe(envOf(svc('worker')).TEMPORAL_NAMESPACE);
    expect(ns.SIGRELEASE_RETENTION).toMatch(/^\d+d$/);
    expect(envOf(svc('temporal-ui')).TEMPORAL_DEFAULT_NAMESPACE).toBe(ns.SIGRELEASE_NAMESPACE);
  });

  it('sets up both databases with the postgres12 plugin in the schema job', () => {
    const script = read('deploy', 'temporal', 'setup-schema.sh');
    expect(script).toContain('--plugin postgres12');
    expect(script).toMatch(/for db in temporal temporal_visibility/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(script).toContain(step);
  });

  it('gives the compose-host worker the three trees and the site config, and the control replicas no trees', () => {
    const worker = svc('worker');
    const targets = Object.fromEntries(mounts(worker).map((m) => [m.target, m]));
    for (const t of ['/mnt/compose', '/mnt/repos-staging', '/mnt/repos-production']) expect(targets[t]?.mode, t).toBe('rw');
    expect(targets['/etc/sigrelease/site.yaml']).toMatchObject({ source: './deploy/site.yaml', mode: 'ro' });
    // Control replicas: the config and their credentials, none of the trees.
    expect(mounts(svc('worker-control')).map((m) => m.target)).toEqual(['/etc/sigrelease/site.yaml', '/etc/temporal-client/tls', '/etc/sigrelease/auth/worker.token', '/etc/sigrelease/approvers']);
    expect(worker.command).toEqual(['worker', '--queues', 'control,host', '--max-host-activities', '4', '--metrics-address', '0.0.0.0:9464']);
    expect(svc('worker-control').command).toEqual(['worker', '--queues', 'control', '--metrics-address', '0.0.0.0:9464']);
    expect(svc('worker-control').profiles).toEqual(['scale']);
    expect(envOf(worker)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', SIGRELEASE_SITE: '/etc/sigrelease/site.yaml' });
    expect(worker.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
  });

  it('gives every worker the allowed_signers the site config names, read-only, from a folder that ships an example', () => {
    const site = parseSite(parseYaml(read('deploy', 'site.yaml')), 'deploy/site.yaml');
    expect(site.approval).toMatchObject({ requireSignature: true, forbidSelfApproval: true });
    const file = site.approval.allowedSigners!;
    for (const name of ['worker', 'worker-control']) {
      // Decisions are verified by a quick activity on the control queue: any worker may run it.
      const m = mounts(svc(name)).find((v) => file.startsWith(`${v.target}/`));
      expect(m, `${name} mounts the folder of ${file}`).toMatchObject({ source: exampleEnv.SIGRELEASE_APPROVERS_DIR, mode: 'ro' });
      const shipped = at(m!.source, path.relative(m!.target, file));
      // Comments only: a fresh installation trusts nobody's key until the operator adds one.
      expect(read(path.relative(repo, shipped)).split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual([]);
    }
  });

  it('ships an example site config that parses, uses the mount points, splits the queues and owns files as the image user', () => {
    const site = parseSite(parseYaml(read('deploy', 'site.yaml')), 'deploy/site.yaml');
    expect([site.composeRoot, site.stagingRoot, site.productionRoot]).toEqual(['/mnt/compose', '/mnt/repos-staging', '/mnt/repos-production']);
    expect(site.temporal.hostTaskQueue).toBeTruthy(); // worker-control replicas have no mounts
    expect(site.temporal.namespace).toBe(exampleEnv.SIGRELEASE_NAMESPACE);
    const args = svc('worker').build!.args!;
    expect(site.owner).toEqual({ uid: Number(args.SIGRELEASE_UID), gid: Number(args.SIGRELEASE_GID) });
  });
});

describe('the worker image (Dockerfile, .dockerignore)', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds on a pinned Node 20 bookworm image of the version the tests run on', () => {
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(nodeImage).toMatch(/^node:20\.\d+\.\d+-bookworm(-slim)?$/);
    expect(nodeImage).toBe(`node:${process.versions.node}-bookworm-slim`);
    for (const from of lines.filter((l) => l.startsWith('FROM '))) expect(from).toMatch(/^FROM (\$\{NODE_IMAGE\}|deps) AS \w+$/);
  });

  it('installs the repository tools, production dependencies only, and prebuilds the workflow bundle', () => {
    const apt = /apt-get install[^\n]*\\\n([^\n]+)/.exec(dockerfile)?.[1]?.trim().split(/\s+/) ?? [];
    for (const pkg of ['rsync', 'dnf', 'dnf-plugins-core', 'createrepo-c', 'rpm', 'util-linux', 'gpg', 'gpg-agent', 'ca-certificates']) expect(apt).toContain(pkg);
    expect(dockerfile).toContain('--no-install-recommends');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    // tsx runs the sources at run time, so it must be a production dependency.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx).toBeTruthy();
    expect(pkg.dependencies['@temporalio/worker']).toBeTruthy(); // bundleWorkflowCode (webpack) in the bundle stage
    expect(dockerfile).toMatch(/RUN node --import tsx deploy\/bundle-workflows\.ts \/app\/dist\/workflow-bundle\.js/);
    expect(dockerfile).toMatch(/SIGRELEASE_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    for (const dir of ['bin', 'src', 'workflows', 'activities', 'config']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
  });

  it('runs as a non-root user with the sigrelease command as entrypoint', () => {
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBe('USER sigrelease:sigrelease');
    expect(dockerfile).toMatch(/ARG SIGRELEASE_UID=10004/);
    expect(dockerfile).toMatch(/ARG SIGRELEASE_GID=10005/);
    expect(lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["/app/bin/sigrelease"]');
    expect(dockerfile).not.toMatch(/^VOLUME/m); // mounts come from the compose file, not anonymous volumes
  });

  it('keeps the build context small and free of secrets', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['.git', 'node_modules', 'test', 'deploy/.env']) expect(ignored).toContain(p);
    for (const p of ['src', 'workflows', 'activities', 'config', 'bin', 'package-lock.json']) expect(ignored).not.toContain(p);
    // Every source the CLI imports at start-up is in the image (src/cli/demo.ts loads the fixture builder).
    const imported = [...read('src', 'cli', 'demo.ts').matchAll(/^import [^;]*from '\.\.\/\.\.\/(test\/[^']+)\.js'/gm)].map((m) => m[1]!);
    for (const file of imported) {
      const dir = path.dirname(file);
      expect(ignored, `${file} is imported by the CLI`).toContain(`!${dir}`);
      expect(dockerfile, `${file} is imported by the CLI`).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
    }
  });
});

// ---- Checks that need something installed; each says how to get it and is skipped without it.

/** The compose-spec schema as shipped by the `dclint` package (schemas/compose.schema.json), or $SIGRELEASE_COMPOSE_SCHEMA. */
function composeSchemaPath(): string | null {
  if (process.env.SIGRELEASE_COMPOSE_SCHEMA) return process.env.SIGRELEASE_COMPOSE_SCHEMA;
  try {
    const pkg = createRequire(import.meta.url).resolve('dclint/package.json');
    const file = path.join(path.dirname(pkg), 'schemas', 'compose.schema.json');
    return fs.existsSync(file) ? file : null;
  } catch {
    return null;
  }
}
async function loadAjv(): Promise<(new (opts: object) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null } }) | null> {
  try {
    const mod = (await import('ajv')) as unknown as { default: never };
    return mod.default;
  } catch {
    return null;
  }
}
const schemaFile = composeSchemaPath();
const Ajv = await loadAjv();

describe('docker-compose.yml against the compose-spec JSON schema', () => {
  it.runIf(schemaFile && Ajv)('is valid as written and as interpolated (schema from dclint, validated with ajv)', () => {
    // The file names draft-07 by its https URL, which ajv does not know by that name: drop the marker.
    const { $schema: _draft, ...schema } = JSON.parse(fs.readFileSync(schemaFile!, 'utf8')) as Record<string, unknown>;
    const validate = new Ajv!({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
    for (const [what, data] of [['as written', doc], ['interpolated', compose]] as const) {
      const ok = validate(data);
      expect(ok ? [] : validate.errors, what).toEqual([]);
    }
    // The schema is strict enough to notice a typo.
    const broken = structuredClone(compose) as ComposeFile;
    (broken.services.temporal as Record<string, unknown>).healthchek = {};
    expect(validate(broken)).toBe(false);
  });
});

const which = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim() || null;
const dockerCompose = which('docker-compose');

describe('docker-compose.yml through Debian docker-compose 1.29 (apt-get install --no-install-recommends docker-compose)', () => {
  it.runIf(dockerCompose)('renders and validates with `config -q`, with and without the scale profile, no daemon needed', () => {
    for (const extra of [[], ['--profile', 'scale']]) {
      const r = spawnSync(dockerCompose!, ['--env-file', at('deploy/.env.example'), '-f', at('docker-compose.yml'), ...extra, 'config', '-q'], {
        encoding: 'utf8',
        cwd: repo,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
      });
      expect(`${r.status} ${r.stderr}`).toBe('0 ');
    }
  });

  it.runIf(dockerCompose)('refuses to render without the database password', () => {
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-env-')), 'empty.env');
    fs.writeFileSync(empty, '');
    const r = spawnSync(dockerCompose!, ['--env-file', empty, '-f', at('docker-compose.yml'), 'config', '-q'], {
      encoding: 'utf8',
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/TEMPORAL_DB_PASSWORD/);
  });
});

const serverBin = path.join(temporalServerDir(), 'temporal-server');
describe('the production dynamic config (scripts/build-temporal-server.sh builds the validator)', () => {
  it.runIf(fs.existsSync(serverBin))('has only keys and value types that temporal-server 1.29.1 knows', () => {
    const r = spawnSync(serverBin, ['validate-dynamic-config', at('deploy/temporal/dynamicconfig/sigrelease.yaml')], { encoding: 'utf8' });
    expect(`${r.status}\n${r.stdout}${r.stderr}`).toBe(`0\n${at('deploy/temporal/dynamicconfig/sigrelease.yaml')}\n`);
  });
});
