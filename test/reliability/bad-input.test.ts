// Bad input, everywhere it enters: a release request (CLI flags and `startRelease`, a `temporal workflow start
// --input` JSON reaching the workflow's resolveRelease activity, a schedule), the runtime knobs, the site YAML, the
// SIG catalogue YAML and the schedule arguments. Every case is refused before anything is touched (no workflow
// started, no schedule built, no file written) with a message that names the field and the offending value.
// No tool ever gets a shell (execa with argument arrays), so the metacharacters below are names to refuse, not
// commands that could run; they are refused because a name becomes a path segment and a dnf repo id.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { createReleaseActivities } from '../../activities/release.js';
import { scheduleInputFromFlags } from '../../src/cli/schedule.js';
import { startRelease } from '../../src/client.js';
import { checkRequest } from '../../src/config/request.js';
import { loadCatalogue, loadSite, parseSite } from '../../src/config/load.js';
import { parseDaysOfWeek, parseTimeOfDay, prepareSchedule } from '../../src/schedules.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';

const catalogue = loadCatalogue();
const siteRaw = {
  composeRoot: '/srv/sigrelease-test/compose',
  stagingRoot: '/srv/sigrelease-test/staging',
  productionRoot: '/srv/sigrelease-test/production',
  repoBaseUrl: 'http://127.0.0.1:9/v1/projects',
  releases: { '8': { revision: '8.10' }, '9': { revision: '9.7' }, '10': { revision: '10.0' } },
};
const site = parseSite(siteRaw);
const STAMP = '20260101.000000';

/** The message must name the field and show the value (as typed, or JSON-quoted); an empty value must be called empty or "". */
function expectNamed(message: string, field: string | RegExp, value: string | null) {
  if (typeof field === 'string') expect(message.toLowerCase(), `names the field ${field}`).toContain(field.toLowerCase());
  else expect(message, `names the field ${field}`).toMatch(field);
  if (value === null) return;
  if (value === '') expect(message, 'says the value is empty').toMatch(/empty|""/);
  else expect(message.includes(value) || message.includes(JSON.stringify(value)), `shows the value ${JSON.stringify(value)} in: ${message}`).toBe(true);
}

/** A client whose `workflow.start` only records: starting anything at all fails the case. */
function recordingClient() {
  const started: unknown[] = [];
  const client = {
    workflow: {
      start: async (...args: unknown[]) => {
        started.push(args);
        return { workflowId: 'started-although-refused' };
      },
      getHandle: () => ({ describe: async () => null }),
    },
  } as unknown as Client;
  return { client, started };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal, but it was accepted');
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal, but it was accepted');
}

// ---------------------------------------------------------------------------------------------------------
// Release requests: one row per bad value, checked at every entry point.

interface RequestCase {
  name: string;
  request: Record<string, unknown>;
  field: string | RegExp;
  value: string | null;
}

const base = { release: '9', sig: 'core' };
const nameCases = (field: 'sig' | 'release' | 'repos' | 'arches', label: string): RequestCase[] => {
  const bad = ['../etc', '/etc/passwd', 'core;rm -rf /', '$(touch /tmp/pwned)', '`id`', 'core extra', 'core\nrm -rf /'];
  const only = field === 'release' ? ['../9', '/9', '9;reboot', '9$(id)', '9 ', '9\n'] : bad;
  return only.map((v) => ({
    name: `${label} ${JSON.stringify(v)}`,
    request: field === 'repos' || field === 'arches' ? { ...base, [field]: [v] } : { ...base, [field]: v },
    field: field === 'repos' ? 'repo' : field === 'arches' ? 'arch' : field,
    value: v,
  }));
};

const REQUEST_CASES: RequestCase[] = [
  // Unknown names: the message lists what is known.
  { name: 'unknown SIG', request: { ...base, sig: 'nosuchsig' }, field: 'sig', value: 'nosuchsig' },
  { name: 'unknown release of a known SIG', request: { ...base, release: '7' }, field: 'release', value: '7' },
  { name: 'unknown repo', request: { ...base, repos: ['core-nope'] }, field: 'repo', value: 'core-nope' },
  { name: 'unknown arch', request: { ...base, arches: ['sparc'] }, field: 'arch', value: 'sparc' },
  { name: 'arch the SIG does not build (i686 for core 9)', request: { ...base, arches: ['i686'] }, field: 'arch', value: 'i686' },
  // Empty values.
  { name: 'empty SIG', request: { ...base, sig: '' }, field: 'sig', value: '' },
  { name: 'empty release', request: { ...base, release: '' }, field: 'release', value: '' },
  { name: 'empty repo name', request: { ...base, repos: [''] }, field: 'repo', value: '' },
  { name: 'empty arch', request: { ...base, arches: [''] }, field: 'arch', value: '' },
  { name: 'SIG longer than 100 characters', request: { ...base, sig: 'c'.repeat(101) }, field: 'sig', value: null },
  // Path traversal, absolute paths and shell metacharacters in every name field.
  ...nameCases('sig', 'SIG'),
  ...nameCases('release', 'release'),
  ...nameCases('repos', 'repo'),
  ...nameCases('arches', 'arch'),
  // Conflicting options.
  { name: '--full-run with --dry-run', request: { ...base, fullRun: true, dryRun: true }, field: /full-run.*dry-run|fullRun.*dryRun/s, value: null },
  { name: 'only the source arch but --ignore-source (nothing to sync)', request: { ...base, arches: ['source'], ignoreSource: true }, field: /--arch|--ignore-source|nothing to sync/, value: null },
  // Wrong types, as a hand-written JSON input carries them.
  { name: 'release as a number', request: { ...base, release: 10 }, field: 'release', value: '10' },
  { name: 'SIG as a number', request: { ...base, sig: 42 }, field: 'sig', value: '42' },
  { name: 'fullRun as the string "yes"', request: { ...base, fullRun: 'yes' }, field: 'fullRun', value: 'yes' },
  { name: 'dryRun as the string "false"', request: { ...base, dryRun: 'false' }, field: 'dryRun', value: 'false' },
  { name: 'hashed as 1', request: { ...base, hashed: 1 }, field: 'hashed', value: '1' },
  { name: 'arches as a string, not a list', request: { ...base, arches: 'x86_64' }, field: 'arches', value: 'x86_64' },
  { name: 'repos with a number', request: { ...base, repos: [7] }, field: 'repos', value: '7' },
  { name: 'requestedBy as a number', request: { ...base, requestedBy: 5 }, field: 'requestedBy', value: '5' },
  { name: 'unknown key (a typo of fullRun)', request: { ...base, fullrun: true }, field: 'fullrun', value: null },
  { name: 'unknown key with a shell command as its name', request: { ...base, '$(reboot)': true }, field: '$(reboot)', value: null },
];

/** The request as a schedule input (schedule keys are separate; the mode decides composeOnly). */
const asSchedule = (request: Record<string, unknown>) => ({ ...request, mode: 'compose-only' }) as Parameters<typeof prepareSchedule>[2];

describe('a bad release request is refused with the field and the value, whatever the entry point', () => {
  it('has at least 40 request cases', () => {
    expect(REQUEST_CASES.length).toBeGreaterThanOrEqual(40);
  });

  describe.each(REQUEST_CASES)('$name', ({ request, field, value }) => {
    it('`sigrelease start` / startRelease: refused before any workflow starts', async () => {
      const { client, started } = recordingClient();
      const err = await rejected(startRelease(client, site, catalogue, request));
      expectNamed(err.message, field, value);
      expect(started).toEqual([]);
    });

    it('`temporal workflow start --input` / the resolveRelease activity: a non-retryable BadRequest', async () => {
      const acts = createReleaseActivities({ site, catalogue });
      const err = await rejected(acts.resolveRelease({ request, stamp: STAMP }));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('BadRequest');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expectNamed(err.message, field, value);
    });

    it('`sigrelease schedule create` / prepareSchedule: no schedule is built', () => {
      const err = thrown(() => prepareSchedule(site, catalogue, asSchedule(request)));
      expectNamed(err.message, field, value);
    });
  });

  it.each([
    ['a JSON string', '9'],
    ['null', null],
    ['a list', ['9', 'core']],
    ['a number', 9],
  ])('refuses a request that is %s rather than an object, showing what it got', async (_label, raw) => {
    const { client, started } = recordingClient();
    const err = await rejected(startRelease(client, site, catalogue, raw as never));
    expect(err.message).toMatch(/must be a JSON object/);
    expect(err.message).toContain(JSON.stringify(raw));
    expect(started).toEqual([]);
    const viaActivity = await rejected(createReleaseActivities({ site, catalogue }).resolveRelease({ request: raw, stamp: STAMP }));
    expect((viaActivity as ApplicationFailure).type).toBe('BadRequest');
  });

  it('refuses a runtime key smuggled into the request itself', async () => {
    const { client, started } = recordingClient();
    const err = await rejected(startRelease(client, site, catalogue, { ...base, runtime: { approval: { expireAfter: '1s' } } }));
    expectNamed(err.message, 'runtime', null);
    expect(started).toEqual([]);
  });

  it('refuses a release the site has no revision for, naming the release', () => {
    const noTen = parseSite({ ...siteRaw, releases: { '9': { revision: '9.7' } } });
    expectNamed(thrown(() => checkRequest({ release: '10', sig: 'core' }, catalogue, noTen)).message, 'release', '10');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Runtime knobs (durations and attempts the tests shorten): checked when the run starts, not at the gate
// days later, where a bad duration would fail the release after compose and staging.

const RUNTIME_CASES: Array<{ name: string; runtime: unknown; field: string; value: string | null }> = [
  { name: 'approval deadline that is not a duration', runtime: { approval: { expireAfter: 'forever' } }, field: 'expireAfter', value: 'forever' },
  { name: 'reminder interval with an unknown unit', runtime: { approval: { reminderInterval: '3 fortnights' } }, field: 'reminderInterval', value: '3 fortnights' },
  { name: 'heartbeat timeout that is not a duration', runtime: { timeouts: { heartbeat: '5 parsecs' } }, field: 'heartbeat', value: '5 parsecs' },
  { name: 'negative maxAttempts', runtime: { timeouts: { maxAttempts: -1 } }, field: 'maxAttempts', value: '-1' },
  { name: 'maxAttempts as a string', runtime: { timeouts: { maxAttempts: 'three' } }, field: 'maxAttempts', value: 'three' },
  { name: 'unknown runtime key', runtime: { approvals: {} }, field: 'approvals', value: null },
];

describe('bad runtime options are refused before the run starts', () => {
  it.each(RUNTIME_CASES)('$name', async ({ runtime, field, value }) => {
    const { client, started } = recordingClient();
    const err = await rejected(startRelease(client, site, catalogue, { ...base }, { runtime: runtime as RuntimeOptions }));
    expectNamed(err.message, field, value);
    expect(started).toEqual([]);
  });

  it.each(RUNTIME_CASES)('in a schedule: $name', ({ runtime, field, value }) => {
    const err = thrown(() => prepareSchedule(site, catalogue, { ...asSchedule(base), runtime: runtime as RuntimeOptions }));
    expectNamed(err.message, field, value);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The site YAML (temp files): the file, the field and the value.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bad-input-'));
function siteFile(name: string, content: unknown): string {
  const file = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(file, typeof content === 'string' ? content : YAML.stringify(content));
  return file;
}

const SITE_CASES: Array<{ name: string; content: unknown; field: string | RegExp; value: string | null }> = [
  { name: 'not YAML at all', content: 'composeRoot: [unclosed\n  - : :\n', field: /not valid YAML/, value: null },
  { name: 'a list instead of a mapping', content: '- composeRoot\n- stagingRoot\n', field: /top level/, value: null },
  { name: 'relative composeRoot', content: { ...siteRaw, composeRoot: 'mnt/compose' }, field: 'composeRoot', value: 'mnt/compose' },
  { name: 'stagingRoot climbing out with ..', content: { ...siteRaw, stagingRoot: '../staging' }, field: 'stagingRoot', value: '../staging' },
  { name: 'productionRoot with .. segments', content: { ...siteRaw, productionRoot: '/srv/../etc' }, field: 'productionRoot', value: '/srv/../etc' },
  { name: 'repoBaseUrl that is not http(s)', content: { ...siteRaw, repoBaseUrl: 'ftp://example.org/v1' }, field: 'repoBaseUrl', value: 'ftp://example.org/v1' },
  { name: 'release revision without a minor', content: { ...siteRaw, releases: { '9': { revision: '9' } } }, field: 'revision', value: '9' },
  { name: 'release key that is not a number', content: { ...siteRaw, releases: { nine: { revision: '9.7' } } }, field: 'releases', value: 'nine' },
  { name: 'negative owner uid', content: { ...siteRaw, owner: { uid: -1, gid: 5 } }, field: 'uid', value: '-1' },
  { name: 'owner uid as a string', content: { ...siteRaw, owner: { uid: 'root', gid: 5 } }, field: 'uid', value: 'root' },
  { name: 'parallelism 0', content: { ...siteRaw, compose: { parallelism: 0 } }, field: 'parallelism', value: '0' },
  { name: 'gpgCheck as "yes"', content: { ...siteRaw, compose: { gpgCheck: 'yes' } }, field: 'gpgCheck', value: 'yes' },
  { name: 'maxDeleteShare above 1', content: { ...siteRaw, publish: { maxDeleteShare: 2 } }, field: 'maxDeleteShare', value: '2' },
  { name: 'metadataGrace in words', content: { ...siteRaw, publish: { metadataGrace: 'a while' } }, field: 'metadataGrace', value: 'a while' },
  { name: 'lookaside repo name with a space', content: { ...siteRaw, compose: { repoclosureLookaside: [{ name: 'base os', baseUrl: 'https://example.org/$basearch/' }] } }, field: 'name', value: 'base os' },
  { name: 'lookaside repo URL that is not a URL', content: { ...siteRaw, compose: { repoclosureLookaside: [{ name: 'baseos', baseUrl: 'example.org/BaseOS' }] } }, field: 'baseUrl', value: 'example.org/BaseOS' },
  { name: 'expireAfter in an unknown unit', content: { ...siteRaw, approval: { expireAfter: '2 fortnights' } }, field: 'expireAfter', value: '2 fortnights' },
  { name: 'empty task queue', content: { ...siteRaw, temporal: { taskQueue: '' } }, field: 'taskQueue', value: '' },
  { name: 'unknown key (typo)', content: { ...siteRaw, composeroot: '/x' }, field: 'composeroot', value: null },
  // The webhook URL carries the hook's secret: the message names the field but need not repeat the value.
  { name: 'webhook URL that is not a URL', content: { ...siteRaw, notifications: { webhookUrl: 'hooks/s3cr3t' } }, field: 'webhookUrl', value: null },
];

describe('a bad site YAML is refused with the file, the field and the value', () => {
  it.each(SITE_CASES)('$name', ({ name, content, field, value }) => {
    const file = siteFile(name.replace(/\W+/g, '-'), content);
    const err = thrown(() => loadSite(file));
    expect(err.message).toContain(file);
    expectNamed(err.message, field, value);
  });

  it('a missing site file', () => {
    const file = path.join(tmp, 'no-such-site.yaml');
    expect(thrown(() => loadSite(file)).message).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}: cannot read`));
  });
});

// ---------------------------------------------------------------------------------------------------------
// The SIG catalogue YAML (temp folders).

const coreEntry = () => YAML.parse(fs.readFileSync(new URL('../../config/sigs/core.yaml', import.meta.url), 'utf8')) as { sig: string; name: string; releases: Record<string, any> };
function catalogueDir(name: string, files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(tmp, `cat-${name.replace(/\W+/g, '-')}-`));
  for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), typeof content === 'string' ? content : YAML.stringify(content));
  return dir;
}
const withRelease9 = (patch: (r: any) => void) => {
  const c = coreEntry();
  patch(c.releases['9']);
  return c;
};

const SIG_CASES: Array<{ name: string; files: Record<string, unknown>; field: string | RegExp; value: string | null }> = [
  { name: 'not YAML', files: { 'core.yaml': 'sig: core\nreleases: {9: [\n' }, field: /not valid YAML/, value: null },
  { name: 'sig that does not match the file name', files: { 'core.yaml': { ...coreEntry(), sig: 'cloud' } }, field: 'sig', value: 'cloud' },
  { name: 'sig with path traversal', files: { 'evil.yaml': { ...coreEntry(), sig: '../evil' } }, field: 'sig', value: '../evil' },
  { name: 'repo name with path traversal', files: { 'core.yaml': withRelease9((r) => (r.repos['../../etc'] = { arches: ['x86_64'] })) }, field: 'repo', value: '../../etc' },
  { name: 'repo name with a shell command', files: { 'core.yaml': withRelease9((r) => (r.repos['core;reboot'] = { arches: ['x86_64'] })) }, field: 'repo', value: 'core;reboot' },
  { name: 'unknown arch', files: { 'core.yaml': withRelease9((r) => (r.repos['core-common'].arches = ['sparc'])) }, field: 'arch', value: 'sparc' },
  { name: 'projectId with a shell command', files: { 'core.yaml': withRelease9((r) => (r.projectId = 'abc$(id)')) }, field: 'projectId', value: 'abc$(id)' },
  { name: 'GPG key URL that is not http(s) or file', files: { 'core.yaml': withRelease9((r) => (r.gpgKeys = ['javascript:alert(1)'])) }, field: 'gpgKeys', value: 'javascript:alert(1)' },
  { name: 'extra file climbing out with ..', files: { 'core.yaml': withRelease9((r) => (r.extraFiles.files = ['../../etc/passwd'])) }, field: 'files', value: '../../etc/passwd' },
  { name: 'extra file with an absolute path', files: { 'core.yaml': withRelease9((r) => (r.extraFiles.files = ['/etc/passwd'])) }, field: 'files', value: '/etc/passwd' },
  { name: 'release key that is not a number', files: { 'core.yaml': { ...coreEntry(), releases: { nine: coreEntry().releases['9'] } } }, field: 'releases', value: 'nine' },
  { name: 'a release without repos', files: { 'core.yaml': withRelease9((r) => (r.repos = {})) }, field: 'repos', value: null },
  { name: 'unknown key', files: { 'core.yaml': withRelease9((r) => (r.subproject = 'x')) }, field: 'subproject', value: null },
];

describe('a bad SIG catalogue file is refused with the file, the field and the value', () => {
  it.each(SIG_CASES)('$name', ({ files, field, value }) => {
    const dir = catalogueDir('case', files);
    const err = thrown(() => loadCatalogue(dir));
    expect(err.message).toContain(path.join(dir, Object.keys(files)[0]!));
    expectNamed(err.message, field, value);
  });

  it('an empty catalogue folder', () => {
    const dir = catalogueDir('empty', {});
    expect(thrown(() => loadCatalogue(dir)).message).toMatch(/no SIG files/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Schedule arguments.

const SCHEDULE_CASES: Array<{ name: string; run: () => unknown; field: string | RegExp; value: string | null }> = [
  { name: '--at 25:00', run: () => parseTimeOfDay('25:00'), field: '--at', value: '25:00' },
  { name: '--at 2am', run: () => parseTimeOfDay('2am'), field: '--at', value: '2am' },
  { name: '--at with a command', run: () => parseTimeOfDay('02:00;reboot'), field: '--at', value: '02:00;reboot' },
  { name: '--days funday', run: () => parseDaysOfWeek('funday'), field: '--days', value: 'funday' },
  { name: '--days empty', run: () => parseDaysOfWeek(','), field: '--days', value: null },
  { name: '--at with --interval', run: () => scheduleInputFromFlags({ release: '9', sig: 'core', at: '02:00', interval: '1h' }), field: /--at.*--interval/, value: null },
  { name: 'mode weekly', run: () => prepareSchedule(site, catalogue, { ...base, mode: 'weekly' as never }), field: 'mode', value: 'weekly' },
  { name: 'composeOnly against mode full', run: () => prepareSchedule(site, catalogue, { ...base, mode: 'full', composeOnly: true }), field: 'composeOnly', value: 'true' },
  { name: 'interval 0s', run: () => prepareSchedule(site, catalogue, { ...base, interval: '0s' }), field: 'interval', value: '0s' },
  { name: 'interval in words', run: () => prepareSchedule(site, catalogue, { ...base, interval: 'nightly' }), field: 'interval', value: 'nightly' },
  { name: 'catch-up window below the minimum', run: () => prepareSchedule(site, catalogue, { ...base, catchupWindow: '5s' }), field: 'catch-up window', value: '5s' },
  { name: 'unknown time zone', run: () => prepareSchedule(site, catalogue, { ...base, timezone: 'Mars/Olympus_Mons' }), field: 'time zone', value: 'Mars/Olympus_Mons' },
  { name: 'calendar hour 24', run: () => prepareSchedule(site, catalogue, { ...base, calendar: { hour: 24, minute: 0 } }), field: 'calendar', value: '24' },
  { name: 'calendar day of week "Caturday"', run: () => prepareSchedule(site, catalogue, { ...base, calendar: { hour: 2, minute: 0, dayOfWeek: ['Caturday' as never] } }), field: 'day of week', value: 'Caturday' },
];

describe('bad schedule arguments are refused with the argument and the value', () => {
  it.each(SCHEDULE_CASES)('$name', ({ run, field, value }) => {
    expectNamed(thrown(run).message, field, value);
  });
});
