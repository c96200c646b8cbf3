// sig/release labels: read from a workflow's input (the release request, or the compose child's plan) and
// carried to activities in one header. Pure, and safe in the workflow sandbox.
import type { ReleaseLabels } from './names.js';

export const RELEASE_LABELS_HEADER = 'sigrelease-release-labels';

/**
 * SAFE_NAME of src/config/schema.ts, repeated so that zod stays out of the workflow bundle; a unit test keeps
 * the two equal.
 */
export const LABEL_SIG = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
const RELEASE = /^[0-9]+$/;

/** The labels of a workflow run from its first argument, or null for runs that are not about one release. */
export function releaseLabelsOf(input: unknown): ReleaseLabels | null {
  const o = input as { sig?: unknown; release?: unknown; plan?: { sig?: unknown; release?: unknown } } | null | undefined;
  return checkedLabels(o?.plan ?? o);
}

/**
 * Labels as they arrive in a header or an input: only a SIG name and a major release pass. Anything else (a
 * start from the `temporal` CLI with odd JSON, which resolveRelease refuses anyway) is not a label value:
 * unbounded or odd label values would blow up Prometheus.
 */
export function checkedLabels(v: unknown): ReleaseLabels | null {
  const o = v as { sig?: unknown; release?: unknown } | null | undefined;
  const sig = o?.sig;
  const release = typeof o?.release === 'number' ? String(o.release) : o?.release;
  if (typeof sig !== 'string' || typeof release !== 'string') return null;
  if (!LABEL_SIG.test(sig) || sig.length > 100 || !RELEASE.test(release) || release.length > 6) return null;
  return { sig, release };
}
