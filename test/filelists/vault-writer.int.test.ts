// A vault's root file lists come from the root level's one writer, like a release's and a lists publish's: a vault
// that asks while the writer walks the production root is answered by the writer's next walk, never by a walk of
// its own beside it. Real dev server, real rsync for the copy, real publisher on a real tree.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { startVault } from '../../src/lifecycle/start.js';
import { vaultSigDir } from '../../src/lifecycle/vault.js';
import { productionReleaseDir } from '../../src/paths.js';
import { fileListWriterId, type FileListWriterResult } from '../../workflows/fileListWriter.js';
import { fileListsRequestedSignal, statusQuery } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/releaseRun.js';
import { testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { Hold } from '../operations/fakes.js';
import { countedWalks, signalsReceived } from './writer-support.js';

async function atGate(handle: WorkflowHandle): Promise<void> {
  await waitFor(`${handle.workflowId} to wait at the gate`, async () => {
    const st = await handle.query(statusQuery);
    if (st.stage === 'failed') throw new Error(`vault failed: ${st.error}`);
    return st.stage === 'awaiting-approval' ? true : undefined;
  }, 120_000);
}

describe('vault lists through the root level writer', () => {
  it('a vault asking while the writer walks the root is answered by the writer\'s next walk, never a walk beside it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const release = productionReleaseDir(site, '9');
    fs.mkdirSync(path.join(release, 'core', 'x86_64'), { recursive: true });
    fs.writeFileSync(path.join(release, 'core', 'x86_64', 'a.rpm'), 'a');
    const hold = new Hold();
    const { state, walk } = countedWalks(hold);
    const taskQueue = uniqueQueue('vault-writer');
    await withWorkers({ site, taskQueue, activityOverrides: { publishFileLists: walk } }, async ({ client }) => {
      const writerId = fileListWriterId('root', site.productionRoot);
      // Someone else's request (a release's), whose walk is still running when the vault asks.
      const writer = await client.workflow.signalWithStart('fileListWriter', {
        workflowId: writerId,
        taskQueue,
        args: [{ level: 'root' }],
        signal: fileListsRequestedSignal,
        signalArgs: [{ workflowId: `release-${taskQueue}`, requestId: 'release-request' }],
      });
      try {
        await hold.reached;
        const vault = await startVault(client, site, { release: '9', revision: '9.5' }, { taskQueue, workflowId: uniqueQueue('vault') });
        await atGate(vault);
        await vault.signal('approve', { by: 'tester' });
        await waitFor('the vault\'s request to reach the writer', async () => ((await signalsReceived(client, writerId)) >= 2 ? true : undefined), 60_000, 200);
        // The vault is copied but its lists wait for the writer: no second walk started beside the first.
        expect(fs.existsSync(path.join(vaultSigDir(site, '9.5'), 'core', 'x86_64', 'a.rpm'))).toBe(true);
        expect(state.walks).toBe(1);
        hold.release();
        const result = (await vault.result()) as ReleaseResult;
        expect(result.outcome).toBe('vaulted');
        // Answered by the second walk, the only one that began after the copy: it lists the vault.
        expect(result.fileLists.map((l) => l.dir)).toEqual([site.productionRoot]);
        expect(fs.readFileSync(path.join(site.productionRoot, 'fullfiletimelist-rocky'), 'utf8')).toMatch(/\tmirror\/vault\/sig\/9\.5\/core\/x86_64\/a\.rpm\n/);
        const done: FileListWriterResult = await client.workflow.getHandle(writerId, writer.signaledRunId).result();
        expect(done.walks).toBe(2);
        expect(state).toMatchObject({ walks: 2, mostAtOnce: 1 });
      } finally {
        hold.release();
        await client.workflow.getHandle(writerId).terminate('test over').catch(() => undefined);
      }
    });
  }, 240_000);
});
