import { describe, expect, it } from 'vitest';
import { gateDetails, requestAsFlags, runDetails, runMode, runSummary } from '../../src/uiText.js';

describe('the static summary of a run (the Web UI workflow list)', () => {
  it('names the SIG, release, mode and who started it on one line', () => {
    expect(runSummary({ release: '9', sig: 'core', fullRun: true, requestedBy: 'neil' })).toBe('core 9: full pipeline, new compose; started by neil');
    expect(runSummary({ release: '8', sig: 'virt', composeOnly: true, requestedBy: 'schedule sigrelease-nightly-virt-8' })).toBe(
      'virt 8: compose only, in-place compose; started by schedule sigrelease-nightly-virt-8',
    );
    expect(runSummary({ release: '10', sig: 'cloud', dryRun: true })).toBe('cloud 10: dry run, nothing written; started by an unnamed client');
  });

  it('shows a starter name as typed, markup and all', () => {
    expect(runSummary({ release: '9', sig: 'core', requestedBy: '<b>eve</b>\n**x**' })).toBe('core 9: full pipeline, in-place compose; started by \\<b\\>eve\\</b\\> \\*\\*x\\*\\*');
  });

  it('says where the run stops', () => {
    expect(runMode({ release: '9', sig: 'core' })).toBe('full pipeline');
    expect(runMode({ release: '9', sig: 'core', composeOnly: true })).toBe('compose only');
    expect(runMode({ release: '9', sig: 'core', dryRun: true, composeOnly: true })).toBe('dry run');
  });
});

describe('the static details of a run', () => {
  it('list the request as the flags of `start` and the starter', () => {
    const request = { release: '9', sig: 'core', hashed: true, cleanOldPackages: true, fullRun: true, dryRun: false, arches: ['x86_64'], requestedBy: 'neil' };
    expect(requestAsFlags(request)).toBe('--arch x86_64 --hashed --clean-old-packages --full-run');
    expect(runDetails(request)).toBe(['**core 9**: full pipeline', '', '- flags: `--arch x86_64 --hashed --clean-old-packages --full-run`', '- started by: neil'].join('\n'));
    expect(runDetails({ release: '9', sig: 'core' })).toContain('- flags: none');
  });
});

describe('the details at the approval gate', () => {
  const table = '| repo | added | changed | deleted | bytes |\n|---|---|---|---|---|\n| x86_64/core-common | 3 | 0 | 0 | 3000 |';
  const details = gateDetails({
    title: 'core 9',
    deadline: '2026-12-14T12:00:00.000Z',
    previewTable: table,
    manifest: '/srv/compose/9/SIG-core-9.7-20261130/work/manifest.json',
    reports: { staging: '/srv/compose/9/SIG-core-9.7-20261130/work/previews/s/staging.txt', production: '/srv/compose/9/SIG-core-9.7-20261130/work/previews/s/production.txt' },
  });

  it('give the signal input with its <you> placeholder in a code span, where it shows as typed', () => {
    expect(details).toContain('Send signal `approve` (or `reject`) with input `{"by": "<you>", "comment": "..."}`.');
    // Outside code spans no bare < is left for the UI to take for a tag.
    expect(details.replace(/`[^`]*`/g, '')).not.toMatch(/(^|[^\\])</);
  });

  it('show the paths of the compose manifest and of both preview reports', () => {
    expect(details).toContain('- compose manifest: `/srv/compose/9/SIG-core-9.7-20261130/work/manifest.json`');
    expect(details).toContain('- staging sync report: `/srv/compose/9/SIG-core-9.7-20261130/work/previews/s/staging.txt`');
    expect(details).toContain('- production preview report: `/srv/compose/9/SIG-core-9.7-20261130/work/previews/s/production.txt`');
  });

  it('start with the run and its deadline, and end with the preview table', () => {
    expect(details.split('\n')[0]).toBe('**core 9** waits for approval until 2026-12-14T12:00:00.000Z.');
    expect(details.endsWith(`\n\n${table}`)).toBe(true);
  });

  it('leave out a manifest the compose did not write', () => {
    const without = gateDetails({ title: 'core 9', deadline: 'd', previewTable: table, manifest: null, reports: {} });
    expect(without).not.toContain('manifest');
    expect(without).not.toContain('report:');
  });
});
