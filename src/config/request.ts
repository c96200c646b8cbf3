// From a raw request (CLI flags, `temporal workflow start --input`, a schedule) to a validated request
// checked against the catalogue: the one gate every entry point goes through before anything is touched.
import { describeZodError, releaseRequestSchema, type ReleaseRequest, type SiteConfig } from './schema.js';
import { ConfigError, resolveSigRelease, type Catalogue, type ResolvedSigRelease } from './load.js';

export interface CheckedRequest {
  request: ReleaseRequest;
  resolved: ResolvedSigRelease;
}

export function checkRequest(raw: unknown, catalogue: Catalogue, site: SiteConfig): CheckedRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`release request: must be a JSON object such as {"release":"9","sig":"core"}, got ${JSON.stringify(raw)}`);
  }
  const parsed = releaseRequestSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(describeZodError('release request', parsed.error));
  const request = parsed.data;
  const resolved = resolveSigRelease(catalogue, site, request.sig, request.release);
  const known = Object.keys(resolved.entry.repos);
  for (const repo of request.repos ?? []) {
    if (!known.includes(repo)) {
      throw new ConfigError(`unknown repo ${JSON.stringify(repo)} for ${request.sig} ${request.release}; known: ${known.join(', ')}`);
    }
  }
  return { request, resolved };
}

/**
 * The request flags that weaken a check, each as a line a person reads at the gate, in `status` and in the
 * approval notification: whoever approves must know the compose skipped signature checks, or that deletions
 * beyond the guard were asked for. Empty when the request weakens nothing. Pure.
 */
export function describeRequestOverrides(request: Pick<ReleaseRequest, 'allowLargeDeletion' | 'disableGpgCheck' | 'disableRepoGpgCheck'>): string[] {
  const out: string[] = [];
  if (request.disableGpgCheck) out.push('disableGpgCheck: package signatures were NOT checked during the compose');
  if (request.disableRepoGpgCheck) out.push('disableRepoGpgCheck: repository metadata signatures (repomd.xml.asc) were NOT checked during the compose');
  if (request.allowLargeDeletion) {
    out.push('allowLargeDeletion: the request lets syncs delete more than publish.maxDeleteShare; production deletes at most what the gate preview shows');
  }
  return out;
}
