// What the compose integration tests share: a small core 9 fixture of each test's own, and a wait for the next
// compose stamp.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { composeStamp } from '../../src/paths.js';
import { CORE9_KEY_GIT_PATH, CORE9_PROJECT_ID, buildYumrepofs, fixtureSpecForSig, startYumrepofs, type FixtureTree, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { waitFor } from '../helpers/temporal.js';

/** Composes are dated to the second: wait until the next run gets a folder of its own. */
export async function nextStamp(): Promise<void> {
  const stamp = composeStamp(Date.now());
  await waitFor('the compose stamp to move to the next second', async () => (composeStamp(Date.now()) !== stamp ? true : undefined), 5_000, 50);
}

/**
 * Returns a maker of small core 9 (x86_64 only) fixtures, each in a folder of its own served by its own fixture
 * server, so tests can change theirs without disturbing each other; the servers close after each test.
 */
export function coreFixtures(label: string): () => Promise<{ tree: FixtureTree; yum: YumrepofsServer }> {
  const servers: YumrepofsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async () => {
    const tree = await buildYumrepofs(
      fs.mkdtempSync(path.join(os.tmpdir(), `sigrelease-${label}-yum-`)),
      fixtureSpecForSig({ projectId: CORE9_PROJECT_ID, repos: { 'core-common': ['x86_64'], 'core-infra': ['x86_64'] }, keyGitPath: CORE9_KEY_GIT_PATH }),
    );
    const yum = await startYumrepofs({ root: tree.root });
    servers.push(yum);
    return { tree, yum };
  };
}
