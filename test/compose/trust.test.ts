// Activities take no paths from clients: a handed-in plan is re-derived from the worker's catalogue and site config
// and refused unless identical, and every path is confined to the worker's roots. Pure checks and temp trees.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../src/config/load.js';
import { urlBasename } from '../../src/compose/files.js';
import { PlanRefusedError, recheckComposePlan, recheckRoots, recheckTask } from '../../src/compose/trust.js';
import { confinedPath, mkdirConfined, OutsideRootsError, resolveInside } from '../../src/roots.js';
import { core9Plan, seedSite } from './support.js';

const catalogue = loadCatalogue();
const asSent = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanRefusedError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('recheckComposePlan', () => {
  it('returns the plan the worker makes itself when the handed-in one is the same', () => {
    const plan = asSent(core9Plan({ fullRun: true, hashed: true }));
    expect(recheckComposePlan(plan, catalogue, seedSite)).toEqual(plan);
  });

  it.each([
    ['a relDir that climbs out', (p: any) => (p.batches[0][0].relDir = '../../../../etc'), /batches\.0\.0\.relDir is "\.\.\/\.\.\/\.\.\/\.\.\/etc"/],
    ['an absolute relDir', (p: any) => (p.batches[0][0].relDir = '/var/lib/rpm'), /batches\.0\.0\.relDir is "\/var\/lib\/rpm"/],
    ['a key URL that reads a local file', (p: any) => (p.gpgKeys = ['file:///etc/shadow']), /gpgKeys\.0 is "file:\/\/\/etc\/shadow"/],
    ['a repo URL of its own', (p: any) => (p.batches[0][0].baseUrl = 'http://evil.example/repo'), /baseUrl is "http:\/\/evil\.example\/repo"/],
    ['extra files from elsewhere', (p: any) => (p.extraFiles = { baseUrl: 'file:///', files: ['etc/passwd'] }), /extraFiles\.baseUrl is "file:\/\/\/"/],
    ['a revision that is not the site\'s', (p: any) => (p.revision = '../..'), /revision is "\.\.\/\.\."/],
  ])('refuses %s, naming the value', (_what, mutate, message) => {
    const plan = asSent(core9Plan({ fullRun: true }));
    mutate(plan);
    expect(refusal(() => recheckComposePlan(plan, catalogue, seedSite))).toMatch(message);
  });

  it('refuses a plan whose recorded request the catalogue refuses (an unknown SIG), and a stamp that is a path', () => {
    const plan = asSent(core9Plan({ fullRun: true }));
    expect(refusal(() => recheckComposePlan({ ...plan, sig: '../core' }, catalogue, seedSite))).toMatch(/sig.*\.\.\/core/);
    expect(refusal(() => recheckComposePlan({ ...plan, stamp: '../../x' }, catalogue, seedSite))).toMatch(/stamp "\.\.\/\.\.\/x"/);
    expect(refusal(() => recheckComposePlan({ release: '9', sig: 'core' }, catalogue, seedSite))).toMatch(/no options recorded/);
  });

  it('checks a task against the trusted plan', () => {
    const plan = recheckComposePlan(asSent(core9Plan({ fullRun: true })), catalogue, seedSite);
    const task = plan.batches[0]![0]!;
    expect(recheckTask(plan, asSent(task))).toEqual(task);
    expect(refusal(() => recheckTask(plan, { ...task, relDir: '../../etc' }))).toMatch(/relDir is "\.\.\/\.\.\/etc"/);
    expect(refusal(() => recheckTask(plan, { ...task, name: 'evil' }))).toMatch(/reposync task "evil" is not part of compose/);
  });

  it('takes a task input\'s plan without its task list, and still checks every other field and the task against its own list', () => {
    const { batches, ...taskPlan } = asSent(core9Plan({ fullRun: true })) as any;
    const plan = recheckComposePlan(taskPlan, catalogue, seedSite);
    // The worker's own task list comes back, whatever the input left out.
    expect(plan.batches).toEqual(batches);
    expect(refusal(() => recheckComposePlan({ ...taskPlan, gpgKeys: ['file:///etc/shadow'] }, catalogue, seedSite))).toMatch(/gpgKeys\.0 is "file:\/\/\/etc\/shadow"/);
    expect(refusal(() => recheckComposePlan({ ...taskPlan, batches: [[{ ...batches[0][0], relDir: '../../etc' }]] }, catalogue, seedSite))).toMatch(/relDir is "\.\.\/\.\.\/etc"/);
    const task = plan.batches[0]![0]!;
    expect(refusal(() => recheckTask(plan, { ...task, baseUrl: 'http://evil.example/repo' }))).toMatch(/baseUrl is "http:\/\/evil\.example\/repo"/);
  });

  it('takes roots only from the site config', () => {
    expect(recheckRoots(undefined, seedSite).composeRoot).toBe('/mnt/compose');
    expect(recheckRoots({ composeRoot: '/mnt/compose', stagingRoot: '/mnt/repos-staging', productionRoot: '/mnt/repos-production' }, seedSite).composeRoot).toBe('/mnt/compose');
    expect(refusal(() => recheckRoots({ composeRoot: '/etc' }, seedSite))).toMatch(/composeRoot "\/etc" is not this worker's composeRoot \(\/mnt\/compose\)/);
  });
});

describe('urlBasename', () => {
  it('checks the name after percent-decoding', () => {
    expect(urlBasename('https://git.example/raw/RPM-GPG-KEY-Rocky-SIG-Core')).toBe('RPM-GPG-KEY-Rocky-SIG-Core');
    expect(urlBasename('https://git.example/raw/key%20one')).toBe('key one');
    for (const url of ['https://x/a/%2e%2e', 'https://x/a/..%2Fetc%2Fpasswd', 'https://x/a/%2Fetc', 'https://x/a/%00', 'https://x/a/.hidden', 'https://x/a/%zz']) {
      expect(() => urlBasename(url), url).toThrow(/does not end in a plain file name|is not a URL with a file name/);
    }
  });
});

describe('confinement to the roots', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roots-'));
  const root = path.join(tmp, 'compose');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const refusedWith = async (p: Promise<unknown>, message: RegExp) => {
    const e = await p.catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OutsideRootsError);
    expect((e as Error).message).toMatch(message);
  };

  it('refuses ../ climbs and absolute paths outside, naming them', async () => {
    await refusedWith(confinedPath(root, path.join(root, '9', '..', '..', 'outside', 'x'), 'compose folder'), /compose folder ".*\/outside\/x" is outside the root/);
    await refusedWith(confinedPath(root, '/etc/cron.d/x', 'compose folder'), /"\/etc\/cron\.d\/x" is outside the root/);
    await refusedWith(mkdirConfined(root, path.join(root, '../outside/made'), 'compose folder'), /outside the root/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('refuses a path through a symlink planted under the root, and creates nothing through it', async () => {
    fs.symlinkSync(outside, path.join(root, '9'));
    await refusedWith(mkdirConfined(root, path.join(root, '9', 'SIG-core-9.7-20260101.000000', 'compose'), 'compose folder'), new RegExp(`goes through the symlink ${root}/9 \\(→ ${outside}\\)`));
    expect(fs.readdirSync(outside)).toEqual([]);
    await refusedWith(resolveInside(root, path.join(root, '9'), 'latest'), new RegExp(`resolves to ${outside}, outside the root`));
    fs.rmSync(path.join(root, '9'));
  });

  it('creates folders inside the root, and refuses a missing root instead of creating it', async () => {
    expect(await mkdirConfined(root, path.join(root, '9', 'a', 'b'), 'compose folder')).toBe(path.join(fs.realpathSync(root), '9', 'a', 'b'));
    await refusedWith(mkdirConfined(path.join(tmp, 'unmounted'), path.join(tmp, 'unmounted', 'x'), 'compose folder'), /the root .*unmounted does not exist/);
  });
});
