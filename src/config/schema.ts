// One place that says what a valid SIG catalogue entry, site config and release request look like.
// Every name that ends up in a path or a command line is checked here, before anything runs.
import { z } from 'zod';
import { FILE_LIST_LEVELS } from '../filelists/levels.js';
import { durationMs, isDuration } from '../../workflows/duration.js';
import { PRINCIPAL } from '../../workflows/signedMessages.js';
import { rootLayoutProblems } from './roots.js';
import { metricsAddressProblem } from '../metrics/address.js';
import { lifecycleRequestFields, lifecycleRequestProblems } from '../lifecycle/request.js';

/** Names that become path segments or dnf repo ids: no slashes, no dots-only, no shell metacharacters. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
export const safeName = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(100, `${what} is longer than 100 characters`)
    .regex(SAFE_NAME, `${what} may only contain letters, digits and . _ + - (and must not start with one of . _ + -)`);

export const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x', 'i686', 'riscv64'] as const;
export const archSchema = z.enum(ARCHES, { error: (iss) => `unknown arch ${JSON.stringify(iss.input)}; known: ${ARCHES.join(', ')}` });
export type Arch = z.infer<typeof archSchema>;

const httpUrl = z.string().regex(/^(https?|file):\/\/\S+$/, 'must be an http(s):// or file:// URL');

export const repoEntrySchema = z.strictObject({
  arches: z.array(archSchema).min(1, 'a repo needs at least one arch'),
  /** Overrides the SIG's project for this repo only (the seed's `subproject`, which never took effect). */
  projectId: safeName('projectId').optional(),
});

export const sigReleaseEntrySchema = z.strictObject({
  projectId: safeName('projectId'),
  repos: z.record(safeName('repo name'), repoEntrySchema).refine((r) => Object.keys(r).length > 0, 'a SIG release needs at least one repo'),
  /** GPG key URLs: imported before a checked reposync and placed next to each synced repo. */
  gpgKeys: z.array(httpUrl).default([]),
  /** Extra files (the SIG's public key, ...) fetched from `extraFiles.baseUrl` into `<sig>/metadata/`. */
  extraFiles: z
    .strictObject({
      baseUrl: httpUrl,
      files: z.array(z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9_./+-]+$/, 'must be a relative path without ..')),
    })
    .optional(),
  /**
   * Folders of the SIG's tree that exist only in production (the seed's `additional_dirs`, e.g. AltArch's
   * `images`): no compose has them, so the production sync must never delete them or anything under them.
   */
  productionOnlyDirs: z.array(safeName('productionOnlyDirs entry')).default([]),
});
export type SigReleaseEntry = z.infer<typeof sigReleaseEntrySchema>;

export const sigFileSchema = z.strictObject({
  sig: safeName('sig'),
  /** Display name, e.g. "Core" in RPM-GPG-KEY-Rocky-SIG-Core. */
  name: z.string().min(1),
  releases: z.record(z.string().regex(/^[0-9]+$/, 'release keys are major versions such as "9"'), sigReleaseEntrySchema),
});
export type SigFile = z.infer<typeof sigFileSchema>;

// The same grammar as the runtime options and the workflows read (workflows/duration.ts).
const duration = z.string().refine((v) => isDuration(v), 'must be a duration such as "30s", "10m", "3d"');

const rootPath = z.string().startsWith('/', 'must be an absolute path').refine((p) => !p.split('/').includes('..'), 'must not contain .. segments');
const filePath = rootPath;
export const siteSchema = z.strictObject({
  composeRoot: rootPath,
  stagingRoot: rootPath,
  productionRoot: rootPath,
  /** yumrepofs, e.g. https://yumrepofs.build.resf.org/v1/projects (no trailing slash). */
  repoBaseUrl: httpUrl,
  /** Rewrites applied to every catalogue URL (keys, extra files): lets a test or an air-gapped site point at a local copy. */
  urlRewrites: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).default([]),
  releases: z.record(z.string().regex(/^[0-9]+$/), z.strictObject({ revision: z.string().regex(/^[0-9]+\.[0-9]+$/, 'must look like 9.7') })),
  owner: z.strictObject({ uid: z.number().int().nonnegative(), gid: z.number().int().nonnegative() }).nullable().default(null),
  compose: z
    .strictObject({
      /** How many reposync tasks run at once (the seed runs one repo's tasks together). */
      parallelism: z.number().int().min(1).max(64).default(9),
      repoclosure: z.boolean().default(false),
      /**
       * Repositories that repoclosure may resolve dependencies from without checking them (the SIG builds
       * against BaseOS/AppStream, so a real SIG never closes on its own). dnf fills in `$releasever` and
       * `$basearch` for each checked arch, e.g. https://dl.rockylinux.org/pub/rocky/$releasever/BaseOS/$basearch/os/
       */
      repoclosureLookaside: z
        .array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . -'), baseUrl: httpUrl }))
        .default([])
        .refine((l) => new Set(l.map((r) => r.name)).size === l.length, 'names must be unique'),
      gpgCheck: z.boolean().default(true),
      repoGpgCheck: z.boolean().default(true),
      /**
       * How many dated composes of each SIG and release `sigrelease prune` keeps (newest first); composes that
       * latest, staging, production or a running release use are kept besides these.
       */
      keep: z.number().int().min(1, 'must keep at least 1 compose').max(1000).default(5),
      /** Source metadata (repomd.xml) older than this is flagged at the gate and in `status`. */
      staleAfter: duration.default('7d'),
    })
    .prefault({}),
  publish: z
    .strictObject({
      /** Largest share of the target's files that one sync may delete without an explicit override. */
      maxDeleteShare: z.number().min(0).max(1).default(0.1),
      maxDeleteCount: z.number().int().nonnegative().optional(),
      /**
       * Levels at which file lists are written, as the seed does (src/filelists/levels.ts): the sig category is
       * always written; `root` (the production root's lists, covering rocky, sig and vault) by default; `rocky`
       * (the rocky category, mirror/pub/rocky) when asked.
       */
      fileListLevels: z.array(z.enum(FILE_LIST_LEVELS)).default(['sig', 'root']),
      /**
       * How long production keeps what left staging (superseded packages and metadata blobs) after the new
       * repomd.xml files are live: a client that read the old repomd.xml a moment earlier still finds the files
       * it names (reference/mirror-file-lists.md §3). A durable workflow timer; "0s" deletes at once.
       */
      metadataGrace: duration.default('5m'),
    })
    .prefault({}),
  approval: z
    .strictObject({
      approvers: z.array(z.string().regex(PRINCIPAL, 'must be a principal name: letters, digits and ._@-, at most 64 characters')).default([]),
      // At least an hour: reminders go to people (tests shorten it through the run's runtime options only).
      reminderInterval: duration.default('1d').refine((v) => durationMs(v) >= 3_600_000, 'must be at least 1h'),
      expireAfter: duration.default('14d'),
      /** Only decisions signed with `ssh-keygen -Y sign -n sigrelease-decision` by a key in allowedSigners count. */
      requireSignature: z.boolean().default(false),
      /** OpenSSH allowed_signers file: `<principal> <key type> <key>` per line; the principal is the approver's name. */
      allowedSigners: rootPath.optional(),
      /** Whoever started a run (its signed start) may not approve it; an unsigned start cannot be approved at all. */
      forbidSelfApproval: z.boolean().default(false),
    })
    .prefault({})
    .refine((a) => !a.requireSignature || a.allowedSigners !== undefined, { message: 'requireSignature needs allowedSigners (an OpenSSH allowed_signers file)', path: ['allowedSigners'] }),
  lock: z
    .strictObject({
      /**
       * How long one run may hold the production lock; after it the next waiter is granted, the holder is told,
       * and the fence (src/lock/fence.ts) refuses the old holder's writes. Production syncs are far shorter.
       */
      lease: duration.default('3d').refine((v) => durationMs(v) >= 1000, 'must be at least 1s'),
      /** Who may force the lock from its holder (`sigrelease lock force-release`); empty: nobody. */
      operators: z.array(z.string().regex(PRINCIPAL, 'must be a principal name: letters, digits and ._@-, at most 64 characters')).default([]),
    })
    .prefault({}),
  notifications: z
    .strictObject({
      /**
       * Refused: every CLI user reads the site file, and the webhook URL carries the hook's secret. The worker
       * takes it from SIGRELEASE_WEBHOOK_URL or from `webhookUrlFile` (src/config/secrets.ts).
       */
      webhookUrl: z
        .unknown()
        .optional()
        .refine((v) => v === undefined, 'the webhook URL is a secret and must not be in the site file, which every CLI user reads; set SIGRELEASE_WEBHOOK_URL in the worker\'s environment or put it in a file only the worker\'s user can read and name that file in notifications.webhookUrlFile'),
      /** A file holding the webhook URL; it must be readable by its owner (root or the worker's user) only. */
      webhookUrlFile: filePath.optional(),
    })
    .prefault({}),
  temporal: z
    .strictObject({
      address: z.string().default('127.0.0.1:7233'),
      namespace: z.string().default('default'),
      taskQueue: z.string().min(1, 'must not be empty').default('sigrelease'),
      /** Queue served only by the worker that has the compose/staging/production mounts. */
      hostTaskQueue: z.string().optional(),
      /**
       * Mutual TLS to the frontend. `ca` verifies the server; `cert` + `key` are this client's certificate (usually
       * per person or per worker, so they are often set through TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH instead).
       */
      tls: z
        .strictObject({
          ca: filePath,
          cert: filePath.optional(),
          key: filePath.optional(),
          /** The name checked against the server certificate when it differs from the dialled host. */
          serverName: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name').optional(),
        })
        .refine((t) => (t.cert === undefined) === (t.key === undefined), 'cert and key go together: set both or neither')
        .optional(),
      /** A file holding this client's JWT (Temporal authorization); TEMPORAL_API_KEY in the environment wins. */
      apiKeyFile: filePath.optional(),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Prometheus exporter of `sigrelease worker` (IP:PORT, e.g. 0.0.0.0:9464); unset: none. --metrics-address wins. */
      address: z
        .string()
        .superRefine((a, ctx) => {
          const problem = metricsAddressProblem(a);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional(),
    })
    .prefault({}),
}).superRefine((site, ctx) => {
  // Checked only once each root is a valid path; a nested root would let one tree's --delete reach another.
  if (![site.composeRoot, site.stagingRoot, site.productionRoot].every((p) => typeof p === 'string')) return;
  for (const message of rootLayoutProblems(site)) ctx.addIssue({ code: 'custom', message, path: ['roots'], input: undefined });
});
export type SiteConfig = z.infer<typeof siteSchema>;

/** The `sync_sig` flags people already know, plus what the pipeline adds. */
export const releaseRequestSchema = z.strictObject({
  release: z.string({ error: 'release must be a string such as "9"' }).regex(/^[0-9]+$/, 'release must be a major version such as "9"'),
  sig: safeName('sig'),
  repos: z.array(safeName('repo')).optional(),
  arches: z.array(z.enum([...ARCHES, 'source'], { error: (iss) => `unknown arch ${JSON.stringify(iss.input)}; known: ${[...ARCHES, 'source'].join(', ')}` })).optional(),
  hashed: z.boolean().default(false),
  cleanOldPackages: z.boolean().default(false),
  fullRun: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  ignoreDebug: z.boolean().default(false),
  ignoreSource: z.boolean().default(false),
  refreshExtraFiles: z.boolean().default(false),
  /** Run `dnf repoclosure` over this compose even when the site does not (the seed's flag, which did nothing). */
  repoclosure: z.boolean().default(false),
  disableGpgCheck: z.boolean().default(false),
  disableRepoGpgCheck: z.boolean().default(false),
  composeOnly: z.boolean().default(false),
  allowLargeDeletion: z.boolean().default(false),
  requestedBy: z.string().optional(),
  ...lifecycleRequestFields,
})
  .refine((r) => !(r.fullRun && r.dryRun), { message: '--full-run and --dry-run cannot be combined (a dry run never creates a compose)', path: ['dryRun'] })
  .superRefine(lifecycleRequestProblems);
export type ReleaseRequestInput = z.input<typeof releaseRequestSchema>;
export type ReleaseRequest = z.output<typeof releaseRequestSchema>;

/** Fields whose value is a secret: named, never echoed. */
const SECRET_FIELDS = /webhookUrl/i;

/** Turns a zod error into one line per problem: `<where>: <field>: <reason> (got <value>)` (parse with `reportInput: true`). */
export function describeZodError(where: string, err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const field = i.path.length ? i.path.join('.') : '(top level)';
      const input = (i as { input?: unknown }).input;
      const shown = input === undefined || (typeof input === 'object' && input !== null) || SECRET_FIELDS.test(field) ? '' : ` (got ${JSON.stringify(input)})`;
      return `${where}: ${field}: ${i.message}${shown}`;
    })
    .join('\n');
}
