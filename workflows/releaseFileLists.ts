// The file lists a release publishes once production holds it: the sig category, then the other levels the
// site configures (publish.fileListLevels, src/filelists/levels.ts), in the seed's order.
import { patched } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { fileListLevelDir, releaseFileListLevels } from '../src/filelists/levels.js';
import type { HostActivities } from './activityOptions.js';
import type { ReleaseRun } from './releaseRun.js';

export async function publishReleaseFileLists(run: ReleaseRun, r: ResolvedRelease, host: HostActivities): Promise<void> {
  for (const level of releaseFileListLevels(r.fileListLevels)) {
    // Runs recorded before the rocky level existed never configured it; the marker keeps that explicit.
    if (level === 'rocky' && !patched('file-list-level-rocky')) continue;
    const { dir, module, aliases } = fileListLevelDir(level, r.roots);
    run.result.fileLists.push(await host.long.publishFileLists({ dir, module, aliases, owner: r.owner }));
  }
}
