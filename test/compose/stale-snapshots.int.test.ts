// Stale snapshots through the real dev server, real dnf reposync and fixture repos: a compose of unchanged
// upstream metadata, after a first compose of the same, opens the gate with every repo flagged "unchanged since"
// the first compose (and, the fixture's metadata being from 2023, older than compose.staleAfter), in the run's
// status and its `sigrelease status` text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { formatStatus } from '../../src/cli/format.js';
import { statusQuery } from '../../workflows/messages.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';

let yum: YumrepofsServer;
beforeAll(async () => {
  const fixture = await buildYumrepofs(fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-stale-yum-')), defaultCoreFixture());
  yum = await startYumrepofs({ root: fixture.root });
});
afterAll(async () => {
  await yum?.close();
});

const small = { release: '9', sig: 'core', hashed: true, fullRun: true, arches: ['x86_64'], ignoreDebug: true, ignoreSource: true };

describe('stale snapshots', () => {
  it('flag at the gate every repo whose source metadata is unchanged since the previous compose', async () => {
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl });
    await withWorkers({ site }, async ({ client, taskQueue }) => {
      const first = await startRelease(client, site, testCatalogue(), { ...small, composeOnly: true }, { taskQueue, workflowId: `stale-1-${uniqueQueue()}` });
      const firstResult = await first.result();
      const second = await startRelease(client, site, testCatalogue(), small, { taskQueue, workflowId: `stale-2-${uniqueQueue()}` });
      const gate = await waitFor(
        'the second run at the gate',
        async () => {
          const st = await second.query(statusQuery);
          if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
          return st.stage === 'awaiting-approval' ? st : undefined;
        },
        240_000,
      );
      const report = gate.sourceMetadata!;
      expect(report.previousComposeId).toBe(firstResult.composeId);
      expect(report.repos.map((r) => r.relDir).sort()).toEqual(['x86_64/core-common', 'x86_64/core-infra']);
      for (const r of report.repos) {
        expect(r.revision).not.toBeNull();
        expect(r.ageMs).not.toBeNull();
        // The fixture's metadata carries a fixed 2023 revision and timestamps (reproducible builds): older than 7d.
        expect(r.ageMs!).toBeGreaterThan(7 * 86_400_000);
        expect(r.olderThanLimit).toBe(true);
        expect(r.unchangedSincePrevious).toBe(true);
      }
      expect(report.flagged).toBe(2);
      // The second compose of an unchanged SIG carries each repo over from the first (its repomd.xml is the same):
      // the line says so as well as why it is flagged.
      for (const r of report.repos) expect(r.carriedOverFrom).toBe(firstResult.composeId);
      expect(formatStatus(gate)).toMatch(
        new RegExp(`Stale source metadata: 2 of 2 repos[\\s\\S]*STALE x86_64/core-common: metadata revision \\S+, [^,]+ old, carried over from ${firstResult.composeId} \\(older than 7d; unchanged since ${firstResult.composeId}\\)`),
      );
      await second.cancel();
    });
  }, 420_000);
});
