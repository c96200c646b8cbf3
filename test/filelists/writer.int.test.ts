// The file-list writer of a level against the real dev server: one walk at a time, and requests that arrive
// during a walk coalesce into exactly one more walk. The walks are the real publisher's over a real tree; the
// first one waits at a hold until the test has sent its requests.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFileLists, type PublishFileListsInput } from '../../activities/filelists.js';
import { productionCategory } from '../../src/paths.js';
import { fileListWriterId, type FileListWriterResult } from '../../workflows/fileListWriter.js';
import { fileListsRequestedSignal } from '../../workflows/messages.js';
import { failureChain, testSite, uniqueQueue, withWorkers } from '../helpers/temporal.js';
import { Hold } from '../operations/fakes.js';

describe('the file-list writer of a level', () => {
  it('turns three requests during one walk into exactly one more walk, with the real lists published', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const category = productionCategory(site);
    fs.mkdirSync(path.join(category, '9', 'core', 'x86_64'), { recursive: true });
    fs.writeFileSync(path.join(category, '9', 'core', 'x86_64', 'a.rpm'), 'a');
    const firstWalk = new Hold();
    const walks: string[] = [];
    const countedWalk = async (input: PublishFileListsInput) => {
      walks.push(input.dir);
      if (walks.length === 1) await firstWalk.wait();
      return publishFileLists(input);
    };
    const taskQueue = uniqueQueue('filelist-writer');
    await withWorkers({ site, taskQueue, activityOverrides: { publishFileLists: countedWalk } }, async ({ client }) => {
      const request = () => client.workflow.signalWithStart('fileListWriter', { workflowId: fileListWriterId('sig'), taskQueue, args: [{ level: 'sig' }], signal: fileListsRequestedSignal });
      const writer = await request();
      await firstWalk.reached;
      // Written during the walk: only a later walk can list it.
      fs.writeFileSync(path.join(category, '9', 'core', 'x86_64', 'b.rpm'), 'bb');
      for (let i = 0; i < 3; i++) expect((await request()).signaledRunId).toBe(writer.signaledRunId);
      firstWalk.release();
      const result: FileListWriterResult = await client.workflow.getHandle(writer.workflowId, writer.signaledRunId).result();
      expect(result.walks).toBe(2);
      expect(walks).toEqual([category, category]);
      const timelist = fs.readFileSync(path.join(category, 'fullfiletimelist-sig'), 'utf8');
      expect(timelist).toMatch(/\t9\/core\/x86_64\/b\.rpm\n/);

      // Once idle, a request starts the writer again: one walk.
      const again = await request();
      expect(again.signaledRunId).not.toBe(writer.signaledRunId);
      expect(((await client.workflow.getHandle(again.workflowId, again.signaledRunId).result()) as FileListWriterResult).walks).toBe(1);
      expect(walks).toHaveLength(3);
    });
  }, 180_000);

  it('refuses a level it does not know, naming it, before any walk', async () => {
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const taskQueue = uniqueQueue('filelist-writer-bad');
    await withWorkers({ site, taskQueue }, async ({ client }) => {
      const err = await client.workflow.execute('fileListWriter', { workflowId: `bad-${taskQueue}`, taskQueue, args: [{ level: '../../etc' }] }).catch((e: unknown) => e);
      expect(failureChain(err)).toMatch(/BadFileListLevel unknown file-list level "\.\.\/\.\.\/etc"/);
    });
  }, 120_000);
});
