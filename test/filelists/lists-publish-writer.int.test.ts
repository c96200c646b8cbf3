// `sigrelease lists publish` (a run with from: "lists") goes through the level's one writer, like a release's
// lists: a lists publish that arrives while a release's walk runs coalesces into the writer's next walk, and never
// walks beside it; a writer that does not answer fails the run naming the level instead of holding production's
// lock for ever. Real dev server, real publisher on a real tree.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRelease } from '../../src/client.js';
import { productionCategory } from '../../src/paths.js';
import { fileListWriterId, type FileListWriterResult } from '../../workflows/fileListWriter.js';
import { fileListsRequestedSignal } from '../../workflows/messages.js';
import type { ReleaseResult } from '../../workflows/releaseRun.js';
import { failureChain, testCatalogue, testSite, uniqueQueue, waitFor, withWorkers } from '../helpers/temporal.js';
import { Hold } from '../operations/fakes.js';
import { countedWalks, signalsReceived } from './writer-support.js';

describe('lists publish through the level writer', () => {
  it('a lists publish arriving while a release\'s walk runs is answered by the writer\'s next walk, never a walk beside it', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const category = productionCategory(site);
    fs.mkdirSync(path.join(category, '9', 'core', 'x86_64'), { recursive: true });
    fs.writeFileSync(path.join(category, '9', 'core', 'x86_64', 'a.rpm'), 'a');
    const hold = new Hold();
    const { state, walk } = countedWalks(hold);
    const taskQueue = uniqueQueue('lists-writer');
    await withWorkers({ site, taskQueue, activityOverrides: { publishFileLists: walk } }, async ({ client }) => {
      const writerId = fileListWriterId('sig', site.productionRoot);
      // A release's request, as requestFileListWalk sends it (it names its requester).
      const writer = await client.workflow.signalWithStart('fileListWriter', {
        workflowId: writerId,
        taskQueue,
        args: [{ level: 'sig' }],
        signal: fileListsRequestedSignal,
        signalArgs: [{ workflowId: `release-${taskQueue}`, requestId: 'release-request' }],
      });
      await hold.reached;
      // Written during the release's walk: only a later walk can list it.
      fs.writeFileSync(path.join(category, '9', 'core', 'x86_64', 'b.rpm'), 'bb');
      const lists = await startRelease(client, site, testCatalogue(), { release: '9', sig: 'core', from: 'lists', listLevel: 'sig' }, { taskQueue, workflowId: uniqueQueue('lists') });
      await waitFor('the lists run\'s request to reach the writer', async () => ((await signalsReceived(client, writerId)) >= 2 ? true : undefined), 60_000, 200);
      expect(state.walks).toBe(1);
      hold.release();
      const result = (await lists.result()) as ReleaseResult;
      expect(result).toMatchObject({ outcome: 'published', mode: 'lists' });
      // Answered by the second walk (the only one that can list b.rpm), and no walk ran beside the writer's.
      expect(result.fileLists.map((l) => l.dir)).toEqual([category]);
      expect(fs.readFileSync(path.join(category, 'fullfiletimelist-sig'), 'utf8')).toMatch(/\t9\/core\/x86_64\/b\.rpm\n/);
      const done: FileListWriterResult = await client.workflow.getHandle(writerId, writer.signaledRunId).result();
      expect(done.walks).toBe(2);
      expect(state).toMatchObject({ walks: 2, mostAtOnce: 1 });
    });
  }, 180_000);

  it('a writer that does not answer fails the lists run naming the level and the writer, and the lock is given back', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    fs.mkdirSync(productionCategory(site), { recursive: true });
    const hold = new Hold();
    const { walk } = countedWalks(hold);
    const taskQueue = uniqueQueue('lists-writer-stuck');
    await withWorkers({ site, taskQueue, activityOverrides: { publishFileLists: walk } }, async ({ client }) => {
      const writerId = fileListWriterId('sig', site.productionRoot);
      try {
        // The bound is twice the run's long activity timeout: 2 × 5 s.
        const runtime = { timeouts: { longSync: '5s' } };
        const lists = await startRelease(client, site, testCatalogue(), { release: '9', sig: 'core', from: 'lists', listLevel: 'sig' }, { taskQueue, workflowId: uniqueQueue('lists-stuck'), runtime });
        const err = await lists.result().catch((e: unknown) => e);
        expect(failureChain(err)).toMatch(new RegExp(`FileListsTimedOut[\\s\\S]*the sig-level file lists: writer ${writerId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} did not answer within 10 s`));
        // The lock was given back: a second lists run gets its turn (and, the writer still stuck, times out too).
        const second = await startRelease(client, site, testCatalogue(), { release: '9', sig: 'core', from: 'lists', listLevel: 'sig' }, { taskQueue, workflowId: uniqueQueue('lists-stuck2'), runtime });
        expect(failureChain(await second.result().catch((e: unknown) => e))).toMatch(/FileListsTimedOut/);
      } finally {
        hold.release();
        await client.workflow.getHandle(writerId).terminate('test over').catch(() => undefined);
      }
    });
  }, 180_000);
});
