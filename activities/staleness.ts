// How old the source metadata of a compose is, for the approval gate: reads the compose's manifest and the
// previous compose's (the newest older compose of the SIG with a manifest) and judges them
// (src/compose/staleness.ts). Paths are re-derived from the worker's site config; the compose is named, and
// refused unless it is a dated compose of the SIG and release under the compose root.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { durationMs } from '../workflows/duration.js';
import { composeBase } from '../src/paths.js';
import { assessStaleness, type SourceMetadata, type StaleReport } from '../src/compose/staleness.js';
import { parseComposeFolder, type ComposeFolder } from '../src/retention/plan.js';
import { pruneTargets } from '../src/retention/targets.js';
import type { ReleaseDeps } from './release.js';

interface ManifestView {
  composeId: string;
  sourceMetadata?: SourceMetadata[];
}

async function readManifest(base: string, f: ComposeFolder): Promise<ManifestView | null> {
  const text = await fs.readFile(path.join(base, f.name, 'work', `manifest-${f.stamp}.json`), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as ManifestView;
  } catch {
    return null;
  }
}

export function createStalenessActivities(deps: ReleaseDeps) {
  return {
    /** The staleness of a compose's source metadata; null when its manifest recorded none (older composes). */
    async sourceMetadataStaleness(input: { release: string; sig: string; composeDir: string }): Promise<StaleReport | null> {
      const [target] = (() => {
        try {
          return pruneTargets(deps.catalogue, deps.site, { release: input.release, sig: input.sig });
        } catch (e) {
          throw ApplicationFailure.create({ type: 'BadStalenessRequest', nonRetryable: true, message: (e as Error).message });
        }
      })();
      const base = composeBase(deps.site, target!.release);
      const current = parseComposeFolder(path.basename(String(input.composeDir)), target!.sig);
      if (!current || path.resolve(String(input.composeDir)) !== path.join(base, current.name)) {
        throw ApplicationFailure.create({ type: 'BadStalenessRequest', nonRetryable: true, message: `${JSON.stringify(input.composeDir)} is not a compose of ${target!.sig} ${target!.release} in ${base}` });
      }
      const mine = await readManifest(base, current);
      if (!mine?.sourceMetadata) return null;
      const older = (await fs.readdir(base).catch(() => [] as string[]))
        .flatMap((n) => parseComposeFolder(n, target!.sig) ?? [])
        .filter((f) => f.stamp < current.stamp)
        .sort((a, b) => b.stamp.localeCompare(a.stamp));
      let previous: { composeId: string; repos: SourceMetadata[] } | null = null;
      for (const f of older) {
        const m = await readManifest(base, f);
        if (m?.sourceMetadata) {
          previous = { composeId: m.composeId, repos: m.sourceMetadata };
          break;
        }
      }
      return assessStaleness(mine.sourceMetadata, previous, Date.now(), durationMs(deps.site.compose.staleAfter));
    },
  };
}
