// The lifecycle's names and request fields, checked without a server: what a rollback, a vault and a re-entry
// accept, and what they refuse with the value named.
import { describe, expect, it } from 'vitest';
import { releaseRequestSchema } from '../../src/config/schema.js';
import { composeIdProblem, modeOfRun, namesCompose, parseComposeFolder, runModeOf, vaultRevisionProblem } from '../../src/lifecycle/names.js';
import { vaultCopyArgs, vaultPreviewArgs, vaultSigDir } from '../../src/lifecycle/vault.js';

describe('compose names', () => {
  it('takes a compose folder name or a compose ID', () => {
    expect(composeIdProblem('SIG-core-9.7-20261130.101500')).toBeNull();
    expect(composeIdProblem('core-9-20261130.101500')).toBeNull();
  });
  it.each(['../SIG-core-9.7-20261130.101500', 'a/b', '/abs', '..', 'x..y', '', 'with space', 'a\\b'])('refuses %j, naming it', (bad) => {
    expect(composeIdProblem(bad)).toContain(JSON.stringify(bad));
  });
  it('refuses what is not a string', () => {
    expect(composeIdProblem(42)).toMatch(/must be a string/);
  });
  it('matches a folder by its name or by the compose ID of its stamp, for its own SIG only', () => {
    expect(parseComposeFolder('SIG-core-9.7-20261130.101500', 'core')).toEqual({ revision: '9.7', stamp: '20261130.101500' });
    expect(parseComposeFolder('SIG-core-9.7-20261130.101500', 'cloud')).toBeNull();
    expect(parseComposeFolder('SIG-core-9.7-latest', 'core')).toBeNull();
    expect(namesCompose('core-9-20261130.101500', 'SIG-core-9.7-20261130.101500', 'core', '9')).toBe(true);
    expect(namesCompose('core-8-20261130.101500', 'SIG-core-9.7-20261130.101500', 'core', '9')).toBe(false);
  });
});

describe('vault revisions', () => {
  it('takes <release>.<minor>', () => {
    expect(vaultRevisionProblem('9.5', '9')).toBeNull();
  });
  it.each([['9', /digits\.digits/], ['9.5.1', /digits\.digits/], ['8.5', /not a minor release of 9/], ['../9.5', /digits\.digits/]])('refuses %j', (rev, why) => {
    expect(vaultRevisionProblem(rev, '9')).toMatch(why);
  });
  it('copies without deletion, hard-linking what production has, into the seed layout', () => {
    const o = { source: '/p/mirror/pub/sig/9', target: '/p/mirror/vault/sig/9.5', owner: { uid: 10004, gid: 10005 } };
    expect(vaultSigDir({ productionRoot: '/p' }, '9.5')).toBe('/p/mirror/vault/sig/9.5');
    for (const args of [vaultPreviewArgs(o), vaultCopyArgs(o)]) {
      expect(args.some((a) => a.startsWith('--delete'))).toBe(false);
      expect(args).toContain('--chown=10004:10005');
      expect(args.slice(-2)).toEqual(['/p/mirror/pub/sig/9/', '/p/mirror/vault/sig/9.5/']);
    }
    expect(vaultCopyArgs(o)).toContain('--link-dest=/p/mirror/pub/sig/9/');
    expect(vaultPreviewArgs(o)).toContain('--dry-run');
    expect(vaultCopyArgs(o)).not.toContain('--dry-run');
  });
});

describe('request fields of re-entry and rollback', () => {
  const parse = (r: Record<string, unknown>) => releaseRequestSchema.safeParse({ release: '9', sig: 'core', ...r }, { reportInput: true });
  it('defaults to the whole pipeline', () => {
    expect(parse({}).data?.from).toBe('compose');
  });
  it('takes a rollback as from staging with a compose', () => {
    expect(parse({ from: 'staging', composeId: 'SIG-core-9.7-20261130.101500' }).success).toBe(true);
  });
  it.each([
    [{ from: 'gate', composeId: 'SIG-core-9.7-20261130.101500' }, /needs from "staging"/],
    [{ from: 'staging', composeId: '../x' }, /not a compose name/],
    [{ from: 'staging', fullRun: true }, /fullRun asks for a compose/],
    [{ from: 'gate', dryRun: true }, /dryRun asks for a compose/],
    [{ from: 'compose', listLevel: 'root' }, /listLevel only applies/],
    [{ from: 'lists', listLevel: 'everything' }, /listLevel must be sig or root/],
    [{ from: 'elsewhere' }, /from must be one of compose, staging, gate, lists/],
  ])('refuses %j', (r, why) => {
    const parsed = parse(r);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('\n')).toMatch(why);
  });
  it('names each mode as list and status show it', () => {
    expect(runModeOf({})).toBe('release');
    expect(runModeOf({ from: 'staging' })).toBe('restage');
    expect(runModeOf({ from: 'staging', composeId: 'x' })).toBe('rollback');
    expect(runModeOf({ from: 'gate' })).toBe('gate');
    expect(runModeOf({ from: 'lists' })).toBe('lists');
    expect(modeOfRun('sigVault', undefined)).toBe('vault');
    expect(modeOfRun('sigRelease', { mode: 'rollback' })).toBe('rollback');
    expect(modeOfRun('sigRelease', { request: { from: 'gate' } })).toBe('gate');
    expect(modeOfRun('sigRelease', undefined)).toBe('release');
  });
});
