// A core 9 plan on the seed's site paths, for compose unit tests that need a real plan but no I/O.
import { releaseRequestSchema, type ReleaseRequestInput } from '../../src/config/schema.js';
import { loadCatalogue, parseSite, resolveSigRelease } from '../../src/config/load.js';
import { planCompose } from '../../src/compose/plan.js';

export const seedSite = parseSite({
  composeRoot: '/mnt/compose',
  stagingRoot: '/mnt/repos-staging',
  productionRoot: '/mnt/repos-production',
  repoBaseUrl: 'https://yumrepofs.build.resf.org/v1/projects',
  releases: { '9': { revision: '9.7' } },
});
const catalogue = loadCatalogue();

export function core9Plan(req: Partial<ReleaseRequestInput> = {}) {
  const request = releaseRequestSchema.parse({ release: '9', sig: 'core', ...req });
  return planCompose(request, resolveSigRelease(catalogue, seedSite, 'core', '9'), seedSite, '20260217.101500');
}
