// The composes on disk, without a server: which one latest, staging and production came from, and a compose
// found only by a name among the folders of its SIG and release.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCompose, latestCompose, listComposes } from '../../src/lifecycle/composes.js';
import { readSourceRecord, sourceRecordPath, writeSourceRecord } from '../../src/lifecycle/sources.js';

function roots() {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-composes-'));
  const r = { composeRoot: path.join(top, 'compose'), stagingRoot: path.join(top, 'staging'), productionRoot: path.join(top, 'production') };
  for (const d of Object.values(r)) fs.mkdirSync(d, { recursive: true });
  const compose = (name: string, manifest?: object) => {
    const dir = path.join(r.composeRoot, '9', name);
    fs.mkdirSync(path.join(dir, 'compose', '9', 'core'), { recursive: true });
    if (manifest) {
      fs.mkdirSync(path.join(dir, 'work'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'work', `manifest-${name.slice(-15)}.json`), JSON.stringify(manifest));
    }
    return dir;
  };
  return { top, r, compose };
}

const record = (compose: string) => ({ compose, composeId: `core-9-${compose.slice(-15)}`, digest: 'sha256:x', recordedAt: '2026-11-30T00:00:00Z', workflowId: 'wf' });

describe('composes on disk', () => {
  it('lists them oldest first with their manifest summary and what latest, staging and production hold', async () => {
    const { r, compose } = roots();
    compose('SIG-core-9.7-20261129.010000', { tasks: [{ downloaded: 3 }, { downloaded: 1 }], repos: [{ packages: 5, bytes: 100 }, { packages: 2, bytes: 50 }], finishedAt: 'x' });
    const b = compose('SIG-core-9.7-20261130.010000');
    compose('SIG-cloud-9.7-20261130.010000');
    fs.mkdirSync(path.join(r.composeRoot, '9', 'not-a-compose'));
    fs.symlinkSync(b, path.join(r.composeRoot, '9', 'latest-SIG-core-9'));
    await writeSourceRecord(r, 'staging', '9', 'core', record('SIG-core-9.7-20261130.010000'));
    await writeSourceRecord(r, 'production', '9', 'core', record('SIG-core-9.7-20261129.010000'));
    const rows = await listComposes(r, '9', 'core');
    expect(rows.map((c) => [c.name, c.latest, c.staging, c.production])).toEqual([
      ['SIG-core-9.7-20261129.010000', false, false, true],
      ['SIG-core-9.7-20261130.010000', true, true, false],
    ]);
    expect(rows[0]!.manifest).toMatchObject({ tasks: 2, packages: 7, bytes: 150, downloaded: 4 });
    expect(rows[0]!.time).toBe('2026-11-29T01:00:00Z');
    expect(rows[1]!.manifest).toBeNull();
    expect(sourceRecordPath(r, 'staging', '9', 'core')).toBe(path.join(r.stagingRoot, '.sigrelease-state', 'sources', '9', 'core.json'));
    expect((await readSourceRecord(r, 'production', '9', 'core'))?.compose).toBe('SIG-core-9.7-20261129.010000');
  });

  it('finds a compose by folder name or compose ID, and latest by its link', async () => {
    const { r, compose } = roots();
    const a = compose('SIG-core-9.7-20261129.010000');
    fs.symlinkSync(a, path.join(r.composeRoot, '9', 'latest-SIG-core-9'));
    expect((await findCompose(r, '9', 'core', 'SIG-core-9.7-20261129.010000')).dir).toBe(fs.realpathSync(a));
    expect((await findCompose(r, '9', 'core', 'core-9-20261129.010000')).name).toBe('SIG-core-9.7-20261129.010000');
    expect((await latestCompose(r, '9', 'core')).composeId).toBe('core-9-20261129.010000');
  });

  it('refuses names that are paths, composes of another SIG, and folders that are links out of the compose root', async () => {
    const { top, r, compose } = roots();
    compose('SIG-core-9.7-20261129.010000');
    compose('SIG-cloud-9.7-20261130.010000');
    const outside = path.join(top, 'elsewhere');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(r.composeRoot, '9', 'SIG-core-9.7-20261201.010000'));
    await expect(findCompose(r, '9', 'core', '../9/SIG-core-9.7-20261129.010000')).rejects.toThrow(/not a compose name/);
    await expect(findCompose(r, '9', 'core', 'SIG-cloud-9.7-20261130.010000')).rejects.toThrow(/no compose "SIG-cloud-9\.7-20261130\.010000" of core 9[\s\S]*on disk: SIG-core-9\.7-20261129\.010000/);
    // A link is not a compose folder: it is not listed, so it cannot be named.
    await expect(findCompose(r, '9', 'core', 'SIG-core-9.7-20261201.010000')).rejects.toThrow(/no compose/);
    await expect(latestCompose(r, '9', 'core')).rejects.toThrow(/latest-SIG-core-9 does not exist/);
  });
});
