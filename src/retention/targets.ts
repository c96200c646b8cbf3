// What a prune request may name: one SIG and release of the worker's catalogue, or nothing (every SIG and release
// the catalogue and the site both know). The request is untrusted: the CLI checks it before connecting, and the
// activity checks it again on the worker, which trusts only its own catalogue.
import { ConfigError, resolveSigRelease, type Catalogue } from '../config/load.js';
import { SAFE_NAME, type SiteConfig } from '../config/schema.js';

export interface PruneTarget {
  release: string;
  sig: string;
}

export interface PruneRequest {
  release?: unknown;
  sig?: unknown;
  dryRun?: unknown;
}

/** The SIG and release pairs a prune request covers; ConfigError naming the value when it is not a known pair. */
export function pruneTargets(catalogue: Catalogue, site: SiteConfig, request: PruneRequest): PruneTarget[] {
  const { release, sig } = request;
  if (request.dryRun !== undefined && typeof request.dryRun !== 'boolean') throw new ConfigError(`dryRun must be true or false (got ${JSON.stringify(request.dryRun)})`);
  if (release === undefined && sig === undefined) {
    const all: PruneTarget[] = [];
    for (const name of Object.keys(catalogue).sort()) {
      for (const rel of Object.keys(catalogue[name]!.releases).sort()) if (site.releases[rel]) all.push({ release: rel, sig: name });
    }
    return all;
  }
  if (release === undefined || sig === undefined) throw new ConfigError('name both the release and the SIG (prune <release> <sig>), or neither for every SIG and release');
  if (typeof release !== 'string' || !/^[0-9]+$/.test(release)) throw new ConfigError(`release ${JSON.stringify(release)} must be a major version such as "9"`);
  if (typeof sig !== 'string' || !SAFE_NAME.test(sig)) throw new ConfigError(`sig ${JSON.stringify(sig)} must be a SIG name such as "core"`);
  resolveSigRelease(catalogue, site, sig, release);
  return [{ release, sig }];
}

/** One workflow per target (or `all`), so two prunes of the same composes never run at once. */
export const pruneWorkflowId = (target: PruneTarget | null) => (target ? `sigrelease-prune-${target.sig}-${target.release}` : 'sigrelease-prune-all');
