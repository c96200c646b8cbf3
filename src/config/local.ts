// A site config whose roots live under one local folder: what the demo, the tests and the benchmarks use
// in place of /mnt/... on a compose host. The catalogue's git URLs are redirected to the fixture server.
import path from 'node:path';

export const CATALOGUE_GIT_BASE = 'https://git.rockylinux.org/staging/src/';

export function localSiteRaw(dir: string, opts: { repoBaseUrl: string; gitBaseUrl?: string; overrides?: Record<string, unknown> }): Record<string, unknown> {
  return {
    composeRoot: path.join(dir, 'mnt/compose'),
    stagingRoot: path.join(dir, 'mnt/repos-staging'),
    productionRoot: path.join(dir, 'mnt/repos-production'),
    repoBaseUrl: opts.repoBaseUrl,
    urlRewrites: opts.gitBaseUrl ? [{ from: CATALOGUE_GIT_BASE, to: opts.gitBaseUrl }] : [],
    releases: { '8': { revision: '8.10' }, '9': { revision: '9.7' }, '10': { revision: '10.0' } },
    owner: null,
    ...opts.overrides,
    // Local runs do not wait for mirrors' clients: no grace before deletions unless a caller asks for one.
    publish: { metadataGrace: '0s', ...(opts.overrides?.publish as Record<string, unknown> | undefined) },
  };
}
