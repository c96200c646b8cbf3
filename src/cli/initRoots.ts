// `sigrelease init-roots`: marks the site's compose, staging and production roots, once, so that every run can
// tell a mounted root from an empty mount point or a mistyped path (src/config/roots.ts).
import type { Command } from 'commander';
import { CliError, EXIT } from '../client.js';
import { initRoots, RootMarkerError, ROOT_MARKER_FILE } from '../config/roots.js';
import { action, loadSiteConfig, print, type GlobalOptions } from './common.js';

export function registerInitRootsCommand(program: Command, globals: () => GlobalOptions) {
  program
    .command('init-roots')
    .description(`create the site's compose, staging and production roots if needed and write each one's ${ROOT_MARKER_FILE} marker (once)`)
    .addHelpText(
      'after',
      `\nRun it on the compose host with the shares mounted. A root that already has its marker is left alone; a root\n` +
        `marked as another root is refused (fix the site config instead).`,
    )
    .action(
      action(async () => {
        const site = loadSiteConfig(globals());
        let results;
        try {
          results = initRoots(site);
        } catch (e) {
          if (e instanceof RootMarkerError) throw new CliError(e.message, EXIT.badInput);
          throw new CliError((e as Error).message, EXIT.failed);
        }
        print(globals(), results, () => results.map((r) => `${r.kind.padEnd(10)} ${r.root}: ${r.action === 'kept' ? 'already marked' : r.action === 'created' ? 'created and marked' : 'marked'}`).join('\n'));
      }),
    );
}
