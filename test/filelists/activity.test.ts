import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishFileLists, type PublishFileListsResult } from '../../activities/filelists.js';
import { buildWorkedExample, tempDir } from './fixture.js';

/** Records what the activity logs, and keeps the test output clean. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string, message: string) => void lines.push(`${level} ${message}`);
  return {
    lines,
    log,
    trace: (m) => log('TRACE', m),
    debug: (m) => log('DEBUG', m),
    info: (m) => log('INFO', m),
    warn: (m) => log('WARN', m),
    error: (m) => log('ERROR', m),
  };
}

describe('publishFileLists activity', () => {
  let dir: string;

  beforeEach(() => {
    dir = tempDir('activity-');
    buildWorkedExample(dir);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes, heartbeats the number of rows listed, and logs warnings through the activity logger', async () => {
    const logger = recordingLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const aliases = ['fullfiletimelist', 'fullfiletimelist-rocky-linux'];
    const result = (await env.run(publishFileLists, { dir, module: 'sig', aliases })) as PublishFileListsResult;
    expect(result.changed).toEqual(['fullfilelist', 'fullfiletimelist-sig', 'imagelist-sig', ...aliases]);
    expect(heartbeats.at(-1)).toEqual({ entries: 12 });
    expect(logger.lines).toContain('WARN Could not stat ./dangling.  Dangling symlink?');
  });

  it('also runs outside a worker (no activity context)', async () => {
    fs.rmSync(path.join(dir, 'dangling')); // its warning would go to stderr here
    const result = await publishFileLists({ dir, module: 'sig', checksumNames: ['README'] });
    expect(result.entries).toBe(12);
    expect(fs.readFileSync(path.join(dir, 'fullfiletimelist-sig'), 'utf8')).toMatch(/\[Checksums SHA1\]\n[0-9a-f]{40}\tREADME\n\n/);
  });

  it('turns a bad file name into a non-retryable BadFileName failure', async () => {
    fs.writeFileSync(path.join(dir, 'new\nline'), '');
    const err = await new MockActivityEnvironment({}, { logger: recordingLogger() }).run(publishFileLists, { dir, module: 'sig' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BadFileName', nonRetryable: true });
    expect((err as Error).message).toContain('./new\\nline');
    expect(fs.existsSync(path.join(dir, 'fullfiletimelist-sig'))).toBe(false);
  });
});
