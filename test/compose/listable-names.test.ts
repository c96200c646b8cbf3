// Names checked before they spread (issue 12 item 9): every path of the compose is checked against what the
// mirror file lists can carry before `latest` flips; a TAB, a newline or bytes that are not UTF-8 fail the
// compose's verification naming the file, so it never reaches staging or production.
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createComposeActivities } from '../../activities/compose.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { describeUnlistableName, findUnlistableNames, unlistableNamesIn } from '../../src/compose/listableNames.js';
import { composeDir as datedComposeDir, composeLayout } from '../../src/paths.js';
import { core9Plan, seedSite } from './support.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join('/tmp', 'sigrelease-names-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (rel: string, body = 'x') => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), body);
};

describe('unlistable names', () => {
  it('names each entry the lists cannot carry, escaped, with the reason', () => {
    const names = [Buffer.from('ok.rpm'), Buffer.from('a\tb.rpm'), Buffer.from('line\nbreak'), Buffer.from([0x66, 0xff, 0x2e, 0x72])];
    expect(unlistableNamesIn('x86_64/core-common/', names)).toEqual([
      { path: './x86_64/core-common/a\\tb.rpm', reason: 'tab' },
      { path: './x86_64/core-common/f\\xff.r', reason: 'invalid-utf8' },
      { path: './x86_64/core-common/line\\nbreak', reason: 'newline' },
    ]);
    expect(describeUnlistableName({ path: './a\\tb.rpm', reason: 'tab' })).toBe(
      'file name ./a\\tb.rpm contains a TAB, which the mirror file lists cannot carry; rename or remove it upstream',
    );
    expect(unlistableNamesIn('', [Buffer.from('fine name with spaces.rpm'), Buffer.from('ünïcode.rpm')])).toEqual([]);
  });

  it('walks the whole tree, reports a bad folder once without entering it, and finds nothing in a clean tree', async () => {
    write('x86_64/core-common/Packages/a/alpha-1.0.rpm');
    expect(await findUnlistableNames(dir)).toEqual([]);
    write('x86_64/core-common/Packages/b/bravo\t1.0.rpm');
    write('metadata/bad\ndir/inside.txt');
    // source/<0xe9>.rpm: Latin-1 bytes, not UTF-8.
    fs.mkdirSync(path.join(dir, 'source'));
    fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/source/`), Buffer.from([0xe9]), Buffer.from('.rpm')]), 'x');
    expect(await findUnlistableNames(dir)).toEqual([
      { path: './metadata/bad\\ndir', reason: 'newline' },
      { path: './source/\\xe9.rpm', reason: 'invalid-utf8' },
      { path: './x86_64/core-common/Packages/b/bravo\\t1.0.rpm', reason: 'tab' },
    ]);
    expect(await findUnlistableNames(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('verifyCompose', () => {
  // Two real (empty) repos made by createrepo_c: verification of the repos themselves passes.
  const plan = { ...core9Plan({ fullRun: true, arches: ['x86_64'], ignoreDebug: true, ignoreSource: true }) };
  // The activities of a worker whose compose root is the test's folder (they derive the compose folder themselves).
  const site = () => parseSite({ ...seedSite, composeRoot: dir });
  const verifyCompose = (input: { plan: typeof plan }) => createComposeActivities({ site: site(), catalogue: loadCatalogue() }).verifyCompose(input);
  async function composeWithRepos() {
    const layout = composeLayout(datedComposeDir(site(), plan.release, plan.sig, plan.revision, plan.stamp), plan.release, plan.sig, plan.stamp);
    for (const t of plan.batches.flat()) {
      fs.mkdirSync(path.join(layout.sigRoot, t.relDir), { recursive: true });
      await execa('createrepo_c', ['--quiet', path.join(layout.sigRoot, t.relDir)]);
    }
    return layout;
  }

  it('passes a compose whose names the lists can carry', async () => {
    const layout = await composeWithRepos();
    fs.mkdirSync(layout.metadataDir, { recursive: true });
    fs.writeFileSync(path.join(layout.metadataDir, 'RPM-GPG-KEY-Rocky-SIG-Core'), 'key\n');
    const report = (await new MockActivityEnvironment().run(verifyCompose, { plan })) as Awaited<ReturnType<typeof verifyCompose>>;
    expect(report.ok).toBe(true);
  });

  it('fails, not retryably, naming the file whose name holds a TAB, so latest is never flipped to it', async () => {
    const layout = await composeWithRepos();
    fs.mkdirSync(layout.metadataDir, { recursive: true });
    fs.writeFileSync(path.join(layout.metadataDir, 'README\tfor mirrors'), 'readme\n');
    const err = await new MockActivityEnvironment().run(verifyCompose, { plan }).then(
      () => null,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err?.type).toBe('ComposeVerificationFailed');
    expect(err?.nonRetryable).toBe(true);
    expect(err?.message).toContain('file name ./metadata/README\\tfor mirrors contains a TAB, which the mirror file lists cannot carry');
  });
});
